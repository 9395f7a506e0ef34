package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Deck is a user's deck of flashcards. The title is trimmed and its length
// checked by the caller.
type Deck struct {
	ID        string
	OwnerID   string
	Title     string
	CreatedAt time.Time
}

type deckDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	OwnerID   bson.ObjectID `bson:"ownerId"`
	Title     string        `bson:"title"`
	CreatedAt time.Time     `bson:"createdAt"`
}

func (d *deckDoc) deck() Deck {
	return Deck{ID: d.ID.Hex(), OwnerID: d.OwnerID.Hex(), Title: d.Title, CreatedAt: d.CreatedAt.UTC()}
}

// Decks is the decks collection and the cards collection, one type because
// a card's life depends on its deck's.
//
// Ownership is enforced here: every method takes the owner's id and every
// query filters by it, so another user's deck or card cannot be told from
// a missing one: single reads and all mutations return ErrNotFound, lists
// and batches leave them out (batch counts and pages report them as empty),
// and the cards of a deck that is not the owner's are those of an empty
// deck. A malformed id (owner, deck or card) passed alone is ErrNotFound; in
// a batch it is treated as a missing deck.
//
// There are no transactions (FerretDB has none), so multi-step operations
// are ordered to leave nothing a user can see half done; see Delete and
// AddCard. Times are stored as BSON datetimes (milliseconds) and returned
// in UTC.
type Decks struct {
	decks   *mongo.Collection
	cards   *mongo.Collection
	timeout time.Duration
	indexes *Indexes
}

