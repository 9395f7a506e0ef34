import { useApolloClient, useQuery } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "../Field";
import { describeError, formatSeconds, graphQLErrorsOf, noErrors, toFormErrors, type FormErrors } from "../errors";
import { describeAgent, formatTime, relative } from "../format";
import {
  BEGIN_TOTP_SETUP,
  CONFIRM_TOTP_SETUP,
  DISABLE_TOTP,
  ME,
  REGENERATE_RECOVERY_CODES,
  SECURITY_EVENTS,
  type SecurityEvent,
  type SecurityEventKind,
  type User,
} from "../operations";
import { useRetryAfter } from "../retryAfter";
import { useLocation } from "../router";
import { Passkeys } from "./Passkeys";

/** How many log entries a page shows unless ?first=N (1 to 100) says otherwise. */
const LOG_PAGE_SIZE = 20;

/**
 * /security: two-step sign-in (TOTP) on or off, recovery codes, passkeys,
 * and the account's security log. `?first=N` sets the log's page size.
 */
export function Security({ me }: { me: User }) {
  const loc = useLocation();
  const asked = Number(new URLSearchParams(loc.search).get("first"));
  const first = Number.isInteger(asked) && asked >= 1 && asked <= 100 ? asked : LOG_PAGE_SIZE;
  return (
    <>
      <TwoStep me={me} />
      <Passkeys />
      <SecurityLog first={first} />
    </>
  );
}

type Step =
  | { kind: "idle" }
  | { kind: "password"; purpose: "enable" | "regenerate" }
  | { kind: "scan"; secret: string; uri: string; qrCode: string }
  | { kind: "codes"; codes: string[]; purpose: "enable" | "regenerate" }
  | { kind: "disable" };

/**
 * A failed call that needs the password (and perhaps a code): the server
 * answers a wrong one with INVALID_CREDENTIALS, naming the field in
 * extensions.field; it shows under that field.
 */
function credentialErrors(err: unknown, messages: Record<string, string>, otherwise: string): FormErrors {
  const fe = toFormErrors(err, Object.keys(messages));
  const wrong = graphQLErrorsOf(err).find((e) => e.extensions?.code === "INVALID_CREDENTIALS");
  if (!wrong) return fe;
  const field = wrong.extensions?.field;
  if (typeof field === "string" && field in messages) fe.fields[field] = messages[field];
  else fe.fields[Object.keys(messages)[0]] = otherwise;
  const rest = graphQLErrorsOf(err).filter((e) => e !== wrong && !(e.extensions?.code === "BAD_USER_INPUT" && String(e.extensions?.field) in messages));
  fe.form = rest.length ? rest.map(describeError).join(" ") : null;
  return fe;
}

const WRONG_PASSWORD = "The password is not right.";
const WRONG_CODE = "That code is not right. Enter the one your app shows now.";

