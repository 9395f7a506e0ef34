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

/** After register/login: drop whatever the previous user left in the cache, then store `me`. */
export async function afterSignIn(client: ApolloClient, user: User) {
  await client.clearStore();
  client.writeQuery({ query: ME, data: { me: user } });
}

/**
 * After sign-out or a lost session: `me` becomes null and `go` (a navigation)
 * runs in the same tick, so React renders both at once; then nothing of the old
 * user stays in the cache.
 */
export async function afterSignOut(client: ApolloClient, go: () => void) {
  client.writeQuery({ query: ME, data: { me: null } });
  go();
  await client.clearStore();
  client.writeQuery({ query: ME, data: { me: null } });
}
