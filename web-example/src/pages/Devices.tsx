import { useApolloClient, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { FormError } from "../Field";
import { describeError, graphQLErrorsOf, toFormErrors } from "../errors";
import { describeAgent, formatTime, relative } from "../format";
import { LOGOUT_OTHER_SESSIONS, REVOKE_SESSION, SESSIONS } from "../operations";

export function Devices() {
  const client = useApolloClient();
  const { data, loading, error, refetch } = useQuery(SESSIONS, { fetchPolicy: "cache-and-network" });
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<{ message: string | null; code?: string }>({ message: null });

  async function run(key: string, action: () => Promise<string>) {
    setBusy(key);
    setMessage(null);
    setFailure({ message: null });
    try {
      setMessage(await action());
      await refetch();
    } catch (err) {
      const fe = toFormErrors(err, []);
      setFailure({ message: fe.form, code: fe.codes[0] });
    } finally {
      setBusy(null);
    }
  }

  const revoke = (id: string) =>
    run(id, async () => {
      const { data } = await client.mutate({ mutation: REVOKE_SESSION, variables: { id } });
      return data?.revokeSession ? "That device was signed out." : "That session had already ended.";
    });

  const others = () =>
    run("others", async () => {
      const { data } = await client.mutate({ mutation: LOGOUT_OTHER_SESSIONS });
      const n = data?.logoutOtherSessions ?? 0;
      return n === 0 ? "No other sessions were signed in." : `Signed out ${n} other ${n === 1 ? "session" : "sessions"}.`;
    });

  const sessions = data?.sessions ?? [];
  const firstError = graphQLErrorsOf(error)[0];

  return (
    <div className="card">
      <h1>Your devices</h1>
      <p className="muted">Every browser or device signed in to your account. Revoking one signs it out at once.</p>
      {error && !data && (
        <p className="form-error" role="alert">
          {firstError ? describeError(firstError) : error.message}
        </p>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
      <ul className="sessions" data-testid="sessions">
        {sessions.map((s) => (
          <li key={s.id} data-testid="session" data-current={s.current ? "true" : "false"} data-session-id={s.id}>
            <div>
              <strong>{describeAgent(s.userAgent)}</strong>
              {s.current && (
                <span className="badge" data-testid="current-session">
                  This device
                </span>
              )}
              <div className="muted small">
                {s.ip ?? "unknown address"} · signed in {formatTime(s.createdAt)} · last seen {relative(s.lastSeenAt)} · expires {formatTime(s.expiresAt)}
              </div>
            </div>
            {!s.current && (
              <button onClick={() => revoke(s.id)} disabled={busy !== null} data-testid="revoke">
                {busy === s.id ? "Revoking…" : "Revoke"}
              </button>
            )}
          </li>
        ))}
      </ul>
      <div className="row">
        <button onClick={others} disabled={busy !== null || sessions.filter((s) => !s.current).length === 0} data-testid="logout-others">
          {busy === "others" ? "Signing out…" : "Sign out everywhere else"}
        </button>
        <button className="secondary" onClick={() => refetch()} disabled={busy !== null}>
          Refresh
        </button>
      </div>
      {message && (
        <p className="flash" role="status" data-testid="devices-message">
          {message}
        </p>
      )}
      <FormError message={failure.message} code={failure.code} />
    </div>
  );
}
