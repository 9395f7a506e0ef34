/** The GraphQL endpoint (HTTP). Set VITE_GRAPHQL_URL at build time to change it. */
export const GRAPHQL_URL: string =
  (import.meta.env.VITE_GRAPHQL_URL as string | undefined) || "http://localhost:8080/graphql";

/** The same endpoint for subscriptions: http → ws, https → wss. */
export const GRAPHQL_WS_URL: string = GRAPHQL_URL.replace(/^http/i, "ws");
