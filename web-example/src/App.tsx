import { ApolloProvider, useApolloClient, useQuery } from "@apollo/client/react";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { client, onLiveStatus, onSessionLost, replaceWsClient } from "./apollo";
import { LOGOUT, ME, RESEND_VERIFICATION_EMAIL, SESSION_ENDED, type User } from "./operations";
import { Link, navigate, useLocation } from "./router";
import { afterSignIn, afterSignOut, onRestartLiveUpdates, selfAction } from "./session";
import { describeError, graphQLErrorsOf } from "./errors";
import { SignIn } from "./pages/SignIn";
import { SignUp } from "./pages/SignUp";
import { Decks } from "./pages/Decks";
import { DeckPage } from "./pages/Deck";
import { Devices } from "./pages/Devices";
import { Account } from "./pages/Account";
import { ForgotPassword } from "./pages/ForgotPassword";
import { ResetPassword } from "./pages/ResetPassword";
import { SecondStep } from "./pages/SecondStep";
import { Security } from "./pages/Security";
import { VerifyEmail } from "./pages/VerifyEmail";
import { VerifyBanner } from "./VerifyBanner";

export default function App() {
  return (
    <ApolloProvider client={client}>
      <Shell />
    </ApolloProvider>
  );
}

type Live = "off" | "connecting" | "connected" | "unavailable";

function Shell() {
  const { data, loading, error, refetch } = useQuery(ME);
  const loc = useLocation();
  const me = data?.me ?? null;
  const [live, setLive] = useState<Live>("off");

  let page: ReactNode;
  const deckMatch = /^\/decks\/([^/]+)$/.exec(loc.pathname);
  if (loc.pathname === "/signin") page = <SignIn me={me} meLoading={loading} />;
  else if (loc.pathname === "/signin/verify") page = <SecondStep me={me} meLoading={loading} />;
  else if (loc.pathname === "/signup") page = <SignUp me={me} meLoading={loading} />;
  else if (loc.pathname === "/forgot-password") page = <ForgotPassword />;
  else if (loc.pathname === "/reset-password") page = <ResetPassword />;
  else if (loc.pathname === "/verify-email") page = <VerifyEmail me={me} />;
  else if (loc.pathname === "/") page = <Protected me={me} loading={loading}>{<Decks />}</Protected>;
  else if (deckMatch) page = <Protected me={me} loading={loading}>{<DeckPage id={decodeURIComponent(deckMatch[1])} />}</Protected>;
  else if (loc.pathname === "/devices") page = <Protected me={me} loading={loading}>{<Devices />}</Protected>;
  else if (loc.pathname === "/account") page = <Protected me={me} loading={loading}>{me && <Account me={me} />}</Protected>;
  else if (loc.pathname === "/security") page = <Protected me={me} loading={loading}>{me && <Security me={me} />}</Protected>;
  else page = <NotFound />;

  return (
    <>
      <Header me={me} loading={loading} live={live} />
      <main>
        {me && !me.emailVerified && <EmailBanner key={`${me.id} ${me.email}`} me={me} onAlreadyVerified={() => void refetch()} />}
        {error && !data ? (
          <div className="card error-box" role="alert">
            <p>Could not load your account: {graphQLErrorsOf(error)[0] ? describeError(graphQLErrorsOf(error)[0]) : error.message}</p>
            <button onClick={() => refetch()}>Try again</button>
          </div>
        ) : (
          page
        )}
      </main>
      {me && <SessionGuard key={me.id} me={me} onLive={setLive} />}
    </>
  );
}

function Header({ me, loading, live }: { me: User | null; loading: boolean; live: Live }) {
  const apollo = useApolloClient();
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setErr(null);
    selfAction.signingOut = true;
    try {
      await apollo.mutate({ mutation: LOGOUT });
      await afterSignOut(apollo, () => navigate("/signin", { flash: "You signed out." }));
    } catch (e) {
      const g = graphQLErrorsOf(e)[0];
      setErr(g ? describeError(g) : "Could not sign out: the server did not answer.");
    } finally {
      selfAction.signingOut = false;
      setBusy(false);
    }
  }

  return (
    <header className="top">
      <Link to="/" className="brand">
        Flashcards
      </Link>
      {me && (
        <nav>
          <Link to="/">Decks</Link>
          <Link to="/devices">Your devices</Link>
          <Link to="/account">Password</Link>
          <Link to="/security">Security</Link>
        </nav>
      )}
      <div className="who">
        {loading && !me ? (
          <span className="muted">…</span>
        ) : me ? (
          <>
            <span className={`live live-${live}`} data-testid="live" data-live={live} title={`Live session updates: ${live}`} />
            <span data-testid="signed-in-as">
              Signed in as <strong data-testid="user-name">{me.name}</strong>
            </span>
            <button onClick={signOut} disabled={busy} data-testid="sign-out">
              Sign out
            </button>
            {err && (
              <span className="form-error" role="alert">
                {err}
              </span>
            )}
          </>
        ) : (
          <>
            <Link to="/signin">Sign in</Link>
            <Link to="/signup">Sign up</Link>
          </>
        )}
        <a href="/urql" className="muted small">
          urql example
        </a>
      </div>
    </header>
  );
}

