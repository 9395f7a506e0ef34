import { useApolloClient } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "../Field";
import { codeOf, noErrors, toFormErrors, type FormErrors } from "../errors";
import { RESET_PASSWORD } from "../operations";
import { PasswordStrength } from "../PasswordStrength";
import { Link, navigate, useLocation } from "../router";
import { afterSignIn, afterSignOut, restartLiveUpdates, selfAction } from "../session";
import { secondStepPath } from "./SecondStep";

/**
 * The page a reset link opens (APP_URL/reset-password?token=…). resetPassword
 * ends every session of the account, here and elsewhere, and signs this
 * browser in with a fresh cookie.
 */
export function ResetPassword() {
  const client = useApolloClient();
  const loc = useLocation();
  const token = new URLSearchParams(loc.search).get("token") ?? "";
  const [newPassword, setNew] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [badLink, setBadLink] = useState(!token);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (newPassword !== confirm) {
      setErrors({ fields: { confirm: "The two new passwords differ." }, form: null, codes: [] });
      return;
    }
    setErrors(noErrors);
    setBusy(true);
    const p = client.mutate({ mutation: RESET_PASSWORD, variables: { input: { token, newPassword } } });
    // If this tab was signed in as the same account, its socket hears
    // PASSWORD_CHANGED: the session guard waits for the new cookie first.
    selfAction.rotating = p;
    try {
      const { data } = await p;
      restartLiveUpdates();
      await afterSignIn(client, data!.resetPassword);
      navigate("/", { replace: true, flash: "Your password was reset. You are signed in; every other session was signed out." });
    } catch (err) {
      if (codeOf(err) === "SECOND_FACTOR_REQUIRED") {
        // The password is reset and every session ended; signing in here
        // needs a code too. If this tab was signed in, it is not any more:
        // leave quietly (no "You were signed out") for the second step.
        selfAction.signingOut = true;
        try {
          await afterSignOut(client, () =>
            navigate(secondStepPath("/", { afterReset: true }), {
              replace: true,
              flash: "Your password was reset, and every session signed out. Enter a code to sign in.",
            }),
          );
        } finally {
          selfAction.signingOut = false;
        }
        return;
      }
      const fe = toFormErrors(err, ["newPassword", "password", "token"]);
      if (fe.fields.token) {
        setBadLink(true);
        return;
      }
      if (fe.fields.password && !fe.fields.newPassword) fe.fields.newPassword = fe.fields.password;
      setErrors(fe);
    } finally {
      if (selfAction.rotating === p) selfAction.rotating = null;
      setBusy(false);
    }
  }

  if (badLink) {
    return (
      <div className="card narrow">
        <h1>Reset your password</h1>
        <p className="form-error" role="alert" data-testid="bad-token">
          This reset link does not work: it is wrong, was already used, or has expired.
        </p>
        <p>
          <Link to="/forgot-password" data-testid="request-new-link">
            Request a new link
          </Link>
        </p>
      </div>
    );
  }

  return (
    <div className="card narrow">
      <h1>Choose a new password</h1>
      <p className="muted">This signs out every device that uses your account and signs you in here.</p>
      <form onSubmit={submit} noValidate data-testid="reset-form">
        <Field label="New password (8 to 72 bytes)" name="newPassword" type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} error={errors.fields.newPassword} />
        {/* No account is known here, so the hint has no user inputs, while the
            server also counts the account's email and name against the
            password: the hint can call a password strong that the server
            refuses. The server's reason then shows under the field. */}
        <PasswordStrength password={newPassword} userInputs={[]} />
        <Field label="New password again" name="confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} error={errors.fields.confirm} />
        <FormError message={errors.form} code={errors.codes[0]} />
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Set the new password"}
        </button>
      </form>
    </div>
  );
}
