import { useApolloClient } from "@apollo/client/react";
import { Flash } from "../Field";
import { VERIFY_SECOND_FACTOR, type User } from "../operations";
import { Link, navigate, nextPath, useLocation } from "../router";
import { SecondFactorForm } from "../SecondFactorForm";
import { afterSignIn } from "../session";

/** Where sign-in and the reset page go when the server answers SECOND_FACTOR_REQUIRED. */
export function secondStepPath(next: string, opts: { afterReset?: boolean } = {}): string {
  const q = new URLSearchParams({ next });
  if (opts.afterReset) q.set("reset", "1");
  return `/signin/verify?${q}`;
}

/**
 * /signin/verify?next=…: the second step of sign-in. The password was right
 * and the browser holds a pending cookie; verifySecondFactor signs in with a
 * fresh one and returns the User.
 */
export function SecondStep({ me, meLoading }: { me: User | null; meLoading: boolean }) {
  const client = useApolloClient();
  const loc = useLocation();
  const next = nextPath(loc.search);
  const afterReset = new URLSearchParams(loc.search).get("reset") === "1";

  async function verify(code: string) {
    const { data } = await client.mutate({ mutation: VERIFY_SECOND_FACTOR, variables: { code } });
    await afterSignIn(client, data!.verifySecondFactor);
    navigate(next, {
      replace: true,
      flash: afterReset ? "Your password was reset. You are signed in; every other session was signed out." : undefined,
    });
  }

  return (
    <div className="card narrow" data-testid="second-step">
      <h1>Two-step sign-in</h1>
      <Flash message={loc.flash} />
      {me && !meLoading ? (
        <p>
          You are signed in as <strong>{me.name}</strong>. <Link to={next}>Continue</Link>
        </p>
      ) : (
        <SecondFactorForm verify={verify} onRestart={() => navigate(next === "/" ? "/signin" : `/signin?next=${encodeURIComponent(next)}`)} />
      )}
    </div>
  );
}
