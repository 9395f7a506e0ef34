import type { ApolloClient } from "@apollo/client";
import { useApolloClient } from "@apollo/client/react";
import { useEffect, useState } from "react";
import { describeError, graphQLErrorsOf } from "../errors";
import { ME, VERIFY_EMAIL, type User } from "../operations";
import { Link, useLocation } from "../router";

type Outcome = { verified: User } | { badToken: true } | { failed: string };

/**
 * One verifyEmail per token and page load. A token works once, and React's
 * strict mode runs an effect twice in development: the second run must get
 * the first run's answer, not send the used token again.
 */
const attempts = new Map<string, Promise<Outcome>>();

function verifyOnce(client: ApolloClient, token: string): Promise<Outcome> {
  let p = attempts.get(token);
  if (!p) {
    // The answer is the User with its id and emailVerified: true. Apollo's
    // normalized cache merges it into User:<id>, which `me` points at when this
    // browser is signed in as that user, so the banner goes at once.
    // A `me` that the page load sent before the mutation may answer after it
    // with the old emailVerified; asking again once verified settles it.
    p = client.mutate({ mutation: VERIFY_EMAIL, variables: { token } }).then(
      async ({ data }): Promise<Outcome> => {
        await client.refetchQueries({ include: [ME] }).catch(() => undefined);
        return { verified: data!.verifyEmail };
      },
      (err): Outcome => {
        const errors = graphQLErrorsOf(err);
        if (errors.some((e) => e.extensions?.code === "BAD_USER_INPUT" && e.extensions?.field === "token")) return { badToken: true };
        // Not an answer about the token (no network, throttled, ...): it may be tried again.
        attempts.delete(token);
        return { failed: errors[0] ? describeError(errors[0]) : `Could not reach the server: ${err instanceof Error ? err.message : String(err)}` };
      },
    );
    attempts.set(token, p);
  }
  return p;
}

/** The page a verification link opens (APP_URL/verify-email?token=…); it works signed in or not. */
export function VerifyEmail({ me }: { me: User | null }) {
  const client = useApolloClient();
  const loc = useLocation();
  const token = new URLSearchParams(loc.search).get("token") ?? "";
  const [outcome, setOutcome] = useState<Outcome | null>(token ? null : { badToken: true });
  const [round, setRound] = useState(0);

  useEffect(() => {
    if (!token) return;
    let live = true;
    void verifyOnce(client, token).then((o) => live && setOutcome(o));
    return () => {
      live = false;
    };
  }, [client, token, round]);

  return (
    <div className="card narrow" data-testid="verify-page">
      <h1>Verify your address</h1>
      {outcome === null ? (
        <p className="muted" data-testid="verifying">
          Verifying…
        </p>
      ) : "verified" in outcome ? (
        <>
          <p className="flash" role="status" data-testid="verified">
            Thank you: <strong>{outcome.verified.email}</strong> is verified.
          </p>
          <p>{me ? <Link to="/">Go to your decks</Link> : <Link to="/signin">Sign in</Link>}</p>
        </>
      ) : "badToken" in outcome ? (
        <>
          <p className="form-error" role="alert" data-testid="bad-token">
            This verification link does not work: it is wrong, was already used, or has expired.
          </p>
          <p className="muted">
            {me ? (
              me.emailVerified ? (
                <>
                  Your address is verified already. <Link to="/">Go to your decks</Link>
                </>
              ) : (
                "Use “Resend” above to get a new link."
              )
            ) : (
              <>
                <Link to="/signin?next=%2F">Sign in</Link> to get a new link.
              </>
            )}
          </p>
        </>
      ) : (
        <>
          <p className="form-error" role="alert" data-testid="verify-failed">
            {outcome.failed}
          </p>
          <button
            onClick={() => {
              setOutcome(null);
              setRound((r) => r + 1);
            }}
          >
            Try again
          </button>
        </>
      )}
    </div>
  );
}
