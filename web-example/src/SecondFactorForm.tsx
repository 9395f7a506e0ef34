// The second step of sign-in, after login (or resetPassword) answered
// SECOND_FACTOR_REQUIRED: the browser now holds a pending cookie (5 minutes,
// `me` is null under it) and verifySecondFactor(code) takes a 6-digit code
// from the authenticator app or one of the recovery codes. Used by the Apollo
// and the urql app alike: each passes its own verifySecondFactor call, which
// resolves once signed in or throws the client's error.
import { useState, type FormEvent } from "react";
import { Field, FormError } from "./Field";
import { formatSeconds, noErrors, toFormErrors, type FormErrors } from "./errors";
import { useRetryAfter } from "./retryAfter";

type Mode = "totp" | "recovery";

/** What a wrong code says (the answer is INVALID_CREDENTIALS). */
const WRONG: Record<Mode, string> = {
  totp: "That code is not right. Enter the one your app shows now (each code works once).",
  recovery: "That recovery code is not right, or it was already used.",
};

export function SecondFactorForm({
  verify,
  onRestart,
}: {
  verify: (code: string) => Promise<void>;
  /** Back to the password form: the pending sign-in lasts 5 minutes. */
  onRestart: () => void;
}) {
  const [mode, setMode] = useState<Mode>("totp");
  const [code, setCode] = useState("");
  const [recoveryCode, setRecoveryCode] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);
  const retry = useRetryAfter();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const field = mode === "totp" ? "code" : "recoveryCode";
    const value = mode === "totp" ? code.replace(/\s+/g, "") : recoveryCode.trim();
    if (mode === "totp" && !/^\d{6}$/.test(value)) {
      setErrors({ fields: { code: "Enter the 6 digits your app shows." }, form: null, codes: [] });
      return;
    }
    if (mode === "recovery" && !value) {
      setErrors({ fields: { recoveryCode: "Enter one of your recovery codes." }, form: null, codes: [] });
      return;
    }
    setBusy(true);
    setErrors(noErrors);
    try {
      await verify(value);
    } catch (err) {
      const fe = toFormErrors(err, ["code"]);
      if (fe.fields.code && field !== "code") {
        fe.fields[field] = fe.fields.code;
        delete fe.fields.code;
      }
      if (fe.codes[0] === "INVALID_CREDENTIALS") fe.form = WRONG[mode];
      // No pending sign-in (it expired, or this browser never had one).
      if (fe.codes[0] === "UNAUTHENTICATED") setExpired(true);
      setErrors(fe);
      retry.holdAfter(err);
    } finally {
      setBusy(false);
    }
  }

  function switchTo(m: Mode) {
    setMode(m);
    setErrors(noErrors);
  }

  if (expired) {
    return (
      <div data-testid="second-factor-expired">
        <p className="form-error" role="alert">
          This sign-in has expired (it waits 5 minutes for the code). Sign in again with your password.
        </p>
        <button type="button" onClick={onRestart} data-testid="sign-in-again">
          Sign in again
        </button>
      </div>
    );
  }

  const blockedFor = retry.waitSeconds;
  return (
    <form onSubmit={submit} noValidate data-testid="second-factor-form" data-mode={mode}>
      {mode === "totp" ? (
        <>
          <p className="muted">Open your authenticator app and enter the 6‑digit code it shows for this account.</p>
          <Field
            key="code"
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
        </>
      ) : (
        <>
          <p className="muted">Enter one of the recovery codes you saved when you turned on two-step sign-in. Each works once.</p>
          <Field
            key="recoveryCode"
            label="Recovery code"
            name="recoveryCode"
            autoComplete="off"
            spellCheck={false}
            placeholder="xxxx-xxxx-xxxx-xxxx"
            autoFocus
            value={recoveryCode}
            onChange={(e) => setRecoveryCode(e.target.value)}
            error={errors.fields.recoveryCode}
          />
        </>
      )}
      <p className="small field-aside">
        {mode === "totp" ? (
          <button type="button" className="link-button" onClick={() => switchTo("recovery")} data-testid="use-recovery-code">
            Use a recovery code instead
          </button>
        ) : (
          <button type="button" className="link-button" onClick={() => switchTo("totp")} data-testid="use-totp-code">
            Use a code from your app instead
          </button>
        )}
      </p>
      <FormError message={errors.form} code={errors.codes[0]} />
      <button type="submit" disabled={busy || blockedFor > 0}>
        {blockedFor > 0 ? `Verify (wait ${formatSeconds(blockedFor)})` : busy ? "Verifying…" : "Verify"}
      </button>
      <p className="muted small">
        Not you, or no code at hand?{" "}
        <button type="button" className="link-button" onClick={onRestart}>
          Start again
        </button>
      </p>
    </form>
  );
}
