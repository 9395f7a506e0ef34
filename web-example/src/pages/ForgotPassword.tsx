import { useApolloClient } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "../Field";
import { formatSeconds, noErrors, toFormErrors, type FormErrors } from "../errors";
import { REQUEST_PASSWORD_RESET } from "../operations";
import { useRetryAfter } from "../retryAfter";
import { Link, useLocation } from "../router";

/**
 * Asks for a reset link. The answer is the same whether or not an account
 * uses the address (the server never says), so the page says the same too.
 */
export function ForgotPassword() {
  const client = useApolloClient();
  const loc = useLocation();
  const [email, setEmail] = useState(() => new URLSearchParams(loc.search).get("email") ?? "");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const retry = useRetryAfter();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors(noErrors);
    try {
      await client.mutate({ mutation: REQUEST_PASSWORD_RESET, variables: { email: email.trim() } });
      setSentTo(email.trim());
    } catch (err) {
      setErrors(toFormErrors(err, ["email"]));
      retry.holdAfter(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card narrow">
      <h1>Reset your password</h1>
      {sentTo !== null ? (
        <>
          <p className="flash" role="status" data-testid="reset-requested">
            If an account uses this address, we sent a link to it.
          </p>
          <p>
            Look for an email to <strong>{sentTo}</strong>. The link in it works once; it sets a new password and signs you in.
          </p>
          <p className="muted">
            <Link to="/signin">Back to sign in</Link> ·{" "}
            <a
              href="#"
              onClick={(e) => {
                e.preventDefault();
                setSentTo(null);
              }}
            >
              Use another address
            </a>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate data-testid="forgot-form">
          <p className="muted">We will email you a link to set a new password.</p>
          <Field label="Email" name="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.fields.email} />
          <FormError message={errors.form} code={errors.codes[0]} />
          <button type="submit" disabled={busy || retry.waitSeconds > 0}>
            {retry.waitSeconds > 0 ? `Send the link (wait ${formatSeconds(retry.waitSeconds)})` : busy ? "Sending…" : "Send the link"}
          </button>
          <p className="muted">
            Remembered it? <Link to="/signin">Sign in</Link>
          </p>
        </form>
      )}
    </div>
  );
}
