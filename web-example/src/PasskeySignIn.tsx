// Signing in with a passkey, for the Apollo sign-in page and the urql
// screen alike: each passes its own beginPasskeySignIn and
// finishPasskeySignIn calls (finish resolves once signed in, or throws the
// client's error). Two ways in:
//   - the button: a modal navigator.credentials.get (the browser's prompt);
//   - autofill: where the browser offers it (isConditionalMediationAvailable),
//     a get with `mediation: "conditional"` waits from the moment the form
//     shows, and the browser lists the site's passkeys under the email field
//     (`autocomplete="username webauthn"`); picking one signs in.
// A browser takes one request at a time, so the button first aborts the
// waiting autofill request (and waits for its begin call, whose ceremony
// cookie must not land after the button's own).
import { useEffect, useRef, useState } from "react";
import { FormError } from "./Field";
import { formatSeconds, noErrors, type FormErrors } from "./errors";
import { useRetryAfter } from "./retryAfter";
import { CeremonyError, conditionalMediationAvailable, getPasskey, passkeyErrors, passkeysSupported } from "./webauthn";

export interface PasskeyCalls {
  /** beginPasskeySignIn: the request options ({"publicKey": {...}}). */
  begin: () => Promise<unknown>;
  /** finishPasskeySignIn(credential): resolves once signed in. */
  finish: (credential: unknown) => Promise<void>;
}

export interface PasskeySignIn {
  /** Starts the modal ceremony (the button). */
  signIn: () => Promise<void>;
  /** "prompt" while the browser asks for the passkey, "finish" while the server checks it. */
  busy: false | "prompt" | "finish";
  errors: FormErrors;
  /** "waiting" while an autofill (conditional) request is pending: the browser offers passkeys under the email field. */
  autofill: "off" | "waiting";
  /** RATE_LIMITED: seconds before the button may be used again. */
  waitSeconds: number;
}

/**
 * The passkey sign-in of a form that is shown while `enabled` (signed out).
 * The email field gets `autocomplete="username webauthn"` for the autofill.
 */
export function usePasskeySignIn(calls: PasskeyCalls, enabled: boolean): PasskeySignIn {
  const latest = useRef(calls);
  latest.current = calls;
  const [busy, setBusy] = useState<PasskeySignIn["busy"]>(false);
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [autofill, setAutofill] = useState<"off" | "waiting">("off");
  const [armed, setArmed] = useState(0); // a new autofill request after the user closes the button's prompt
  const pending = useRef<{ abort: AbortController; begun: Promise<void> } | null>(null);
  const retry = useRetryAfter();
  // Uses state setters only, so the autofill effect may keep its first copy.
  const fail = (err: unknown) => {
    setErrors(passkeyErrors(err, "sign-in"));
    retry.holdAfter(err);
  };

  // Autofill: one conditional request while the form shows. It reads only
  // refs and state setters: it starts again only when `enabled` or `armed` changes.
  useEffect(() => {
    if (!enabled || !passkeysSupported()) return;
    const abort = new AbortController();
    // Settles once this request's begin call has (or will not be made): the
    // button waits for it, so that this ceremony cookie cannot land after its own.
    let begun!: () => void;
    pending.current = { abort, begun: new Promise<void>((resolve) => (begun = resolve)) };
    void (async () => {
      let credential: unknown;
      try {
        let options: unknown;
        try {
          if (!(await conditionalMediationAvailable()) || abort.signal.aborted) return;
          options = await latest.current.begin();
        } finally {
          begun();
        }
        if (abort.signal.aborted) return;
        setAutofill("waiting");
        credential = await getPasskey(options, { mediation: "conditional", signal: abort.signal });
      } catch (err) {
        // Aborted, or no autofill this time (the server refused to begin, the
        // browser gave up): the button still works, and says why if it fails.
        if (!abort.signal.aborted) console.warn("passkey autofill stopped:", err);
        return;
      } finally {
        setAutofill("off");
        if (pending.current?.abort === abort) pending.current = null;
      }
      if (abort.signal.aborted) return;
      // Picked from the autofill list. A refusal is shown and not retried:
      // the same pick would only be refused again.
      setBusy("finish");
      setErrors(noErrors);
      try {
        await latest.current.finish(credential);
      } catch (err) {
        fail(err);
      } finally {
        setBusy(false);
      }
    })();
    return () => abort.abort();
  }, [enabled, armed]);

  async function signIn() {
    const waiting = pending.current;
    pending.current = null;
    setBusy("prompt");
    setErrors(noErrors);
    try {
      if (waiting) {
        waiting.abort.abort();
        await waiting.begun;
      }
      const credential = await getPasskey(await latest.current.begin());
      setBusy("finish");
      await latest.current.finish(credential);
    } catch (err) {
      fail(err);
      // Nothing reached the server (the prompt was closed): offer autofill again.
      if (err instanceof CeremonyError) setArmed((n) => n + 1);
    } finally {
      setBusy(false);
    }
  }

  return { signIn, busy, errors, autofill, waitSeconds: retry.waitSeconds };
}

/** "Sign in with a passkey" and what went wrong; nothing in a browser without passkeys. */
export function PasskeyButton({ passkey, disabled = false }: { passkey: PasskeySignIn; disabled?: boolean }) {
  if (!passkeysSupported()) return null;
  const wait = passkey.waitSeconds;
  return (
    <div className="passkey-signin" data-testid="passkey-signin">
      <span className="muted">or</span>
      <button type="button" className="secondary" onClick={() => void passkey.signIn()} disabled={disabled || passkey.busy !== false || wait > 0} data-testid="passkey-sign-in">
        {wait > 0
          ? `Sign in with a passkey (wait ${formatSeconds(wait)})`
          : passkey.busy === "prompt"
            ? "Waiting for your passkey…"
            : passkey.busy === "finish"
              ? "Signing in…"
              : "Sign in with a passkey"}
      </button>
      <FormError message={passkey.errors.form} code={passkey.errors.codes[0]} />
    </div>
  );
}
