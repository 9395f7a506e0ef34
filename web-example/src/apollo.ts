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

/**
 * The websocket client. Lazy: it connects only while a subscription is active
 * (the app subscribes only when signed in), and the browser sends the session
 * cookie with the upgrade request, which is how the server authenticates it.
 *
 * graphql-ws 6 treats 4403 as retryable ("might grant access after retry");
 * here it is final: the session is gone, and retrying would only loop.
 */
export const wsClient: Client = createClient({
  url: GRAPHQL_WS_URL,
  lazy: true,
  retryAttempts: 5,
  shouldRetry: (e) => !(isCloseEvent(e) && e.code === CLOSE_UNAUTHENTICATED),
  on: {
    closed: (e) => {
      if (isCloseEvent(e) && e.code === CLOSE_UNAUTHENTICATED) {
        sessionLost(e.reason || "UNAUTHENTICATED");
      }
    },
  },
});

const httpLink = new HttpLink({ uri: GRAPHQL_URL, credentials: "include" });

/** A field that needs a session answered UNAUTHENTICATED: the session ended under us. */
const unauthenticatedLink = new ErrorLink(({ error }) => {
  if (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) {
    sessionLost("UNAUTHENTICATED");
  }
});
const wsLink = new GraphQLWsLink(wsClient);

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
