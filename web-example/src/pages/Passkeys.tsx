import { useApolloClient, useQuery } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "../Field";
import { describeError, formatSeconds, graphQLErrorsOf, noErrors, toFormErrors, type FormErrors } from "../errors";
import { describeAgent, formatTime, relative } from "../format";
import { BEGIN_PASSKEY_REGISTRATION, FINISH_PASSKEY_REGISTRATION, PASSKEYS, REMOVE_PASSKEY, SECURITY_EVENTS, type Passkey } from "../operations";
import { useRetryAfter } from "../retryAfter";
import { createPasskey, passkeyErrors, passkeysSupported } from "../webauthn";

/** The server's rule for a passkey's name: 1 to 100 characters. */
const NAME_MAX = 100;

/**
 * The Passkeys section of /security: the account's passkeys (name, added,
 * last used), "Add a passkey" (a name, then the browser makes one with the
 * options of beginPasskeyRegistration, then finishPasskeyRegistration), and
 * remove (after a confirmation).
 */
export function Passkeys() {
  const client = useApolloClient();
  const { data, loading, error, refetch } = useQuery(PASSKEYS, { fetchPolicy: "cache-and-network" });
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState("");
  const [confirming, setConfirming] = useState<Passkey | null>(null);
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState<false | "create" | "finish" | "remove">(false);
  const [message, setMessage] = useState<string | null>(null);
  const retry = useRetryAfter();
  const supported = passkeysSupported();
  const passkeys = data?.passkeys;
  const loadError = graphQLErrorsOf(error)[0];

  /** The list and the security log change with each step that succeeds. */
  const refresh = () => client.refetchQueries({ include: [PASSKEYS, SECURITY_EVENTS] }).catch(() => undefined);

  function startAdding() {
    setAdding(true);
    setConfirming(null);
    setName(describeAgent(navigator.userAgent));
    setErrors(noErrors);
    setMessage(null);
  }

  async function add(e: FormEvent) {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setErrors({ fields: { name: "Give it a name, so you can tell your passkeys apart." }, form: null, codes: [] });
      return;
    }
    if ([...trimmed].length > NAME_MAX) {
      setErrors({ fields: { name: `At most ${NAME_MAX} characters.` }, form: null, codes: [] });
      return;
    }
    setBusy("create");
    setErrors(noErrors);
    try {
      const { data: begun } = await client.mutate({ mutation: BEGIN_PASSKEY_REGISTRATION, fetchPolicy: "no-cache" });
      const credential = await createPasskey(begun!.beginPasskeyRegistration);
      setBusy("finish");
      const { data: added } = await client.mutate({ mutation: FINISH_PASSKEY_REGISTRATION, variables: { name: trimmed, credential } });
      setAdding(false);
      setMessage(`Passkey “${added!.finishPasskeyRegistration.name}” added. Next time, sign in with it instead of your password.`);
      await refresh();
    } catch (err) {
      setErrors(passkeyErrors(err, "register", ["name"]));
      retry.holdAfter(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(passkey: Passkey) {
    setBusy("remove");
    setErrors(noErrors);
    try {
      const { data: removed } = await client.mutate({ mutation: REMOVE_PASSKEY, variables: { id: passkey.id } });
      setConfirming(null);
      setMessage(
        removed?.removePasskey
          ? `Passkey “${passkey.name}” removed: it no longer signs you in. Your device may still offer it; you can delete it there too.`
          : `Passkey “${passkey.name}” was already removed.`,
      );
      await refresh();
    } catch (err) {
      setErrors(toFormErrors(err, []));
      retry.holdAfter(err);
    } finally {
      setBusy(false);
    }
  }

  const blockedFor = retry.waitSeconds;
  return (
    <section className="card" data-testid="passkeys">
      <div className="row spread">
        <h2>Passkeys</h2>
        <button className="secondary small" onClick={() => void refetch()} disabled={loading}>
          Refresh
        </button>
      </div>
      <p className="muted small">
        A passkey signs you in with this device&apos;s screen lock (fingerprint, face or PIN) instead of your password, and without the code
        of two-step sign-in. It only works on this site, so it can&apos;t be phished.
      </p>
      {error && !data && (
        <p className="form-error" role="alert">
          {loadError ? describeError(loadError) : error.message}
        </p>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
      {passkeys && passkeys.length === 0 && (
        <p className="muted" data-testid="no-passkeys">
          No passkeys yet.
        </p>
      )}
      {passkeys && passkeys.length > 0 && (
        <ul className="passkeys" data-testid="passkey-list">
          {passkeys.map((k) => (
            <li key={k.id} data-testid="passkey" data-passkey-id={k.id}>
              <div>
                <strong data-testid="passkey-name">{k.name}</strong>
                <div className="muted small">
                  <span data-testid="passkey-added">
                    Added <time dateTime={k.createdAt} title={formatTime(k.createdAt)}>{relative(k.createdAt)}</time>
                  </span>
                  {" · "}
                  <span data-testid="passkey-last-used" data-used={k.lastUsedAt ? "true" : "false"}>
                    {k.lastUsedAt ? (
                      <>
                        last used <time dateTime={k.lastUsedAt} title={formatTime(k.lastUsedAt)}>{relative(k.lastUsedAt)}</time>
                      </>
                    ) : (
                      "not used yet"
                    )}
                  </span>
                </div>
              </div>
              {confirming?.id === k.id ? (
                <div className="row" data-testid="confirm-remove">
                  <span className="small">It will no longer sign you in.</span>
                  <button className="danger small" onClick={() => void remove(k)} disabled={busy !== false || blockedFor > 0} data-testid="confirm-remove-passkey">
                    {busy === "remove" ? "Removing…" : "Remove"}
                  </button>
                  <button className="secondary small" onClick={() => setConfirming(null)} disabled={busy !== false}>
                    Cancel
                  </button>
                </div>
              ) : (
                <button
                  className="secondary small"
                  onClick={() => {
                    setConfirming(k);
                    setAdding(false);
                    setErrors(noErrors);
                    setMessage(null);
                  }}
                  disabled={busy !== false}
                  data-testid="remove-passkey"
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {!supported ? (
        <p className="muted" data-testid="passkeys-unsupported">
          This browser can&apos;t make passkeys (or the page is not on https).
        </p>
      ) : adding ? (
        <form onSubmit={add} noValidate data-testid="add-passkey-form">
          <Field
            label="Name for this passkey"
            name="name"
            autoFocus
            maxLength={NAME_MAX}
            placeholder="e.g. Work laptop"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={errors.fields.name}
          />
          <p className="muted small field-aside left">Next, your browser asks you to unlock this device (or to pick a phone or security key).</p>
          <FormError message={errors.form} code={errors.codes[0]} />
          <div className="row">
            <button type="submit" disabled={busy !== false || blockedFor > 0}>
              {blockedFor > 0
                ? `Add (wait ${formatSeconds(blockedFor)})`
                : busy === "create"
                  ? "Waiting for your device…"
                  : busy === "finish"
                    ? "Adding…"
                    : "Add"}
            </button>
            <button type="button" className="secondary" onClick={() => setAdding(false)} disabled={busy !== false}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button onClick={startAdding} disabled={busy !== false} data-testid="add-passkey">
          Add a passkey
        </button>
      )}
      {!adding && <FormError message={errors.form} code={errors.codes[0]} />}
      {message && (
        <p className="flash after" role="status" data-testid="passkeys-message">
          {message}
        </p>
      )}
    </section>
  );
}
