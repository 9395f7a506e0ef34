import { useApolloClient } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "../Field";
import { noErrors, toFormErrors, type FormErrors } from "../errors";
import { REGISTER, type User } from "../operations";
import { PasswordStrength, userInputsOf } from "../PasswordStrength";
import { Link, navigate, nextPath, useLocation } from "../router";
import { afterSignIn } from "../session";

export function SignUp({ me, meLoading }: { me: User | null; meLoading: boolean }) {
  const client = useApolloClient();
  const loc = useLocation();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors(noErrors);
    try {
      const { data } = await client.mutate({ mutation: REGISTER, variables: { input: { name, email, password } } });
      await afterSignIn(client, data!.register);
      navigate(nextPath(loc.search), { replace: true });
    } catch (err) {
      const fe = toFormErrors(err, ["name", "email", "password"]);
      if (fe.codes.includes("EMAIL_TAKEN")) {
        // Not a field error on the wire (no extensions.field), but it is about the email.
        fe.fields.email = "An account with this email already exists.";
        fe.form = fe.form === "An account with this email already exists." ? null : fe.form;
      }
      setErrors(fe);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card narrow">
      <h1>Create an account</h1>
      {me && !meLoading ? (
        <p>
          You are signed in as <strong>{me.name}</strong>. <Link to="/">Continue</Link>
        </p>
      ) : (
        <form onSubmit={submit} noValidate data-testid="signup-form">
          <Field label="Name" name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.fields.name} />
          <Field label="Email" name="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.fields.email} />
          <Field label="Password (8 to 72 bytes)" name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errors.fields.password} />
          <PasswordStrength password={password} userInputs={userInputsOf(email, name)} />
          <FormError message={errors.form} code={errors.codes[0]} />
          <button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Sign up"}
          </button>
          <p className="muted">
            Have an account? <Link to={`/signin${loc.search}`}>Sign in</Link>
          </p>
        </form>
      )}
    </div>
  );
}
