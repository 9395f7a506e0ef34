package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/srs"
)

var (
	// ErrBadCursor is returned by CardsPage for an after cursor it did not
	// issue.
	ErrBadCursor = errors.New("malformed cursor")
	// ErrConflict is returned by ReviewCard when concurrent reviews of the
	// same card kept winning the race; nothing was saved, a retry may pass.
	ErrConflict = errors.New("concurrent update")
)

// Card is a flashcard with its SM-2 schedule (see package srs). OwnerID
// repeats the deck's owner so that every query can filter by owner. The
// length of Front and Back is checked by the caller.
type Card struct {
	ID           string
	DeckID       string
	OwnerID      string
	Front        string
	Back         string
	DueAt        time.Time
	IntervalDays int
	Ease         float64
	Reviews      int
	Streak       int // successful reviews since the last lapse
	CreatedAt    time.Time
}

// Cursor returns the opaque position of c in its deck for CardsPage: the
// card's id, base64url-encoded. A cursor stays valid after its card is
// deleted.
func (c Card) Cursor() string {
	oid, err := bson.ObjectIDFromHex(c.ID)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(oid[:])
}

func parseCursor(cursor string) (bson.ObjectID, error) {
	var oid bson.ObjectID
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) != len(oid) {
		return oid, ErrBadCursor
	}
	copy(oid[:], b)
	return oid, nil
}

// CardPage is a run of a deck's cards in creation order, and whether more
// follow.
type CardPage struct {
	Cards   []Card
	HasNext bool
}

type cardDoc struct {
	ID           bson.ObjectID `bson:"_id"`
	DeckID       bson.ObjectID `bson:"deckId"`
	OwnerID      bson.ObjectID `bson:"ownerId"`
	Front        string        `bson:"front"`
	Back         string        `bson:"back"`
	DueAt        time.Time     `bson:"dueAt"`
	IntervalDays int           `bson:"intervalDays"`
	Ease         float64       `bson:"ease"`
	Reviews      int           `bson:"reviews"`
	Streak       int           `bson:"streak"`
	CreatedAt    time.Time     `bson:"createdAt"`
}

func (d *cardDoc) card() Card {
	return Card{
		ID: d.ID.Hex(), DeckID: d.DeckID.Hex(), OwnerID: d.OwnerID.Hex(),
		Front: d.Front, Back: d.Back,
		DueAt: d.DueAt.UTC(), IntervalDays: d.IntervalDays, Ease: d.Ease, Reviews: d.Reviews, Streak: d.Streak,
		CreatedAt: d.CreatedAt.UTC(),
	}
}

func (d *cardDoc) state() srs.State {
	return srs.State{IntervalDays: d.IntervalDays, Ease: d.Ease, Reviews: d.Reviews, Streak: d.Streak, DueAt: d.DueAt}
}