function TwoStep({ me }: { me: User }) {
  const client = useApolloClient();
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const retry = useRetryAfter();

  function go(next: Step) {
    setStep(next);
    setPassword("");
    setCode("");
    setErrors(noErrors);
    if (next.kind !== "idle") setMessage(null);
  }

  /** `me.totpEnabled` and the log change with every step that succeeds. */
  const refresh = () => client.refetchQueries({ include: [ME, SECURITY_EVENTS] }).catch(() => undefined);

  async function run(action: () => Promise<void>, onError: (err: unknown) => FormErrors) {
    setBusy(true);
    setErrors(noErrors);
    try {
      await action();
    } catch (err) {
      setErrors(onError(err));
      retry.holdAfter(err);
    } finally {
      setBusy(false);
    }
  }

  const withPassword = (purpose: "enable" | "regenerate") => (e: FormEvent) => {
    e.preventDefault();
    void run(
      async () => {
        if (purpose === "enable") {
          const { data } = await client.mutate({ mutation: BEGIN_TOTP_SETUP, variables: { currentPassword: password } });
          go({ kind: "scan", ...data!.beginTotpSetup });
        } else {
          const { data } = await client.mutate({ mutation: REGENERATE_RECOVERY_CODES, variables: { currentPassword: password } });
          go({ kind: "codes", codes: data!.regenerateRecoveryCodes, purpose });
          void refresh();
        }
      },
      (err) => credentialErrors(err, { currentPassword: WRONG_PASSWORD }, WRONG_PASSWORD),
    );
  };

  const confirm = (e: FormEvent) => {
    e.preventDefault();
    void run(
      async () => {
        const { data } = await client.mutate({ mutation: CONFIRM_TOTP_SETUP, variables: { code: code.replace(/\s+/g, "") } });
        go({ kind: "codes", codes: data!.confirmTotpSetup, purpose: "enable" });
        void refresh();
      },
      (err) => credentialErrors(err, { code: WRONG_CODE }, WRONG_CODE),
    );
  };

  const disable = (e: FormEvent) => {
    e.preventDefault();
    void run(
      async () => {
        await client.mutate({ mutation: DISABLE_TOTP, variables: { currentPassword: password, code: code.trim() } });
        go({ kind: "idle" });
        setMessage("Two-step sign-in is off. Signing in needs only your password now.");
        await refresh();
      },
      (err) =>
        credentialErrors(
          err,
          { currentPassword: WRONG_PASSWORD, code: "That code is not right (or that recovery code was already used)." },
          "The password or the code is not right.",
        ),
    );
  };

  const blockedFor = retry.waitSeconds;
  const submitLabel = (label: string, busyLabel: string) => (blockedFor > 0 ? `${label} (wait ${formatSeconds(blockedFor)})` : busy ? busyLabel : label);
  const cancel = (
    <button type="button" className="secondary" onClick={() => go({ kind: "idle" })} disabled={busy}>
      Cancel
    </button>
  );
  const passwordField = (
    <Field
      label="Your password"
      name="currentPassword"
      type="password"
      autoComplete="current-password"
      autoFocus
      value={password}
      onChange={(e) => setPassword(e.target.value)}
      error={errors.fields.currentPassword}
    />
  );

  let body;
  switch (step.kind) {
    case "idle":
      body = (
        <div className="row">
          {me.totpEnabled ? (
            <>
              <button onClick={() => go({ kind: "password", purpose: "regenerate" })} data-testid="regenerate-recovery-codes">
                New recovery codes
              </button>
              <button className="secondary" onClick={() => go({ kind: "disable" })} data-testid="totp-turn-off">
                Turn off
              </button>
            </>
          ) : (
            <button onClick={() => go({ kind: "password", purpose: "enable" })} data-testid="totp-turn-on">
              Turn on
            </button>
          )}
        </div>
      );
      break;
    case "password":
      body = (
        <form onSubmit={withPassword(step.purpose)} noValidate data-testid="totp-password-form" data-purpose={step.purpose}>
          <p className="muted">
            {step.purpose === "enable"
              ? "First, your password: turning this on changes how you sign in."
              : "New recovery codes replace the old ones: those stop working at once."}
          </p>
          {passwordField}
          <FormError message={errors.form} code={errors.codes[0]} />
          <div className="row">
            <button type="submit" disabled={busy || blockedFor > 0}>
              {submitLabel("Continue", "Checking…")}
            </button>
            {cancel}
          </div>
        </form>
      );
      break;
    case "scan":
      body = (
        <form onSubmit={confirm} noValidate data-testid="totp-confirm-form">
          <ol className="steps">
            <li>
              Scan this QR code with your authenticator app (Google Authenticator, 1Password, Aegis, …).
              <div>
                <img className="qr" src={step.qrCode} alt="QR code of the authenticator secret" width={200} height={200} data-testid="totp-qr" />
              </div>
              <p className="small muted">
                Can&apos;t scan it? Type this key into the app instead:{" "}
                <code className="secret" data-testid="totp-secret">
                  {step.secret}
                </code>{" "}
                (or <a href={step.uri}>open it in an app on this device</a>).
              </p>
            </li>
            <li>Enter the 6-digit code the app now shows for this account.</li>
          </ol>
          <Field
            label="Code from your app"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={7}
            autoFocus
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={errors.fields.code}
          />
          <FormError message={errors.form} code={errors.codes[0]} />
          <div className="row">
            <button type="submit" disabled={busy || blockedFor > 0}>
              {submitLabel("Turn on", "Turning on…")}
            </button>
            {cancel}
          </div>
        </form>
      );
      break;
    case "codes":
      body = (
        <RecoveryCodes
          codes={step.codes}
          intro={step.purpose === "enable" ? "Two-step sign-in is on." : "Your new recovery codes; the old ones no longer work."}
          onDone={() => {
            go({ kind: "idle" });
            setMessage(step.purpose === "enable" ? "Two-step sign-in is on. Keep your recovery codes safe." : "New recovery codes saved.");
          }}
        />
      );
      break;
    case "disable":
      body = (
        <form onSubmit={disable} noValidate data-testid="totp-disable-form">
          <p className="muted">Turning it off needs your password and a code from your app (or a recovery code).</p>
          {passwordField}
          <Field
            label="Code from your app, or a recovery code"
            name="code"
            autoComplete="one-time-code"
            spellCheck={false}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={errors.fields.code}
          />
          <FormError message={errors.form} code={errors.codes[0]} />
          <div className="row">
            <button type="submit" className="danger" disabled={busy || blockedFor > 0}>
              {submitLabel("Turn off", "Turning off…")}
            </button>
            {cancel}
          </div>
        </form>
      );
      break;
  }

  return (
    <section className="card" data-testid="two-step">
      <h1>Security</h1>
      <h2>Two-step sign-in</h2>
      <p className="status" data-testid="totp-status" data-enabled={me.totpEnabled ? "true" : "false"}>
        {me.totpEnabled ? (
          <>
            <span className="badge">On</span> After your password, signing in asks for a code from your authenticator app.
          </>
        ) : (
          <>
            <span className="badge badge-off">Off</span> Signing in needs only your password. Turn this on to also ask for a code from an
            authenticator app.
          </>
        )}
      </p>
      {body}
      {message && (
        <p className="flash" role="status" data-testid="security-message">
          {message}
        </p>
      )}
    </section>
  );
}