/** The verification banner, resending through Apollo. */
function EmailBanner({ me, onAlreadyVerified }: { me: User; onAlreadyVerified: () => void }) {
  const apollo = useApolloClient();
  const resend = useCallback(async () => {
    const { data } = await apollo.mutate({ mutation: RESEND_VERIFICATION_EMAIL });
    return data?.resendVerificationEmail ?? false;
  }, [apollo]);
  return <VerifyBanner email={me.email} resend={resend} onAlreadyVerified={onAlreadyVerified} />;
}

/** Sends anonymous visitors to sign-in, then back here. */
function Protected({ me, loading, children }: { me: User | null; loading: boolean; children: ReactNode }) {
  const loc = useLocation();
  useEffect(() => {
    if (!loading && !me) {
      navigate(`/signin?next=${encodeURIComponent(loc.pathname + loc.search)}`, { replace: true, flash: loc.flash ?? undefined });
    }
  }, [loading, me, loc.pathname, loc.search, loc.flash]);
  if (!me) return <p className="muted">Loading…</p>;
  return <>{children}</>;
}

function NotFound() {
  return (
    <div className="card">
      <h1>Not found</h1>
      <p>
        <Link to="/">Back to your decks</Link>
      </p>
    </div>
  );
}

/**
 * While signed in, listens for the end of this session: the `sessionEnded`
 * subscription, the socket closing with 4403, or any request answering
 * UNAUTHENTICATED. Then it confirms with a `me` query (this browser may hold a
 * newer cookie, e.g. after changing the password here) and, when the session
 * is really gone, clears the Apollo cache and goes to sign-in with the reason.
 */
function SessionGuard({ me, onLive }: { me: User; onLive: (l: Live) => void }) {
  const apollo = useApolloClient();
  const [generation, setGeneration] = useState(0);
  const handling = useRef(false);
  const restarts = useRef<number[]>([]);

  /** Listen again on a new socket (authenticated with the browser's current cookie). */
  const restart = useCallback(() => {
    replaceWsClient();
    setGeneration((g) => g + 1);
  }, []);

  const ended = useCallback(
    async (reason: string) => {
      if (handling.current || selfAction.signingOut) return;
      handling.current = true;
      try {
        if (selfAction.rotating) await selfAction.rotating.catch(() => undefined);
        if (selfAction.signingOut) return;
        let still: User | null = null;
        try {
          const res = await apollo.query({ query: ME, fetchPolicy: "no-cache" });
          still = res.data?.me ?? null;
        } catch {
          still = null;
        }
        if (still && still.id === me.id) {
          // Still signed in with a newer cookie: listen again on a new socket (a few times a minute at most).
          const now = Date.now();
          restarts.current = restarts.current.filter((t) => now - t < 60_000);
          if (restarts.current.length < 3) {
            restarts.current.push(now);
            restart();
          } else {
            onLive("unavailable");
          }
          return;
        }
        if (still) {
          // Another account signed in in this browser (another tab).
          await afterSignIn(apollo, still);
          navigate("/", { replace: true, flash: `Signed in as ${still.name} in another tab.` });
          return;
        }
        await afterSignOut(apollo, () => navigate("/signin", { replace: true, flash: `You were signed out: ${reason}` }));
      } finally {
        handling.current = false;
      }
    },
    [apollo, me.id, onLive, restart],
  );

  useEffect(() => onSessionLost((reason) => void ended(reason)), [ended]);
  useEffect(() => onRestartLiveUpdates(restart), [restart]);

  useEffect(() => onLiveStatus(onLive), [onLive]);

  useEffect(() => {
    const sub = apollo.subscribe({ query: SESSION_ENDED }).subscribe({
      next: (result) => {
        const reason = result.data?.sessionEnded?.reason;
        if (reason) void ended(reason);
        else if (result.error) onError(result.error);
      },
      error: (err) => onError(err),
    });
    function onError(err: unknown) {
      if (CombinedGraphQLErrors.is(err) && err.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) {
        void ended("UNAUTHENTICATED");
        return;
      }
      // 4403 closes are handled through onSessionLost; anything else (the server
      // without subscriptions, a network failure after retries) only turns the dot off.
      onLive("unavailable");
      console.warn("sessionEnded subscription stopped:", err);
    }
    return () => {
      sub.unsubscribe();
      onLive("off");
    };
  }, [apollo, generation, ended, onLive]);

  return null;
}