// AddCard inserts a card into the owner's deck, due at now with the
// schedule of srs.New, or returns ErrNotFound if the deck is not the
// owner's.
//
// It checks the deck, inserts the card, then checks the deck again and
// removes the card if the deck has gone meanwhile: with Delete's final
// sweep, a card racing its deck's deletion is removed by one or the other.
func (d *Decks) AddCard(ctx context.Context, ownerID, deckID, front, back string, now time.Time) (Card, error) {
	owner, deck, ok := parseOwned(ownerID, deckID)
	if !ok {
		return Card{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if _, err := d.findDeck(ctx, owned(owner, deck)); err != nil {
		return Card{}, err
	}
	now = now.UTC().Truncate(time.Millisecond)
	s := srs.New(now)
	doc := cardDoc{
		ID: bson.NewObjectID(), DeckID: deck, OwnerID: owner,
		Front: front, Back: back,
		DueAt: s.DueAt, IntervalDays: s.IntervalDays, Ease: s.Ease, Reviews: s.Reviews, Streak: s.Streak,
		CreatedAt: now,
	}
	if _, err := d.cards.InsertOne(ctx, doc); err != nil {
		return Card{}, classify("insert card", err)
	}
	if _, err := d.findDeck(ctx, owned(owner, deck)); err != nil {
		if !errors.Is(err, ErrNotFound) {
			return Card{}, err
		}
		if _, err := d.cards.DeleteOne(ctx, owned(owner, doc.ID)); err != nil {
			return Card{}, classify("remove card of a deleted deck", err)
		}
		return Card{}, ErrNotFound
	}
	return doc.card(), nil
}

// Card returns the owner's card with cardID, or ErrNotFound.
func (d *Decks) Card(ctx context.Context, ownerID, cardID string) (Card, error) {
	filter, ok := ownedFilter(ownerID, cardID)
	if !ok {
		return Card{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	doc, err := d.findCard(ctx, filter)
	if err != nil {
		return Card{}, err
	}
	return doc.card(), nil
}

func (d *Decks) findCard(ctx context.Context, filter bson.D) (cardDoc, error) {
	var doc cardDoc
	err := d.cards.FindOne(ctx, filter).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return cardDoc{}, ErrNotFound
	}
	if err != nil {
		return cardDoc{}, classify("find card", err)
	}
	return doc, nil
}

// UpdateCard sets the front and back of the owner's card that are not nil
// and returns the card, or ErrNotFound. The schedule is left alone.
func (d *Decks) UpdateCard(ctx context.Context, ownerID, cardID string, front, back *string) (Card, error) {
	filter, ok := ownedFilter(ownerID, cardID)
	if !ok {
		return Card{}, ErrNotFound
	}
	var set bson.D
	if front != nil {
		set = append(set, bson.E{Key: "front", Value: *front})
	}
	if back != nil {
		set = append(set, bson.E{Key: "back", Value: *back})
	}
	if set == nil {
		return d.Card(ctx, ownerID, cardID)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var doc cardDoc
	err := d.cards.FindOneAndUpdate(ctx, filter, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Card{}, ErrNotFound
	}
	if err != nil {
		return Card{}, classify("update card", err)
	}
	return doc.card(), nil
}

// DeleteCard deletes the owner's card, or returns ErrNotFound.
func (d *Decks) DeleteCard(ctx context.Context, ownerID, cardID string) error {
	filter, ok := ownedFilter(ownerID, cardID)
	if !ok {
		return ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	res, err := d.cards.DeleteOne(ctx, filter)
	if err != nil {
		return classify("delete card", err)
	}
	if res.DeletedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// reviewAttempts bounds ReviewCard's read-and-save rounds.
const reviewAttempts = 3

// ReviewCard records one review of the owner's card with grade 0..5 at now
// (srs.Review) and returns the card as saved. Errors: srs.ErrBadGrade
// before anything is read, ErrNotFound, or ErrConflict.
//
// It reads the card, computes the new schedule and saves it only if the
// card's review count is still the one it read, so that of two concurrent
// reviews neither overwrites the other: the loser reads again and applies
// its review on top of the winner's, up to reviewAttempts times in all.
// MongoDB applies that conditional update atomically; FerretDB v1 does not
// (its SQLite handler queries, then writes, outside a transaction:
// FerretDB issue #3040), so on the development stack two reviews at the
// same instant can still lose one.
func (d *Decks) ReviewCard(ctx context.Context, ownerID, cardID string, grade int, now time.Time) (Card, error) {
	if err := srs.CheckGrade(grade); err != nil {
		return Card{}, err
	}
	filter, ok := ownedFilter(ownerID, cardID)
	if !ok {
		return Card{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	for range reviewAttempts {
		doc, err := d.findCard(ctx, filter)
		if err != nil {
			return Card{}, err
		}
		s, err := srs.Review(doc.state(), grade, now)
		if err != nil {
			return Card{}, err
		}
		saved, err := d.saveReview(ctx, &doc, s)
		if err != nil {
			return Card{}, err
		}
		if saved {
			return doc.card(), nil
		}
	}
	return Card{}, ErrConflict
}

// saveReview stores schedule s on the card doc was read as, unless the
// card has been reviewed since; then it returns false. On success doc
// holds s.
func (d *Decks) saveReview(ctx context.Context, doc *cardDoc, s srs.State) (bool, error) {
	s.DueAt = s.DueAt.UTC().Truncate(time.Millisecond)
	res, err := d.cards.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: doc.ID}, {Key: "ownerId", Value: doc.OwnerID}, {Key: "reviews", Value: doc.Reviews}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "dueAt", Value: s.DueAt},
			{Key: "intervalDays", Value: s.IntervalDays},
			{Key: "ease", Value: s.Ease},
			{Key: "reviews", Value: s.Reviews},
			{Key: "streak", Value: s.Streak},
		}}})
	if err != nil {
		return false, classify("save review", err)
	}
	if res.MatchedCount == 0 {
		return false, nil
	}
	doc.DueAt, doc.IntervalDays, doc.Ease, doc.Reviews, doc.Streak = s.DueAt, s.IntervalDays, s.Ease, s.Reviews, s.Streak
	return true, nil
}

// CardsPage returns up to first cards of the owner's deck in creation
// order, starting after the card whose Cursor is after ("" for the start),
// and whether more follow. A deck that is missing or not the owner's has
// no cards; a malformed id is ErrNotFound, a malformed cursor ErrBadCursor.
// first is capped by the caller.
func (d *Decks) CardsPage(ctx context.Context, ownerID, deckID string, first int, after string) (cards []Card, hasNext bool, err error) {
	if first < 0 {
		return nil, false, fmt.Errorf("cards page: first = %d, want at least 0", first)
	}
	owner, deck, ok := parseOwned(ownerID, deckID)
	if !ok {
		return nil, false, ErrNotFound
	}
	filter := bson.D{{Key: "ownerId", Value: owner}, {Key: "deckId", Value: deck}}
	if after != "" {
		from, err := parseCursor(after)
		if err != nil {
			return nil, false, err
		}
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: from}}})
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	docs, err := d.findCards(ctx, "cards page", filter, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(first)+1))
	if err != nil {
		return nil, false, err
	}
	page := pageOf(docs, first)
	return page.Cards, page.HasNext, nil
}

