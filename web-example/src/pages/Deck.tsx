import { useApolloClient, useQuery } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "../Field";
import { describeError, graphQLErrorsOf, noErrors, toFormErrors, type FormErrors } from "../errors";
import { formatTime, relative } from "../format";
import {
  ADD_CARD,
  DECK,
  DECKS,
  DELETE_CARD,
  DELETE_DECK,
  DUE_CARDS,
  RENAME_DECK,
  REVIEW_CARD,
  UPDATE_CARD,
  type Card,
  type DeckWithCards,
} from "../operations";
import { Link, navigate } from "../router";

/** What changes when a card is added, edited, reviewed or deleted. */
const AFTER_CARD_CHANGE = [DECK, DUE_CARDS, DECKS];

export function DeckPage({ id }: { id: string }) {
  const { data, loading, error, fetchMore } = useQuery(DECK, { variables: { id }, fetchPolicy: "cache-and-network" });
  const deck = data?.deck;
  const firstError = graphQLErrorsOf(error)[0];

  if (error && !data) {
    return (
      <div className="card">
        <p className="form-error" role="alert">
          {firstError ? describeError(firstError) : error.message}
        </p>
        <Link to="/">Back to your decks</Link>
      </div>
    );
  }
  if (loading && !data) return <p className="muted">Loading…</p>;
  if (!deck) {
    return (
      <div className="card">
        <h1>No such deck</h1>
        <Link to="/">Back to your decks</Link>
      </div>
    );
  }
  return (
    <>
      <DeckHeader deck={deck} />
      <Study deckId={deck.id} />
      <AddCard deckId={deck.id} />
      <CardList deck={deck} loadMore={() => fetchMore({ variables: { id, after: deck.cards.pageInfo.endCursor } })} />
    </>
  );
}

