import { useState } from "react";
import { codeOf, formatSeconds, graphQLErrorsOf, describeError } from "./errors";
import { useRetryAfter } from "./retryAfter";

/**
 * "Verify your address", shown while me.emailVerified is false, with a button
 * that mails the link again. Used by the Apollo and the urql app alike: each
 * passes its own resendVerificationEmail call, which resolves to the field's
 * value (false: already verified, nothing sent) or throws the client's error.
 */
export function VerifyBanner({
  email,
  resend,
  onAlreadyVerified,
}: {
  email: string;
  resend: () => Promise<boolean>;
  onAlreadyVerified?: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ text: string; code?: string } | null>(null);
  const retry = useRetryAfter();

  async function click() {
    setBusy(true);
    setStatus(null);
    try {
      if (await resend()) {
        setStatus({ text: "Sent. Check your inbox for the new link." });
      } else {
        setStatus({ text: "Your address is verified already." });
        onAlreadyVerified?.();
      }
    } catch (err) {
      const g = graphQLErrorsOf(err)[0];
      setStatus({ text: g ? describeError(g) : "Could not reach the server.", code: codeOf(err) ?? "NETWORK" });
      retry.holdAfter(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="banner" role="region" aria-label="Verify your address" data-testid="verify-banner">
      <span>
        <strong>Verify your address.</strong> We sent a link to {email}; open it to confirm that the address is yours.
      </span>
      <button className="secondary small" onClick={click} disabled={busy || retry.waitSeconds > 0} data-testid="resend-verification">
        {retry.waitSeconds > 0 ? `Resend (wait ${formatSeconds(retry.waitSeconds)})` : busy ? "Sending…" : "Resend"}
      </button>
      {status && (
        <span className={status.code ? "form-error" : "muted"} role="status" data-testid="resend-status" data-code={status.code}>
          {status.text}
        </span>
      )}
    </div>
  );
}
