// The browser's half of a passkey ceremony. The server's begin mutations
// answer {"publicKey": {...}}: the options in WebAuthn's JSON form (binary
// fields base64url). The browser's own PublicKeyCredential.parse*FromJSON
// turns them into what navigator.credentials takes, and credential.toJSON()
// turns its answer back into the JSON the finish mutations take. Browsers
// without those three (Safari before 18.4, Chrome before 129) get the small
// fallback at the end of this file.
import { describeError, graphQLErrorsOf, toFormErrors, type FormErrors } from "./errors";

/**
 * The browser said no (a DOMException from navigator.credentials): the prompt
 * was closed, timed out, the device already holds a passkey for the account, …
 * `name` is the DOMException's ("NotAllowedError", "InvalidStateError", …).
 */
export class CeremonyError extends Error {
  constructor(
    readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** navigator.credentials with public-key credentials: false in old browsers and on plain http (other than localhost). */
export function passkeysSupported(): boolean {
  return typeof window !== "undefined" && window.isSecureContext && typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

/** Whether the browser can offer passkeys in the autofill list of a field marked `autocomplete="… webauthn"`. */
export async function conditionalMediationAvailable(): Promise<boolean> {
  if (!passkeysSupported()) return false;
  const pkc = PublicKeyCredential as Partial<typeof PublicKeyCredential>;
  try {
    return (await pkc.isConditionalMediationAvailable?.()) === true;
  } catch {
    return false;
  }
}

/** Makes a passkey with the options of beginPasskeyRegistration; returns what finishPasskeyRegistration takes. */
export async function createPasskey(begun: unknown): Promise<unknown> {
  const publicKey = creationOptions(publicKeyOf(begun) as unknown as PublicKeyCredentialCreationOptionsJSON);
  const credential = await browserCall(() => navigator.credentials.create({ publicKey }));
  return credentialJSON(credential);
}

/**
 * Asks for a passkey with the options of beginPasskeySignIn; returns what
 * finishPasskeySignIn takes. With `mediation: "conditional"` the browser
 * offers the passkeys in the autofill list of the field marked `webauthn` and
 * waits (without a prompt) until one is picked or `signal` aborts.
 */
export async function getPasskey(begun: unknown, opts: { mediation?: CredentialMediationRequirement; signal?: AbortSignal } = {}): Promise<unknown> {
  const publicKey = requestOptions(publicKeyOf(begun) as unknown as PublicKeyCredentialRequestOptionsJSON);
  const credential = await browserCall(() => navigator.credentials.get({ publicKey, ...opts }));
  return credentialJSON(credential);
}

/**
 * What a form shows for a failed passkey step: the browser's refusals and
 * the server's INVALID_CREDENTIALS in plain words, BAD_USER_INPUT under the
 * field it names (`name`), the rest as toFormErrors words them.
 */
export function passkeyErrors(err: unknown, purpose: "sign-in" | "register", knownFields: readonly string[] = []): FormErrors {
  if (err instanceof CeremonyError) {
    return { fields: {}, form: browserWords(err, purpose), codes: [err.name] };
  }
  const fe = toFormErrors(err, knownFields);
  if (graphQLErrorsOf(err).some((e) => e.extensions?.code === "INVALID_CREDENTIALS")) {
    const rest = graphQLErrorsOf(err).filter((e) => e.extensions?.code !== "INVALID_CREDENTIALS" && !(e.extensions?.code === "BAD_USER_INPUT" && knownFields.includes(String(e.extensions?.field))));
    const words =
      purpose === "sign-in"
        ? "That passkey did not sign you in: it is not (or no longer) registered here, or the sign-in took too long. Try again, or sign in with your email and password."
        : "The passkey could not be checked (or adding it took too long). Try again.";
    fe.form = [words, ...rest.map(describeError)].join(" ");
  }
  return fe;
}

function browserWords(err: CeremonyError, purpose: "sign-in" | "register"): string {
  switch (err.name) {
    case "NotAllowedError":
      return purpose === "sign-in"
        ? "No passkey was used: the prompt was closed or timed out, or this device has no passkey for this site."
        : "No passkey was made: the prompt was closed or timed out.";
    case "InvalidStateError":
      return "This device already has a passkey for your account: you can sign in with it.";
    case "SecurityError":
      return "Passkeys do not work on this page's address: the server's WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS must name this site.";
    case "NotSupportedError":
      return purpose === "sign-in" ? "This browser or device cannot use a passkey here." : "This browser or device cannot make a passkey that works here.";
    case "AbortError":
      return "Cancelled.";
    case "Unsupported":
      return "This browser does not support passkeys.";
    case "BadOptions":
      return `The server's passkey options could not be read: ${err.message}`;
    default:
      return `The browser refused: ${err.message}`;
  }
}

/** Runs a navigator.credentials call; its DOMException comes back as a CeremonyError. */
async function browserCall(call: () => Promise<Credential | null>): Promise<PublicKeyCredential> {
  if (!passkeysSupported()) throw new CeremonyError("Unsupported", "no PublicKeyCredential");
  let credential: Credential | null;
  try {
    credential = await call();
  } catch (e) {
    if (e instanceof CeremonyError) throw e;
    const name = e instanceof Error || e instanceof DOMException ? e.name : "Error";
    throw new CeremonyError(name === "TypeError" ? "BadOptions" : name, e instanceof Error || e instanceof DOMException ? e.message : String(e));
  }
  if (!(credential instanceof PublicKeyCredential)) throw new CeremonyError("NotAllowedError", "no credential");
  return credential;
}

/** The `publicKey` member of a begin mutation's answer. */
function publicKeyOf(begun: unknown): Record<string, unknown> {
  const pk = (begun as { publicKey?: unknown } | null)?.publicKey;
  if (!pk || typeof pk !== "object") throw new CeremonyError("BadOptions", "no publicKey object");
  return pk as Record<string, unknown>;
}

function creationOptions(json: PublicKeyCredentialCreationOptionsJSON): PublicKeyCredentialCreationOptions {
  const pkc = PublicKeyCredential as Partial<typeof PublicKeyCredential>;
  try {
    if (pkc.parseCreationOptionsFromJSON) return pkc.parseCreationOptionsFromJSON(json);
    return {
      ...(json as unknown as PublicKeyCredentialCreationOptions),
      challenge: fromBase64url(json.challenge),
      user: { ...json.user, id: fromBase64url(json.user.id) },
      excludeCredentials: json.excludeCredentials?.map(descriptor),
    };
  } catch (e) {
    throw new CeremonyError("BadOptions", e instanceof Error ? e.message : String(e));
  }
}

function requestOptions(json: PublicKeyCredentialRequestOptionsJSON): PublicKeyCredentialRequestOptions {
  const pkc = PublicKeyCredential as Partial<typeof PublicKeyCredential>;
  try {
    if (pkc.parseRequestOptionsFromJSON) return pkc.parseRequestOptionsFromJSON(json);
    return {
      ...(json as unknown as PublicKeyCredentialRequestOptions),
      challenge: fromBase64url(json.challenge),
      allowCredentials: json.allowCredentials?.map(descriptor),
    };
  } catch (e) {
    throw new CeremonyError("BadOptions", e instanceof Error ? e.message : String(e));
  }
}

function credentialJSON(c: PublicKeyCredential): unknown {
  if (typeof (c as Partial<PublicKeyCredential>).toJSON === "function") return c.toJSON();
  const r = c.response;
  const response =
    r instanceof AuthenticatorAttestationResponse
      ? {
          clientDataJSON: toBase64url(r.clientDataJSON),
          attestationObject: toBase64url(r.attestationObject),
          transports: r.getTransports?.() ?? [],
        }
      : {
          clientDataJSON: toBase64url(r.clientDataJSON),
          authenticatorData: toBase64url((r as AuthenticatorAssertionResponse).authenticatorData),
          signature: toBase64url((r as AuthenticatorAssertionResponse).signature),
          userHandle: (r as AuthenticatorAssertionResponse).userHandle ? toBase64url((r as AuthenticatorAssertionResponse).userHandle!) : null,
        };
  return {
    id: c.id,
    rawId: toBase64url(c.rawId),
    type: c.type,
    authenticatorAttachment: c.authenticatorAttachment,
    clientExtensionResults: c.getClientExtensionResults(),
    response,
  };
}

function descriptor(d: PublicKeyCredentialDescriptorJSON): PublicKeyCredentialDescriptor {
  return { type: d.type as PublicKeyCredentialType, id: fromBase64url(d.id), transports: d.transports as AuthenticatorTransport[] | undefined };
}

function fromBase64url(s: string): ArrayBuffer {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function toBase64url(buf: ArrayBuffer): string {
  let bin = "";
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
