import { useApolloClient, useQuery } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, Flash, FormError } from "../Field";
import { describeError, graphQLErrorsOf, noErrors, toFormErrors, type FormErrors } from "../errors";
import { CREATE_DECK, DECKS } from "../operations";
import { Link, navigate, useLocation } from "../router";

export function Decks() {
  const client = useApolloClient();
  const loc = useLocation();
  const { data, loading, error } = useQuery(DECKS, { fetchPolicy: "cache-and-network" });
  const [title, setTitle] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors(noErrors);
    try {
      const { data } = await client.mutate({
        mutation: CREATE_DECK,
        variables: { title },
        refetchQueries: [DECKS],
        awaitRefetchQueries: true,
      });
      setTitle("");
      if (data) navigate(`/decks/${encodeURIComponent(data.createDeck.id)}`);
    } catch (err) {
      setErrors(toFormErrors(err, ["title"]));
    } finally {
      setBusy(false);
    }
  }

  const decks = data?.decks ?? [];
  const firstError = graphQLErrorsOf(error)[0];
  return (
    <div className="card">
      <Flash message={loc.flash} />
      <h1>Your decks</h1>
      {error && !data && (
        <p className="form-error" role="alert" data-testid="decks-error">
          {firstError ? describeError(firstError) : error.message}
        </p>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
      {data && decks.length === 0 && <p className="muted">No decks yet. Create one below.</p>}
      <ul className="decks" data-testid="decks">
        {decks.map((d) => (
          <li key={d.id} data-testid="deck" data-deck-id={d.id}>
            <Link to={`/decks/${encodeURIComponent(d.id)}`}>{d.title}</Link>
            <span className="muted small">
              {d.cardCount} {d.cardCount === 1 ? "card" : "cards"} · <span className={d.dueCount ? "due" : ""}>{d.dueCount} due</span>
            </span>
          </li>
        ))}
      </ul>
      <form onSubmit={create} noValidate className="inline-form" data-testid="create-deck">
        <Field label="New deck" name="title" placeholder="e.g. Spanish verbs" value={title} onChange={(e) => setTitle(e.target.value)} error={errors.fields.title} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create deck"}
        </button>
      </form>
      <FormError message={errors.form} code={errors.codes[0]} />
    </div>
  );
}
