// The same sign-in / me / sign-out flow with urql instead of Apollo Client,
// to show that the server needs nothing client-specific: JSON POSTs with
// credentials: "include". An account with two-step sign-in answers login with
// SECOND_FACTOR_REQUIRED; the shared second-step form then asks for the code.
// "Sign in with a passkey" (and the passkey autofill) is shared too. The pages
// a mailed link opens (reset password, verify email), the strength hint and
// adding passkeys live in the Apollo app; this one shows the verification
// banner with the shared component and links to "forgot password".
import { useCallback, useState, type FormEvent } from "react";
import { Client, Provider, cacheExchange, fetchExchange, useMutation, useQuery } from "urql";
import { GRAPHQL_URL } from "../config";
import { graphql } from "../gql";
import { Field, FormError } from "../Field";
import { codeOf, noErrors, toFormErrors, type FormErrors } from "../errors";
import { PasskeyButton, usePasskeySignIn } from "../PasskeySignIn";
import { SecondFactorForm } from "../SecondFactorForm";
import { VerifyBanner } from "../VerifyBanner";

const client = new Client({
  url: GRAPHQL_URL,
  fetchOptions: { credentials: "include" },
  // urql sends queries as GET by default ("within-url-limit"); the server
  // refuses a GET without an Apollo-Require-Preflight header (its CSRF rule),
  // so send everything as a JSON POST.
  preferGetMethod: false,
  exchanges: [cacheExchange, fetchExchange],
});

const ME = graphql(`
  query UrqlMe {
    me {
      id
      email
      name
      emailVerified
    }
  }
`);
const LOGIN = graphql(`
  mutation UrqlLogin($input: LoginInput!) {
    login(input: $input) {
      id
      email
      name
    }
  }
`);
const VERIFY_SECOND_FACTOR = graphql(`
  mutation UrqlVerifySecondFactor($code: String!) {
    verifySecondFactor(code: $code) {
      id
      email
      name
    }
  }
`);
const BEGIN_PASSKEY_SIGN_IN = graphql(`
  mutation UrqlBeginPasskeySignIn {
    beginPasskeySignIn
  }
`);
const FINISH_PASSKEY_SIGN_IN = graphql(`
  mutation UrqlFinishPasskeySignIn($credential: JSON!) {
    finishPasskeySignIn(credential: $credential) {
      id
      email
      name
    }
  }
`);
const LOGOUT = graphql(`
  mutation UrqlLogout {
    logout
  }
`);
const RESEND_VERIFICATION_EMAIL = graphql(`
  mutation UrqlResendVerificationEmail {
    resendVerificationEmail
  }
`);

export default function UrqlApp() {
  return (
    <Provider value={client}>
      <header className="top">
        <a href="/" className="brand">
          Flashcards
        </a>
        <span className="muted">urql example</span>
      </header>
      <main>
        <UrqlSession />
      </main>
    </Provider>
  );
}

function UrqlSession() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: ME, requestPolicy: "network-only" });
  const [, login] = useMutation(LOGIN);
  const [, verifySecondFactor] = useMutation(VERIFY_SECOND_FACTOR);
  const [, beginPasskeySignIn] = useMutation(BEGIN_PASSKEY_SIGN_IN);
  const [, finishPasskeySignIn] = useMutation(FINISH_PASSKEY_SIGN_IN);
  const [, logout] = useMutation(LOGOUT);
  const [, resendMutation] = useMutation(RESEND_VERIFICATION_EMAIL);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);
  // The password was right and the account asks for a code too (SECOND_FACTOR_REQUIRED).
  const [secondStep, setSecondStep] = useState(false);

  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const resend = useCallback(async () => {
    const res = await resendMutation({});
    if (res.error) throw res.error;
    return res.data?.resendVerificationEmail ?? false;
  }, [resendMutation]);

  async function signIn(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors(noErrors);
    const res = await login({ input: { email, password } });
    setBusy(false);
    if (res.error && codeOf(res.error) === "SECOND_FACTOR_REQUIRED") {
      setPassword("");
      setSecondStep(true);
      return;
    }
    if (res.error) {
      setErrors(toFormErrors(res.error.graphQLErrors.length ? res.error : res.error.networkError ?? res.error, ["email", "password"]));
      return;
    }
    setPassword("");
    refresh();
  }

  const verify = useCallback(
    async (code: string) => {
      const res = await verifySecondFactor({ code });
      if (res.error) throw res.error.graphQLErrors.length ? res.error : res.error.networkError ?? res.error;
      setSecondStep(false);
      reexecute({ requestPolicy: "network-only" });
    },
    [verifySecondFactor, reexecute],
  );

  const me = data?.me ?? null;
  const passkey = usePasskeySignIn(
    {
      begin: async () => {
        const res = await beginPasskeySignIn({});
        if (res.error) throw res.error.graphQLErrors.length ? res.error : res.error.networkError ?? res.error;
        return res.data!.beginPasskeySignIn;
      },
      finish: async (credential) => {
        const res = await finishPasskeySignIn({ credential });
        if (res.error) throw res.error.graphQLErrors.length ? res.error : res.error.networkError ?? res.error;
        refresh();
      },
    },
    !fetching && !me && !secondStep,
  );

  async function signOut() {
    setBusy(true);
    const res = await logout({});
    setBusy(false);
    if (res.error) {
      setErrors(toFormErrors(res.error, []));
      return;
    }
    refresh();
  }

  return (
    <div className="card narrow" data-testid="urql-app">
      <h1>urql client</h1>
      {error && !data && <FormError message={`Could not load the session: ${error.message}`} />}
      {fetching && !data ? (
        <p className="muted">Loading…</p>
      ) : me ? (
        <>
          <p data-testid="urql-me">
            Signed in as <strong data-testid="urql-user-name">{me.name}</strong> ({me.email})
          </p>
          {!me.emailVerified && <VerifyBanner key={me.email} email={me.email} resend={resend} onAlreadyVerified={refresh} />}
          <button onClick={signOut} disabled={busy} data-testid="urql-sign-out">
            Sign out
          </button>
          <FormError message={errors.form} code={errors.codes[0]} />
        </>
      ) : secondStep ? (
        <div data-testid="urql-second-step">
          <h2>Two-step sign-in</h2>
          <SecondFactorForm verify={verify} onRestart={() => setSecondStep(false)} />
        </div>
      ) : (
        <form onSubmit={signIn} noValidate data-testid="urql-signin-form" data-passkey-autofill={passkey.autofill}>
          <p className="muted" data-testid="urql-anonymous">
            Not signed in.
          </p>
          <Field label="Email" name="email" type="email" autoComplete="username webauthn" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.fields.email} />
          <Field label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errors.fields.password} />
          <p className="small field-aside">
            <a href="/forgot-password" data-testid="forgot-password">
              Forgot password?
            </a>
          </p>
          <FormError message={errors.form} code={errors.codes[0]} />
          <button type="submit" disabled={busy || passkey.busy !== false}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
          <PasskeyButton passkey={passkey} disabled={busy} />
        </form>
      )}
      <p className="muted small">
        Same server, same cookie as the <a href="/">Apollo example</a>.
      </p>
    </div>
  );
}
