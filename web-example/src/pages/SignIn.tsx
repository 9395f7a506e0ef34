import { useApolloClient } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, Flash, FormError } from "../Field";
import { codeOf, formatSeconds, noErrors, toFormErrors, type FormErrors } from "../errors";
import { BEGIN_PASSKEY_SIGN_IN, FINISH_PASSKEY_SIGN_IN, LOGIN, type User } from "../operations";
import { PasskeyButton, usePasskeySignIn } from "../PasskeySignIn";
import { useRetryAfter } from "../retryAfter";
import { Link, navigate, nextPath, useLocation } from "../router";
import { afterSignIn } from "../session";
import { secondStepPath } from "./SecondStep";

export function SignIn({ me, meLoading }: { me: User | null; meLoading: boolean }) {
  const client = useApolloClient();
  const loc = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  // RATE_LIMITED: keep the button off until retryAfter has passed.
  const retry = useRetryAfter();
  const blockedFor = retry.waitSeconds;
  const showForm = !(me && !meLoading);
  // A passkey verified the user: no second step follows.
  const passkey = usePasskeySignIn(
    {
      begin: async () => (await client.mutate({ mutation: BEGIN_PASSKEY_SIGN_IN, fetchPolicy: "no-cache" })).data!.beginPasskeySignIn,
      finish: async (credential) => {
        const { data } = await client.mutate({ mutation: FINISH_PASSKEY_SIGN_IN, variables: { credential } });
        await afterSignIn(client, data!.finishPasskeySignIn);
        navigate(nextPath(loc.search), { replace: true });
      },
    },
    showForm,
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors(noErrors);
    try {
      const { data } = await client.mutate({ mutation: LOGIN, variables: { input: { email, password } } });
      await afterSignIn(client, data!.login);
      navigate(nextPath(loc.search), { replace: true });
    } catch (err) {
      if (codeOf(err) === "SECOND_FACTOR_REQUIRED") {
        // The password was right; the account asks for a code too.
        navigate(secondStepPath(nextPath(loc.search)));
        return;
      }
      setErrors(toFormErrors(err, ["email", "password"]));
      retry.holdAfter(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card narrow">
      <h1>Sign in</h1>
      <Flash message={loc.flash} />
      {!showForm ? (
        <p>
          You are signed in as <strong>{me.name}</strong>. <Link to={nextPath(loc.search)}>Continue</Link>
        </p>
      ) : (
        <form onSubmit={submit} noValidate data-testid="signin-form" data-passkey-autofill={passkey.autofill}>
          <Field label="Email" name="email" type="email" autoComplete="username webauthn" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.fields.email} />
          <Field label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errors.fields.password} />
          <p className="small field-aside">
            <Link to={email.trim() ? `/forgot-password?email=${encodeURIComponent(email.trim())}` : "/forgot-password"} data-testid="forgot-password">
              Forgot password?
            </Link>
          </p>
          <FormError message={errors.form} code={errors.codes[0]} />
          <button type="submit" disabled={busy || blockedFor > 0 || passkey.busy !== false}>
            {blockedFor > 0 ? `Sign in (wait ${formatSeconds(blockedFor)})` : busy ? "Signing in…" : "Sign in"}
          </button>
          <PasskeyButton passkey={passkey} disabled={busy} />
          <p className="muted">
            No account? <Link to={`/signup${loc.search}`}>Sign up</Link>
          </p>
        </form>
      )}
    </div>
  );
}