/** The recovery codes, shown this once: each signs in once instead of a code from the app. */
function RecoveryCodes({ codes, intro, onDone }: { codes: string[]; intro: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(codes.join("\n") + "\n");
      setCopied("Copied.");
    } catch {
      setCopied("Could not copy: select the codes and copy them yourself.");
    }
  }

  return (
    <div data-testid="recovery-codes-box">
      <p>
        <strong>{intro}</strong> Save these recovery codes somewhere safe (a password manager, or on paper). Each one signs you in once
        when you don&apos;t have your app. They are shown only now.
      </p>
      <ol className="recovery-codes" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code data-testid="recovery-code">{c}</code>
          </li>
        ))}
      </ol>
      <div className="row">
        <button type="button" className="secondary" onClick={copy} data-testid="copy-recovery-codes">
          Copy
        </button>
        <button type="button" onClick={onDone} data-testid="recovery-codes-saved">
          I saved them
        </button>
        {copied && (
          <span className="muted small" role="status" data-testid="copy-status">
            {copied}
          </span>
        )}
      </div>
    </div>
  );
}

/** What each kind of event is called here. */
const KIND_WORDS: Record<SecurityEventKind, string> = {
  SIGNED_IN: "Signed in",
  SIGN_IN_FAILED: "Failed sign-in attempt",
  SIGNED_OUT: "Signed out",
  SESSION_REVOKED: "A device was signed out",
  OTHER_SESSIONS_ENDED: "Signed out everywhere else",
  PASSWORD_CHANGED: "Password changed",
  PASSWORD_RESET_REQUESTED: "Password reset link requested",
  PASSWORD_RESET: "Password reset",
  EMAIL_CHANGED: "Email address changed",
  EMAIL_VERIFIED: "Email address verified",
  TOTP_ENABLED: "Two-step sign-in turned on",
  TOTP_DISABLED: "Two-step sign-in turned off",
  RECOVERY_CODE_USED: "Recovery code used",
  RECOVERY_CODES_REGENERATED: "New recovery codes made",
  PASSKEY_ADDED: "Passkey added",
  PASSKEY_REMOVED: "Passkey removed",
};

