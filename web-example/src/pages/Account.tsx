import { useApolloClient } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "../Field";
import { noErrors, toFormErrors, type FormErrors } from "../errors";
import { CHANGE_PASSWORD, type User } from "../operations";
import { PasswordStrength, userInputsOf } from "../PasswordStrength";
import { restartLiveUpdates, selfAction } from "../session";

export function Account({ me }: { me: User }) {
  const client = useApolloClient();
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    if (newPassword !== confirm) {
      setErrors({ fields: { confirm: "The two new passwords differ." }, form: null, codes: [] });
      return;
    }
    setErrors(noErrors);
    setBusy(true);
    const p = client.mutate({ mutation: CHANGE_PASSWORD, variables: { input: { currentPassword, newPassword } } });
    selfAction.rotating = p;
    try {
      await p;
      // This browser now holds a new token (a new session): listen on a socket opened with it.
      restartLiveUpdates();
      setDone(true);
      setCurrent("");
      setNew("");
      setConfirm("");
    } catch (err) {
      const fe = toFormErrors(err, ["currentPassword", "newPassword", "password"]);
      // The server may name the new password "password" (the rule it breaks) and
      // answers a wrong current password with INVALID_CREDENTIALS.
      if (fe.fields.password && !fe.fields.newPassword) fe.fields.newPassword = fe.fields.password;
      if (fe.codes.includes("INVALID_CREDENTIALS")) {
        fe.fields.currentPassword = "The current password is not right.";
        fe.form = null;
      }
      setErrors(fe);
    } finally {
      if (selfAction.rotating === p) selfAction.rotating = null;
      setBusy(false);
    }
  }

  return (
    <div className="card narrow">
      <h1>Change password</h1>
      <p className="muted">Changing it signs out every other device; this one stays signed in.</p>
      <form onSubmit={submit} noValidate data-testid="password-form">
        <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} error={errors.fields.currentPassword} />
        <Field label="New password (8 to 72 bytes)" name="newPassword" type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} error={errors.fields.newPassword} />
        <PasswordStrength password={newPassword} userInputs={userInputsOf(me.email, me.name)} />
        <Field label="New password again" name="confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} error={errors.fields.confirm} />
        <FormError message={errors.form} code={errors.codes[0]} />
        <button type="submit" disabled={busy}>
          {busy ? "Changing…" : "Change password"}
        </button>
        {done && (
          <p className="flash" role="status" data-testid="password-changed">
            Password changed. Your other devices were signed out.
          </p>
        )}
      </form>
    </div>
  );
}
