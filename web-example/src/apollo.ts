import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient, type Client } from "graphql-ws";
import { GRAPHQL_URL, GRAPHQL_WS_URL } from "./config";

/** Close code the server uses when the socket has (or no longer has) a live session. */
export const CLOSE_UNAUTHENTICATED = 4403;

function isCloseEvent(e: unknown): e is { code: number; reason: string } {
  return !!e && typeof e === "object" && "code" in e && "reason" in e;
}

type LostListener = (reason: string) => void;
const lostListeners = new Set<LostListener>();

/**
 * Called when the transport learns that the session is gone: the socket closed
 * with 4403, or an HTTP operation answered UNAUTHENTICATED.
 */
export function onSessionLost(l: LostListener): () => void {
  lostListeners.add(l);
  return () => lostListeners.delete(l);
}

function sessionLost(reason: string) {
  for (const l of lostListeners) l(reason);
}

export type LiveStatus = "off" | "connecting" | "connected";
type LiveListener = (s: LiveStatus) => void;
const liveListeners = new Set<LiveListener>();

/** The state of the current websocket (for the header's dot). */
export function onLiveStatus(l: LiveListener): () => void {
  liveListeners.add(l);
  return () => liveListeners.delete(l);
}

/**
 * A websocket client. Lazy: it connects only while a subscription is active
 * (the app subscribes only when signed in), and the browser sends the session
 * cookie with the upgrade request, which is how the server authenticates it.
 *
 * graphql-ws 6 treats 4403 as retryable ("might grant access after retry");
 * here it is final: the session is gone, and retrying would only loop.
 */
function makeWsClient(): Client {
  const c: Client = createClient({
    url: GRAPHQL_WS_URL,
    lazy: true,
    retryAttempts: 5,
    shouldRetry: (e) => !(isCloseEvent(e) && e.code === CLOSE_UNAUTHENTICATED),
    on: {
      // Only the current client speaks for the session; a replaced one is closing.
      connecting: () => c === wsClient && liveListeners.forEach((l) => l("connecting")),
      connected: () => c === wsClient && liveListeners.forEach((l) => l("connected")),
      closed: (e) => {
        if (c !== wsClient) return;
        liveListeners.forEach((l) => l("off"));
        if (isCloseEvent(e) && e.code === CLOSE_UNAUTHENTICATED) sessionLost(e.reason || "UNAUTHENTICATED");
      },
    },
  });
  return c;
}

let wsClient: Client = makeWsClient();

/**
 * Drops the websocket client for a new one, so the next subscription opens a
 * new socket that the server authenticates with the browser's current cookie.
 * (Unsubscribing and subscribing again is not enough: graphql-ws keeps the
 * socket when a new subscription arrives in the same tick.) Needed after this
 * tab changes the password: the server issues a new token, a new session, and
 * the old socket would go on listening for the end of one that is over.
 */
export function replaceWsClient() {
  const old = wsClient;
  wsClient = makeWsClient();
  void old.dispose();
}

const httpLink = new HttpLink({ uri: GRAPHQL_URL, credentials: "include" });

/** A field that needs a session answered UNAUTHENTICATED: the session ended under us. */
const unauthenticatedLink = new ErrorLink(({ error }) => {
  if (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) {
    sessionLost("UNAUTHENTICATED");
  }
});
/** Always sends to the current websocket client. */
const wsLink = new ApolloLink((operation) => new GraphQLWsLink(wsClient).request(operation));

/** Subscriptions go over the websocket, everything else over HTTP. */
const link = ApolloLink.split(
  ({ query }) => {
    const def = getMainDefinition(query);
    return def.kind === "OperationDefinition" && def.operation === "subscription";
  },
  wsLink,
  ApolloLink.from([unauthenticatedLink, httpLink]),
);

export const client = new ApolloClient({
  link,
  cache: new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          // The security log's pages: "Load more" (with `after`) appends, a first page replaces.
          securityEvents: {
            keyArgs: false,
            merge(existing: { edges: unknown[] } | undefined, incoming: { edges: unknown[] }, { args }) {
              if (!existing || !args?.after) return incoming;
              return { ...incoming, edges: [...existing.edges, ...incoming.edges] };
            },
          },
        },
      },
      Deck: {
        fields: {
          // Cursor pagination: a page with `after` appends, a first page replaces.
          cards: {
            keyArgs: false,
            merge(existing: { edges: unknown[] } | undefined, incoming: { edges: unknown[] }, { args }) {
              if (!existing || !args?.after) return incoming;
              return { ...incoming, edges: [...existing.edges, ...incoming.edges] };
            },
          },
        },
      },
    },
  }),
});