// DueCards returns up to limit of the owner's cards due at now (dueAt ≤
// now), soonest due first, from all decks or from the deck with *deckID.
// A malformed deck id is ErrNotFound; a deck that is missing or not the
// owner's has no cards.
func (d *Decks) DueCards(ctx context.Context, ownerID string, deckID *string, now time.Time, limit int) ([]Card, error) {
	if limit < 1 {
		return nil, fmt.Errorf("due cards: limit = %d, want at least 1", limit)
	}
	owner, ok := parseID(ownerID)
	if !ok {
		return nil, ErrNotFound
	}
	filter := bson.D{{Key: "ownerId", Value: owner}}
	if deckID != nil {
		deck, ok := parseID(*deckID)
		if !ok {
			return nil, ErrNotFound
		}
		filter = append(filter, bson.E{Key: "deckId", Value: deck})
	}
	filter = append(filter, bson.E{Key: "dueAt", Value: bson.D{{Key: "$lte", Value: now}}})
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	docs, err := d.findCards(ctx, "due cards", filter, options.Find().
		SetSort(bson.D{{Key: "dueAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	cards := make([]Card, len(docs))
	for i := range docs {
		cards[i] = docs[i].card()
	}
	return cards, nil
}

// CardCounts returns how many cards each of the owner's decks among
// deckIDs holds, in one aggregation, for a dataloader. Every id given is a
// key, as given; it maps to 0 for an empty deck and equally for a missing
// deck, another user's deck or a malformed id.
func (d *Decks) CardCounts(ctx context.Context, ownerID string, deckIDs []string) (map[string]int, error) {
	return d.countByDeck(ctx, "count cards", ownerID, deckIDs)
}

// DueCounts is CardCounts counting only the cards due at now (dueAt ≤
// now).
func (d *Decks) DueCounts(ctx context.Context, ownerID string, deckIDs []string, now time.Time) (map[string]int, error) {
	return d.countByDeck(ctx, "count due cards", ownerID, deckIDs,
		bson.E{Key: "dueAt", Value: bson.D{{Key: "$lte", Value: now}}})
}

func (d *Decks) countByDeck(ctx context.Context, op, ownerID string, deckIDs []string, match ...bson.E) (map[string]int, error) {
	owner, ok := parseID(ownerID)
	if !ok {
		return nil, ErrNotFound
	}
	counts := make(map[string]int, len(deckIDs))
	for _, id := range deckIDs {
		counts[id] = 0
	}
	byOID := parseIDs(deckIDs)
	if len(byOID) == 0 {
		return counts, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	filter := append(bson.D{
		{Key: "ownerId", Value: owner},
		{Key: "deckId", Value: bson.D{{Key: "$in", Value: keys(byOID)}}},
	}, match...)
	cur, err := d.cards.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: filter}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$deckId"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, classify(op, err)
	}
	var rows []struct {
		Deck bson.ObjectID `bson:"_id"`
		N    int           `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, classify(op, err)
	}
	for _, r := range rows {
		for _, id := range byOID[r.Deck] {
			counts[id] = r.N
		}
	}
	return counts, nil
}

// idScanBatch is the batch size of CardsByDecks' id scan: ids are small,
// so one reply usually carries them all.
const idScanBatch = 10_000

// CardsByDecks returns the first page (perDeck cards, creation order) of
// each of the owner's decks among deckIDs, for a dataloader. Every id given
// is a key, as given; a missing deck, another user's deck or a malformed id
// gets an empty page.
//
// It takes two queries whatever the number of decks. A find's limit is
// for the whole result, and per-group limits ($push with $slice, $facet,
// $unionWith, window functions) are beyond FerretDB, so a single find that
// returned whole cards would return every card of every deck. Instead the
// first query reads only (_id, deckId) of the decks' cards, sorted by deck
// then id, from the (ownerId, deckId, _id) index (a covered query on
// MongoDB), keeping perDeck per deck and noting a further one as HasNext;
// the second fetches the kept cards: at most len(deckIDs)×perDeck whole
// documents. The id scan is bounded only by the decks' sizes (two small
// fields a card); it ends early once every deck has shown perDeck+1.
func (d *Decks) CardsByDecks(ctx context.Context, ownerID string, deckIDs []string, perDeck int) (map[string]CardPage, error) {
	if perDeck < 0 {
		return nil, fmt.Errorf("cards by decks: perDeck = %d, want at least 0", perDeck)
	}
	owner, ok := parseID(ownerID)
	if !ok {
		return nil, ErrNotFound
	}
	pages := make(map[string]CardPage, len(deckIDs))
	for _, id := range deckIDs {
		pages[id] = CardPage{}
	}
	byOID := parseIDs(deckIDs)
	if len(byOID) == 0 {
		return pages, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()

	cur, err := d.cards.Find(ctx, bson.D{
		{Key: "ownerId", Value: owner},
		{Key: "deckId", Value: bson.D{{Key: "$in", Value: keys(byOID)}}},
	}, options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "deckId", Value: 1}}).
		SetSort(bson.D{{Key: "deckId", Value: 1}, {Key: "_id", Value: 1}}).
		SetBatchSize(idScanBatch))
	if err != nil {
		return nil, classify("scan card ids", err)
	}
	defer cur.Close(ctx)
	seen := make(map[bson.ObjectID]int, len(byOID)) // cards seen per deck, up to perDeck+1
	hasNext := make(map[bson.ObjectID]bool)
	var chosen bson.A
	for full := 0; full < len(byOID) && cur.Next(ctx); {
		var row struct {
			ID   bson.ObjectID `bson:"_id"`
			Deck bson.ObjectID `bson:"deckId"`
		}
		if err := cur.Decode(&row); err != nil {
			return nil, fmt.Errorf("scan card ids: %w", err)
		}
		switch n := seen[row.Deck]; {
		case n < perDeck:
			chosen = append(chosen, row.ID)
		case n == perDeck:
			hasNext[row.Deck] = true
			full++
		default:
			continue
		}
		seen[row.Deck]++
	}
	if err := cur.Err(); err != nil {
		return nil, classify("scan card ids", err)
	}
	for deck := range hasNext {
		for _, id := range byOID[deck] {
			pages[id] = CardPage{HasNext: true}
		}
	}
	if len(chosen) == 0 {
		return pages, nil
	}

	docs, err := d.findCards(ctx, "find first cards", bson.D{
		{Key: "ownerId", Value: owner},
		{Key: "_id", Value: bson.D{{Key: "$in", Value: chosen}}},
	}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetBatchSize(int32(min(len(chosen)+1, idScanBatch)))) // +1: FerretDB keeps a cursor open after a batch of exactly the documents left
	if err != nil {
		return nil, err
	}
	for i := range docs {
		for _, id := range byOID[docs[i].DeckID] {
			p := pages[id]
			p.Cards = append(p.Cards, docs[i].card())
			pages[id] = p
		}
	}
	return pages, nil
}

func (d *Decks) findCards(ctx context.Context, op string, filter bson.D, opts *options.FindOptionsBuilder) ([]cardDoc, error) {
	cur, err := d.cards.Find(ctx, filter, opts)
	if err != nil {
		return nil, classify(op, err)
	}
	var docs []cardDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify(op, err)
	}
	return docs, nil
}

// pageOf turns up to first+1 documents into a page of first.
func pageOf(docs []cardDoc, first int) CardPage {
	p := CardPage{Cards: make([]Card, 0, min(len(docs), first)), HasNext: len(docs) > first}
	for i := range docs[:min(len(docs), first)] {
		p.Cards = append(p.Cards, docs[i].card())
	}
	return p
}
