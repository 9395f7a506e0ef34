/** The GraphQL endpoint (HTTP). Set VITE_GRAPHQL_URL at build time to change it. */
export const GRAPHQL_URL: string =
  (import.meta.env.VITE_GRAPHQL_URL as string | undefined) || "http://localhost:8080/graphql";

/** The same endpoint for subscriptions: http → ws, https → wss. */
export const GRAPHQL_WS_URL: string = GRAPHQL_URL.replace(/^http/i, "ws");

/**
 * The least zxcvbn score (0–4) the server accepts for a new password: set
 * VITE_PASSWORD_MIN_SCORE at build time to the server's PASSWORD_MIN_SCORE
 * (both default to 1). Only the strength hint uses it; the server decides.
 */
export const PASSWORD_MIN_SCORE: number = minScore(import.meta.env.VITE_PASSWORD_MIN_SCORE);

function minScore(raw: string | undefined): number {
  const n = Number(raw);
  return raw && Number.isInteger(n) && n >= 0 && n <= 4 ? n : 1;
}
