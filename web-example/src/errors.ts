// Turns a failed operation into what a form shows: per-field messages from
// BAD_USER_INPUT (extensions.field), and one form-level message for the rest.
// Clients branch on extensions.code, never on the message text.

export interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
}

export interface FormErrors {
  /** field name → message, from BAD_USER_INPUT with extensions.field */
  fields: Record<string, string>;
  /** a message for the whole form (INVALID_CREDENTIALS, RATE_LIMITED, network, ...) */
  form: string | null;
  /** the codes seen, first first */
  codes: string[];
}

export const noErrors: FormErrors = { fields: {}, form: null, codes: [] };

/** Pulls the GraphQL errors out of an Apollo 4 (CombinedGraphQLErrors: .errors) or urql (CombinedError: .graphQLErrors) error. */
export function graphQLErrorsOf(err: unknown): GqlError[] {
  if (!err || typeof err !== "object") return [];
  const e = err as { errors?: unknown; graphQLErrors?: unknown };
  if (Array.isArray(e.graphQLErrors) && e.graphQLErrors.length) return e.graphQLErrors as GqlError[];
  if (Array.isArray(e.errors) && e.errors.length) return e.errors as GqlError[];
  return [];
}

export function codeOf(err: unknown): string | null {
  const code = graphQLErrorsOf(err)[0]?.extensions?.code;
  return typeof code === "string" ? code : null;
}

export function describeError(e: GqlError): string {
  const code = e.extensions?.code;
  switch (code) {
    case "INVALID_CREDENTIALS":
      return "Email or password is incorrect.";
    case "RATE_LIMITED": {
      const after = Number(e.extensions?.retryAfter);
      return Number.isFinite(after) && after > 0
        ? `Too many attempts. Try again in ${formatSeconds(after)}.`
        : "Too many attempts. Try again later.";
    }
    case "SECOND_FACTOR_REQUIRED":
      return "The password is right; now enter a code from your authenticator app.";
    case "EMAIL_TAKEN":
      return "An account with this email already exists.";
    case "UNAUTHENTICATED":
      return "You are not signed in.";
    case "FORBIDDEN":
      return "That belongs to someone else.";
    case "SERVICE_UNAVAILABLE":
      return "The service is unavailable right now. Try again in a moment.";
    case "INTERNAL_SERVER_ERROR":
      return "Something went wrong on the server.";
    case "GRAPHQL_VALIDATION_FAILED":
      return `The server does not support this operation yet (${e.message})`;
    default:
      return e.message;
  }
}

export function formatSeconds(s: number): string {
  s = Math.ceil(s);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

export function toFormErrors(err: unknown, knownFields: readonly string[]): FormErrors {
  const errors = graphQLErrorsOf(err);
  if (errors.length === 0) {
    const msg = err instanceof Error ? err.message : String(err);
    return { fields: {}, form: `Could not reach the server: ${msg}`, codes: ["NETWORK"] };
  }
  const out: FormErrors = { fields: {}, form: null, codes: [] };
  const formMessages: string[] = [];
  for (const e of errors) {
    const code = typeof e.extensions?.code === "string" ? e.extensions.code : "UNKNOWN";
    out.codes.push(code);
    const field = e.extensions?.field;
    if (code === "BAD_USER_INPUT" && typeof field === "string" && knownFields.includes(field)) {
      out.fields[field] ??= e.message;
    } else {
      formMessages.push(describeError(e));
    }
  }
  out.form = formMessages.length ? formMessages.join(" ") : null;
  return out;
}