/** Kinds worth a second look. */
const WARNING_KINDS = new Set<SecurityEventKind>(["SIGN_IN_FAILED", "TOTP_DISABLED", "RECOVERY_CODE_USED", "PASSWORD_RESET"]);

/** The security log, newest first, a page at a time ("Load more" asks for the page after the last cursor). */
function SecurityLog({ first }: { first: number }) {
  const { data, loading, error, fetchMore, refetch } = useQuery(SECURITY_EVENTS, { variables: { first }, fetchPolicy: "cache-and-network" });
  const [more, setMore] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const log = data?.securityEvents;
  const firstError = graphQLErrorsOf(error)[0];

  async function loadMore() {
    if (!log?.pageInfo.endCursor) return;
    setMore({ busy: true, error: null });
    try {
      await fetchMore({ variables: { first, after: log.pageInfo.endCursor } });
      setMore({ busy: false, error: null });
    } catch (err) {
      const g = graphQLErrorsOf(err)[0];
      setMore({ busy: false, error: g ? describeError(g) : "Could not reach the server." });
    }
  }

  return (
    <section className="card" data-testid="security-log-card">
      <div className="row spread">
        <h2>Security log</h2>
        <button className="secondary small" onClick={() => void refetch()} disabled={loading || more.busy}>
          Refresh
        </button>
      </div>
      <p className="muted small">Sign-ins, sign-outs and changes to how you sign in, newest first, with the device and address they came from.</p>
      {error && !data && (
        <p className="form-error" role="alert">
          {firstError ? describeError(firstError) : error.message}
        </p>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
      {log && log.edges.length === 0 && <p className="muted">Nothing yet.</p>}
      {log && log.edges.length > 0 && (
        <table className="log" data-testid="security-log">
          <thead>
            <tr>
              <th>What</th>
              <th>When</th>
              <th>Device</th>
              <th>Address</th>
            </tr>
          </thead>
          <tbody>
            {log.edges.map(({ node }) => (
              <EventRow key={node.id} event={node} />
            ))}
          </tbody>
        </table>
      )}
      {log?.pageInfo.hasNextPage && (
        <button className="secondary" onClick={() => void loadMore()} disabled={more.busy} data-testid="security-log-more">
          {more.busy ? "Loading…" : "Load more"}
        </button>
      )}
      <FormError message={more.error} />
    </section>
  );
}

function EventRow({ event }: { event: SecurityEvent }) {
  const words = KIND_WORDS[event.kind] ?? event.kind;
  return (
    <tr data-testid="security-event" data-kind={event.kind} data-event-id={event.id} className={WARNING_KINDS.has(event.kind) ? "warn" : undefined}>
      <td data-testid="event-kind">{words}</td>
      <td title={formatTime(event.at)}>
        <time dateTime={event.at}>{formatTime(event.at)}</time>
        <div className="muted small">{relative(event.at)}</div>
      </td>
      <td title={event.userAgent ?? undefined}>{describeAgent(event.userAgent)}</td>
      <td>{event.ip ?? "unknown"}</td>
    </tr>
  );
}