function DeckHeader({ deck }: { deck: DeckWithCards }) {
  const client = useApolloClient();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(deck.title);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [errors, setErrors] = useState<FormErrors>(noErrors);

  async function rename(e: FormEvent) {
    e.preventDefault();
    setErrors(noErrors);
    try {
      await client.mutate({ mutation: RENAME_DECK, variables: { id: deck.id, title } });
      setEditing(false);
    } catch (err) {
      setErrors(toFormErrors(err, ["title"]));
    }
  }

  async function remove() {
    setErrors(noErrors);
    try {
      await client.mutate({ mutation: DELETE_DECK, variables: { id: deck.id }, refetchQueries: [DECKS], awaitRefetchQueries: true });
      client.cache.evict({ id: client.cache.identify({ __typename: "Deck", id: deck.id }) });
      client.cache.gc();
      navigate("/", { replace: true, flash: `Deleted “${deck.title}”.` });
    } catch (err) {
      setErrors(toFormErrors(err, []));
    }
  }

  return (
    <div className="card">
      <p className="muted small">
        <Link to="/">← All decks</Link>
      </p>
      {editing ? (
        <form onSubmit={rename} noValidate className="inline-form">
          <Field label="Title" name="title" value={title} onChange={(e) => setTitle(e.target.value)} error={errors.fields.title} autoFocus />
          <button type="submit">Save</button>
          <button type="button" className="secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <h1 data-testid="deck-title">{deck.title}</h1>
      )}
      <p>
        <span data-testid="card-count">{deck.cardCount}</span> {deck.cardCount === 1 ? "card" : "cards"} ·{" "}
        <strong data-testid="due-count">{deck.dueCount}</strong> due now
      </p>
      <div className="row">
        {!editing && (
          <button
            className="secondary"
            onClick={() => {
              setTitle(deck.title);
              setEditing(true);
            }}
          >
            Rename
          </button>
        )}
        {confirmDelete ? (
          <>
            <button className="danger" onClick={remove} data-testid="confirm-delete-deck">
              Really delete this deck and its cards
            </button>
            <button className="secondary" onClick={() => setConfirmDelete(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button className="secondary" onClick={() => setConfirmDelete(true)}>
            Delete deck
          </button>
        )}
      </div>
      <FormError message={errors.form} code={errors.codes[0]} />
    </div>
  );
}

const GRADES: [number, string][] = [
  [0, "Blackout"],
  [1, "Wrong"],
  [2, "Almost"],
  [3, "Hard"],
  [4, "Good"],
  [5, "Easy"],
];

function Study({ deckId }: { deckId: string }) {
  const client = useApolloClient();
  const { data, loading, error } = useQuery(DUE_CARDS, { variables: { deckId, limit: 20 }, fetchPolicy: "cache-and-network" });
  const [shown, setShown] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<FormErrors>(noErrors);

  const card = data?.dueCards[0];

  async function grade(c: Card, g: number) {
    setBusy(true);
    setFailure(noErrors);
    try {
      await client.mutate({
        mutation: REVIEW_CARD,
        variables: { id: c.id, grade: g },
        refetchQueries: AFTER_CARD_CHANGE,
        awaitRefetchQueries: true,
      });
      setShown(null);
    } catch (err) {
      setFailure(toFormErrors(err, ["grade"]));
    } finally {
      setBusy(false);
    }
  }

  const firstError = graphQLErrorsOf(error)[0];
  return (
    <div className="card study" data-testid="study">
      <h2>Study</h2>
      {error && !data && (
        <p className="form-error" role="alert">
          {firstError ? describeError(firstError) : error.message}
        </p>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
      {data && !card && (
        <p className="muted" data-testid="nothing-due">
          Nothing is due. Come back later.
        </p>
      )}
      {card && (
        <div className="flashcard" data-testid="due-card" data-card-id={card.id}>
          <div className="front" data-testid="due-front">
            {card.front}
          </div>
          {shown === card.id ? (
            <>
              <div className="back" data-testid="due-back">
                {card.back}
              </div>
              <p className="muted small">How well did you remember it?</p>
              <div className="grades">
                {GRADES.map(([g, label]) => (
                  <button key={g} onClick={() => grade(card, g)} disabled={busy} data-testid={`grade-${g}`} title={label}>
                    {g} <span className="small">{label}</span>
                  </button>
                ))}
              </div>
            </>
          ) : (
            <button onClick={() => setShown(card.id)} data-testid="show-answer">
              Show answer
            </button>
          )}
          <p className="muted small">
            {data!.dueCards.length} due in this session · reviewed {card.reviews}×
          </p>
        </div>
      )}
      <FormError message={failure.fields.grade ?? failure.form} code={failure.codes[0]} />
    </div>
  );
}

function AddCard({ deckId }: { deckId: string }) {
  const client = useApolloClient();
  const [front, setFront] = useState("");
  const [back, setBack] = useState("");
  const [errors, setErrors] = useState<FormErrors>(noErrors);
  const [busy, setBusy] = useState(false);

  async function add(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors(noErrors);
    try {
      await client.mutate({
        mutation: ADD_CARD,
        variables: { deckId, front, back },
        refetchQueries: AFTER_CARD_CHANGE,
        awaitRefetchQueries: true,
      });
      setFront("");
      setBack("");
    } catch (err) {
      setErrors(toFormErrors(err, ["front", "back"]));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card">
      <h2>Add a card</h2>
      <form onSubmit={add} noValidate data-testid="add-card">
        <Field label="Front" name="front" value={front} onChange={(e) => setFront(e.target.value)} error={errors.fields.front} />
        <Field label="Back" name="back" value={back} onChange={(e) => setBack(e.target.value)} error={errors.fields.back} />
        <FormError message={errors.form} code={errors.codes[0]} />
        <button type="submit" disabled={busy}>
          {busy ? "Adding…" : "Add card"}
        </button>
      </form>
    </div>
  );
}

function CardList({ deck, loadMore }: { deck: DeckWithCards; loadMore: () => Promise<unknown> }) {
  const [more, setMore] = useState(false);
  const edges = deck.cards.edges;
  return (
    <div className="card">
      <h2>Cards</h2>
      {edges.length === 0 && <p className="muted">No cards yet.</p>}
      <ul className="cards" data-testid="cards">
        {edges.map(({ node }) => (
          <CardRow key={node.id} card={node} />
        ))}
      </ul>
      {deck.cards.pageInfo.hasNextPage && (
        <button
          className="secondary"
          disabled={more}
          onClick={async () => {
            setMore(true);
            try {
              await loadMore();
            } finally {
              setMore(false);
            }
          }}
        >
          {more ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}

function CardRow({ card }: { card: Card }) {
  const client = useApolloClient();
  const [editing, setEditing] = useState(false);
  const [front, setFront] = useState(card.front);
  const [back, setBack] = useState(card.back);
  const [errors, setErrors] = useState<FormErrors>(noErrors);

  async function save(e: FormEvent) {
    e.preventDefault();
    setErrors(noErrors);
    try {
      await client.mutate({ mutation: UPDATE_CARD, variables: { id: card.id, front, back }, refetchQueries: [DUE_CARDS] });
      setEditing(false);
    } catch (err) {
      setErrors(toFormErrors(err, ["front", "back"]));
    }
  }

  async function remove() {
    setErrors(noErrors);
    try {
      await client.mutate({ mutation: DELETE_CARD, variables: { id: card.id }, refetchQueries: AFTER_CARD_CHANGE, awaitRefetchQueries: true });
    } catch (err) {
      setErrors(toFormErrors(err, []));
    }
  }

  if (editing) {
    return (
      <li data-testid="card" data-card-id={card.id}>
        <form onSubmit={save} noValidate className="card-edit">
          <Field label="Front" name="front" value={front} onChange={(e) => setFront(e.target.value)} error={errors.fields.front} />
          <Field label="Back" name="back" value={back} onChange={(e) => setBack(e.target.value)} error={errors.fields.back} />
          <div className="row">
            <button type="submit">Save</button>
            <button type="button" className="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
          <FormError message={errors.form} code={errors.codes[0]} />
        </form>
      </li>
    );
  }
  const due = new Date(card.dueAt).getTime() <= Date.now();
  return (
    <li data-testid="card" data-card-id={card.id}>
      <div className="qa">
        <span className="front">{card.front}</span>
        <span className="back muted">{card.back}</span>
      </div>
      <div className="muted small" title={`due ${formatTime(card.dueAt)}`}>
        {due ? <span className="due">due now</span> : <>due {relative(card.dueAt)}</>} · every {card.intervalDays} d · ease {card.ease.toFixed(2)} · {card.reviews} {card.reviews === 1 ? "review" : "reviews"}
      </div>
      <div className="row">
        <button
          className="secondary small"
          onClick={() => {
            setFront(card.front);
            setBack(card.back);
            setEditing(true);
          }}
        >
          Edit
        </button>
        <button className="secondary small" onClick={remove}>
          Delete
        </button>
      </div>
      <FormError message={errors.form} code={errors.codes[0]} />
    </li>
  );
}
