// What this tab is doing to its own session, so that the session-ended
// handling can tell "someone ended my session" from "I did it myself".
import type { ApolloClient } from "@apollo/client";
import { ME, type User } from "./operations";

export const selfAction = {
  /** This tab is signing out: the server's LOGOUT event for our own socket is expected. */
  signingOut: false,
  /**
   * A password change from this tab is in flight. The server ends the old token
   * (and may tell our socket PASSWORD_CHANGED) while the HTTP answer brings the
   * new cookie: wait for it before deciding whether we are still signed in.
   */
  rotating: null as Promise<unknown> | null,
};

const restartListeners = new Set<() => void>();

/**
 * Starts the sessionEnded subscription again, on a new socket. Needed after
 * this tab changes the password: the server then issues a new token (a new
 * session), and the socket opened with the old cookie would go on listening
 * for the end of a session that is already over.
 */
export function restartLiveUpdates() {
  for (const l of restartListeners) l();
}

export function onRestartLiveUpdates(l: () => void): () => void {
  restartListeners.add(l);
  return () => restartListeners.delete(l);
}

/**
 * After register/login: drop whatever the previous user left in the cache.
 * resetStore (not clearStore, which in Apollo Client 4 also discards the
 * cache watches of mounted queries) keeps `useQuery(ME)` live and refetches it
 * with the new cookie.
 */
export async function afterSignIn(client: ApolloClient, user: User) {
  client.writeQuery({ query: ME, data: { me: user } });
  await client.resetStore();
}

/**
 * After sign-out or a lost session: `me` becomes null and `go` (a navigation)
 * runs in the same tick, so React renders both at once and no protected page
 * stays mounted; then the cache is emptied and `me` is asked again.
 */
export async function afterSignOut(client: ApolloClient, go: () => void) {
  client.writeQuery({ query: ME, data: { me: null } });
  go();
  await client.resetStore().catch(() => undefined);
}