// NewDecks returns the decks and cards collections of db and creates their
// indexes if missing: at once if MongoDB answers within timeout, else in
// the background until it does or ctx ends (see [Indexes]). It fails only
// when MongoDB answers and refuses an index. timeout bounds each call,
// whatever the number of round trips it takes.
func NewDecks(ctx context.Context, db *mongo.Database, timeout time.Duration) (*Decks, error) {
	d := &Decks{decks: db.Collection("decks"), cards: db.Collection("cards"), timeout: timeout}
	ix, err := createIndexes(ctx, "decks and cards", timeout, func(ctx context.Context) error {
		err := ensureIndexes(ctx, d.decks, mongo.IndexModel{ // List
			Keys:    bson.D{{Key: "ownerId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}},
			Options: options.Index().SetName("owner_created"),
		})
		if err != nil {
			return err
		}
		return ensureIndexes(ctx, d.cards,
			mongo.IndexModel{ // CardsPage, CardsByDecks, CardCounts, Delete
				Keys:    bson.D{{Key: "ownerId", Value: 1}, {Key: "deckId", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("owner_deck_id"),
			},
			mongo.IndexModel{ // DueCards of one deck, DueCounts
				Keys:    bson.D{{Key: "ownerId", Value: 1}, {Key: "deckId", Value: 1}, {Key: "dueAt", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("owner_deck_due"),
			},
			mongo.IndexModel{ // DueCards of all decks
				Keys:    bson.D{{Key: "ownerId", Value: 1}, {Key: "dueAt", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("owner_due"),
			},
		)
	})
	if err != nil {
		return nil, err
	}
	d.indexes = ix
	return d, nil
}

// Indexes is the creation of the collections' indexes, for readiness
// checks and shutdown.
func (d *Decks) Indexes() *Indexes { return d.indexes }

// Create inserts a deck owned by ownerID and returns it with its new ID and
// creation time (millisecond precision, UTC).
func (d *Decks) Create(ctx context.Context, ownerID, title string) (Deck, error) {
	owner, ok := parseID(ownerID)
	if !ok {
		return Deck{}, ErrNotFound
	}
	doc := deckDoc{
		ID:        bson.NewObjectID(),
		OwnerID:   owner,
		Title:     title,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if _, err := d.decks.InsertOne(ctx, doc); err != nil {
		return Deck{}, classify("insert deck", err)
	}
	return doc.deck(), nil
}

// Deck returns the owner's deck with deckID, or ErrNotFound.
func (d *Decks) Deck(ctx context.Context, ownerID, deckID string) (Deck, error) {
	filter, ok := ownedFilter(ownerID, deckID)
	if !ok {
		return Deck{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	return d.findDeck(ctx, filter)
}

func (d *Decks) findDeck(ctx context.Context, filter bson.D) (Deck, error) {
	var doc deckDoc
	err := d.decks.FindOne(ctx, filter).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Deck{}, ErrNotFound
	}
	if err != nil {
		return Deck{}, classify("find deck", err)
	}
	return doc.deck(), nil
}

// Rename sets the title of the owner's deck and returns the deck, or
// ErrNotFound.
func (d *Decks) Rename(ctx context.Context, ownerID, deckID, title string) (Deck, error) {
	filter, ok := ownedFilter(ownerID, deckID)
	if !ok {
		return Deck{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var doc deckDoc
	err := d.decks.FindOneAndUpdate(ctx, filter,
		bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: title}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Deck{}, ErrNotFound
	}
	if err != nil {
		return Deck{}, classify("rename deck", err)
	}
	return doc.deck(), nil
}

// Delete deletes the owner's deck and its cards, or returns ErrNotFound.
//
// It deletes the cards first, then the deck, then sweeps the cards again.
// Cards first: if it stops half way, what is left is a deck with fewer
// cards, which the user still sees and can delete again, never cards of a
// deck that is gone (they would still show among the due cards). The sweep
// removes a card that a concurrent AddCard inserted after the first pass;
// AddCard removes its own card if the deck vanished before the sweep could
// see the card (see AddCard).
func (d *Decks) Delete(ctx context.Context, ownerID, deckID string) error {
	owner, deck, ok := parseOwned(ownerID, deckID)
	if !ok {
		return ErrNotFound
	}
	cards := bson.D{{Key: "ownerId", Value: owner}, {Key: "deckId", Value: deck}}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if _, err := d.cards.DeleteMany(ctx, cards); err != nil {
		return classify("delete deck's cards", err)
	}
	res, err := d.decks.DeleteOne(ctx, owned(owner, deck))
	if err != nil {
		return classify("delete deck", err)
	}
	if res.DeletedCount == 0 {
		return ErrNotFound
	}
	if _, err := d.cards.DeleteMany(ctx, cards); err != nil {
		return classify("sweep deleted deck's cards", err)
	}
	return nil
}

// List returns the owner's decks, newest first.
func (d *Decks) List(ctx context.Context, ownerID string) ([]Deck, error) {
	owner, ok := parseID(ownerID)
	if !ok {
		return nil, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	cur, err := d.decks.Find(ctx, bson.D{{Key: "ownerId", Value: owner}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		return nil, classify("list decks", err)
	}
	var docs []deckDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("list decks", err)
	}
	decks := make([]Deck, len(docs))
	for i := range docs {
		decks[i] = docs[i].deck()
	}
	return decks, nil
}

// ByIDs returns the owner's decks among ids in one query, for a dataloader.
// The map is keyed by the ids as given; ids of missing decks, other users'
// decks and malformed ids are absent from it.
func (d *Decks) ByIDs(ctx context.Context, ownerID string, ids []string) (map[string]Deck, error) {
	owner, ok := parseID(ownerID)
	if !ok {
		return nil, ErrNotFound
	}
	byOID := parseIDs(ids)
	found := make(map[string]Deck, len(byOID))
	if len(byOID) == 0 {
		return found, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	cur, err := d.decks.Find(ctx, bson.D{
		{Key: "ownerId", Value: owner},
		{Key: "_id", Value: bson.D{{Key: "$in", Value: keys(byOID)}}},
	})
	if err != nil {
		return nil, classify("find decks", err)
	}
	var docs []deckDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("find decks", err)
	}
	for i := range docs {
		for _, id := range byOID[docs[i].ID] {
			found[id] = docs[i].deck()
		}
	}
	return found, nil
}

// parseID parses a hex ObjectID; ok is false for a malformed one.
func parseID(id string) (bson.ObjectID, bool) {
	oid, err := bson.ObjectIDFromHex(id)
	return oid, err == nil
}

// parseOwned parses an owner's id and a document's id; ok is false if
// either is malformed.
func parseOwned(ownerID, id string) (owner, oid bson.ObjectID, ok bool) {
	owner, ok1 := parseID(ownerID)
	oid, ok2 := parseID(id)
	return owner, oid, ok1 && ok2
}

// owned is the filter for the document with id if owner owns it.
func owned(owner, id bson.ObjectID) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "ownerId", Value: owner}}
}

// ownedFilter is owned on ids still to parse, or false if either is
// malformed.
func ownedFilter(ownerID, id string) (bson.D, bool) {
	owner, oid, ok := parseOwned(ownerID, id)
	return owned(owner, oid), ok
}

// parseIDs maps each well-formed id in ids to the strings it was given as
// (hex is case-insensitive, and a batch may repeat an id), so batch results
// can be keyed by the caller's own strings.
func parseIDs(ids []string) map[bson.ObjectID][]string {
	m := make(map[bson.ObjectID][]string, len(ids))
	for _, id := range ids {
		if oid, ok := parseID(id); ok {
			m[oid] = append(m[oid], id)
		}
	}
	return m
}

func keys(m map[bson.ObjectID][]string) bson.A {
	a := make(bson.A, 0, len(m))
	for oid := range m {
		a = append(a, oid)
	}
	return a
}

// ValidID reports whether id has the form of a stored document's id, so
// callers can refuse a malformed one as bad input rather than "not found".
func ValidID(id string) bool {
	_, ok := parseID(id)
	return ok
}
