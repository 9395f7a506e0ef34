package store_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/store"
)

// baseTime is the fixed clock of the card tests.
var baseTime = time.Date(2025, 3, 30, 8, 0, 0, 0, time.UTC)

// commandLog counts the commands a client sends to one database.
type commandLog struct {
	mu    sync.Mutex
	db    string
	names []string
}

func (l *commandLog) started(_ context.Context, e *event.CommandStartedEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.DatabaseName == l.db {
		l.names = append(l.names, e.CommandName)
	}
}

// reset forgets the commands so far.
func (l *commandLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = nil
}

func (l *commandLog) commands() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names)
}

// deckFixture is a Decks on a database of its own.
type deckFixture struct {
	decks *store.Decks
	db    *mongo.Database
	log   *commandLog
}

// startFerretDB starts an in-process FerretDB for t, stopped at cleanup.
func startFerretDB(t *testing.T) string {
	t.Helper()
	m, err := devstack.StartMongo(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	t.Cleanup(m.Close)
	return m.URI()
}

// newDeckFixture connects to uri with a client of its own (so its command
// log sees only this fixture) and returns Decks on a fresh database.
func newDeckFixture(t *testing.T, uri string) *deckFixture {
	t.Helper()
	log := &commandLog{db: "decks_" + bson.NewObjectID().Hex()}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetMonitor(&event.CommandMonitor{Started: log.started}))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	// Registered after StartMongo's, so it runs first: Close need not wait
	// for open connections.
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := client.Database(log.db)
	decks, err := store.NewDecks(t.Context(), db, 10*time.Second)
	if err != nil {
		t.Fatalf("NewDecks: %v", err)
	}
	return &deckFixture{decks: decks, db: db, log: log}
}

func newOwnerID() string { return bson.NewObjectID().Hex() }

func mustCreateDeck(t *testing.T, d *store.Decks, owner, title string) store.Deck {
	t.Helper()
	deck, err := d.Create(t.Context(), owner, title)
	if err != nil {
		t.Fatalf("Create(%q): %v", title, err)
	}
	return deck
}

func mustAddCard(t *testing.T, d *store.Decks, owner, deckID, front string, now time.Time) store.Card {
	t.Helper()
	c, err := d.AddCard(t.Context(), owner, deckID, front, "back of "+front, now)
	if err != nil {
		t.Fatalf("AddCard(%q): %v", front, err)
	}
	return c
}

func TestDecksCreateReadRenameListDelete(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()

	before := time.Now()
	first := mustCreateDeck(t, d, owner, "Spanish")
	second := mustCreateDeck(t, d, owner, "German")
	third := mustCreateDeck(t, d, owner, "Go")
	after := time.Now()

	if first.ID == "" || first.OwnerID != owner || first.Title != "Spanish" {
		t.Errorf("created %+v", first)
	}
	if ts := first.CreatedAt; ts.Location() != time.UTC || !ts.Equal(ts.Truncate(time.Millisecond)) ||
		ts.Before(before.Add(-time.Millisecond)) || ts.After(after) {
		t.Errorf("CreatedAt = %v, want UTC milliseconds between %v and %v", ts, before, after)
	}

	got, err := d.Deck(ctx, owner, first.ID)
	if err != nil || got != first {
		t.Errorf("Deck = %+v, %v; want %+v", got, err, first)
	}

	renamed, err := d.Rename(ctx, owner, second.ID, "Deutsch")
	want := second
	want.Title = "Deutsch"
	if err != nil || renamed != want {
		t.Errorf("Rename = %+v, %v; want %+v", renamed, err, want)
	}

	list, err := d.List(ctx, owner)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if wantList := []store.Deck{third, want, first}; !slices.Equal(list, wantList) {
		t.Errorf("List (newest first) =\n%+v\nwant\n%+v", list, wantList)
	}

	if err := d.Delete(ctx, owner, second.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := d.Deck(ctx, owner, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Deck after Delete: err = %v, want ErrNotFound", err)
	}
	if err := d.Delete(ctx, owner, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
	if list, _ := d.List(ctx, owner); !slices.Equal(list, []store.Deck{third, first}) {
		t.Errorf("List after Delete = %+v", list)
	}
	if list, err := d.List(ctx, newOwnerID()); err != nil || len(list) != 0 {
		t.Errorf("List of a user with no decks = %+v, %v; want none", list, err)
	}

	byIDs, err := d.ByIDs(ctx, owner, []string{first.ID, second.ID, "junk", strings.ToUpper(third.ID)})
	if err != nil {
		t.Fatalf("ByIDs: %v", err)
	}
	wantByIDs := map[string]store.Deck{first.ID: first, strings.ToUpper(third.ID): third}
	if !maps.Equal(byIDs, wantByIDs) {
		t.Errorf("ByIDs = %+v, want %+v (deleted and malformed ids absent, keys as given)", byIDs, wantByIDs)
	}
	if got, err := d.ByIDs(ctx, owner, nil); err != nil || len(got) != 0 {
		t.Errorf("ByIDs(nil) = %v, %v", got, err)
	}
}

func TestDeleteDeckRemovesItsCardsOnly(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()

	doomed := mustCreateDeck(t, d, owner, "doomed")
	kept := mustCreateDeck(t, d, owner, "kept")
	var doomedCards []store.Card
	for _, front := range []string{"a", "b", "c"} {
		doomedCards = append(doomedCards, mustAddCard(t, d, owner, doomed.ID, front, baseTime))
	}
	keptCard := mustAddCard(t, d, owner, kept.ID, "k", baseTime)

	if err := d.Delete(ctx, owner, doomed.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, c := range doomedCards {
		if _, err := d.Card(ctx, owner, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("card %s of the deleted deck: err = %v, want ErrNotFound", c.Front, err)
		}
	}
	deckOID, _ := bson.ObjectIDFromHex(doomed.ID)
	if n, err := f.db.Collection("cards").CountDocuments(ctx, bson.D{{Key: "deckId", Value: deckOID}}); err != nil || n != 0 {
		t.Errorf("%d cards left with the deleted deck's id (%v), want 0", n, err)
	}
	due, err := d.DueCards(ctx, owner, nil, baseTime, 10)
	if err != nil || len(due) != 1 || due[0] != keptCard {
		t.Errorf("DueCards after Delete = %+v, %v; want only the kept deck's card", due, err)
	}
	if _, err := d.AddCard(ctx, owner, doomed.ID, "late", "card", baseTime); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCard to the deleted deck: err = %v, want ErrNotFound", err)
	}
}

// TestOtherUsersDecksAndCardsLookMissing checks that B can neither see nor
// change anything of A's, and that every attempt looks like a missing deck
// or card.
func TestOtherUsersDecksAndCardsLookMissing(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d := t.Context(), f.decks
	alice, bob := newOwnerID(), newOwnerID()

	deck := mustCreateDeck(t, d, alice, "Alice's")
	card := mustAddCard(t, d, alice, deck.ID, "front", baseTime)
	bobsDeck := mustCreateDeck(t, d, bob, "Bob's")
	text := "changed by Bob"

	for _, tt := range []struct {
		name string
		run  func() error
	}{
		{"Deck", func() error { _, err := d.Deck(ctx, bob, deck.ID); return err }},
		{"Rename", func() error { _, err := d.Rename(ctx, bob, deck.ID, text); return err }},
		{"Delete", func() error { return d.Delete(ctx, bob, deck.ID) }},
		{"AddCard", func() error { _, err := d.AddCard(ctx, bob, deck.ID, text, text, baseTime); return err }},
		{"Card", func() error { _, err := d.Card(ctx, bob, card.ID); return err }},
		{"UpdateCard", func() error { _, err := d.UpdateCard(ctx, bob, card.ID, &text, &text); return err }},
		{"UpdateCard with no change", func() error { _, err := d.UpdateCard(ctx, bob, card.ID, nil, nil); return err }},
		{"ReviewCard", func() error { _, err := d.ReviewCard(ctx, bob, card.ID, 5, baseTime); return err }},
		{"DeleteCard", func() error { return d.DeleteCard(ctx, bob, card.ID) }},
	} {
		if err := tt.run(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Bob's %s of Alice's: err = %v, want ErrNotFound", tt.name, err)
		}
	}

	// Lists and batches leave Alice's out, as if her deck were empty or missing.
	if got, err := d.ByIDs(ctx, bob, []string{deck.ID, bobsDeck.ID}); err != nil || !maps.Equal(got, map[string]store.Deck{bobsDeck.ID: bobsDeck}) {
		t.Errorf("Bob's ByIDs = %+v, %v; want only his deck", got, err)
	}
	if got, err := d.List(ctx, bob); err != nil || !slices.Equal(got, []store.Deck{bobsDeck}) {
		t.Errorf("Bob's List = %+v, %v; want only his deck", got, err)
	}
	if cards, hasNext, err := d.CardsPage(ctx, bob, deck.ID, 10, ""); err != nil || len(cards) != 0 || hasNext {
		t.Errorf("Bob's CardsPage of Alice's deck = %+v, %v, %v; want nothing", cards, hasNext, err)
	}
	if cards, err := d.DueCards(ctx, bob, &deck.ID, baseTime.Add(time.Hour), 10); err != nil || len(cards) != 0 {
		t.Errorf("Bob's DueCards of Alice's deck = %+v, %v; want nothing", cards, err)
	}
	if cards, err := d.DueCards(ctx, bob, nil, baseTime.Add(time.Hour), 10); err != nil || len(cards) != 0 {
		t.Errorf("Bob's DueCards = %+v, %v; want nothing (his AddCard must have left no card)", cards, err)
	}
	if n, err := d.CardCounts(ctx, bob, []string{deck.ID}); err != nil || n[deck.ID] != 0 {
		t.Errorf("Bob's CardCounts of Alice's deck = %v, %v; want 0", n, err)
	}
	if n, err := d.DueCounts(ctx, bob, []string{deck.ID}, baseTime); err != nil || n[deck.ID] != 0 {
		t.Errorf("Bob's DueCounts of Alice's deck = %v, %v; want 0", n, err)
	}
	if p, err := d.CardsByDecks(ctx, bob, []string{deck.ID}, 5); err != nil || len(p[deck.ID].Cards) != 0 || p[deck.ID].HasNext {
		t.Errorf("Bob's CardsByDecks of Alice's deck = %+v, %v; want an empty page", p, err)
	}

	// Alice's deck and card are as she left them.
	if got, err := d.Deck(ctx, alice, deck.ID); err != nil || got != deck {
		t.Errorf("Alice's deck now %+v, %v; want %+v", got, err, deck)
	}
	if got, err := d.Card(ctx, alice, card.ID); err != nil || got != card {
		t.Errorf("Alice's card now %+v, %v; want %+v", got, err, card)
	}
	if n, err := d.CardCounts(ctx, alice, []string{deck.ID}); err != nil || n[deck.ID] != 1 {
		t.Errorf("Alice's CardCounts = %v, %v; want 1", n, err)
	}
	if n, err := f.db.Collection("cards").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("%d cards in the collection (%v), want Alice's 1", n, err)
	}
}

func TestMalformedIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()
	deck := mustCreateDeck(t, d, owner, "deck")
	card := mustAddCard(t, d, owner, deck.ID, "front", baseTime)
	text := "x"

	for _, bad := range []string{"", "nope", deck.ID + "0", deck.ID[:23] + "g"} {
		for _, tt := range []struct {
			name string
			run  func() error
		}{
			{"Create by a malformed owner", func() error { _, err := d.Create(ctx, bad, "t"); return err }},
			{"List of a malformed owner", func() error { _, err := d.List(ctx, bad); return err }},
			{"ByIDs of a malformed owner", func() error { _, err := d.ByIDs(ctx, bad, []string{deck.ID}); return err }},
			{"CardCounts of a malformed owner", func() error { _, err := d.CardCounts(ctx, bad, []string{deck.ID}); return err }},
			{"Deck", func() error { _, err := d.Deck(ctx, owner, bad); return err }},
			{"Rename", func() error { _, err := d.Rename(ctx, owner, bad, "t"); return err }},
			{"Delete", func() error { return d.Delete(ctx, owner, bad) }},
			{"AddCard", func() error { _, err := d.AddCard(ctx, owner, bad, "f", "b", baseTime); return err }},
			{"AddCard by a malformed owner", func() error { _, err := d.AddCard(ctx, bad, deck.ID, "f", "b", baseTime); return err }},
			{"Card", func() error { _, err := d.Card(ctx, owner, bad); return err }},
			{"Card of a malformed owner", func() error { _, err := d.Card(ctx, bad, card.ID); return err }},
			{"UpdateCard", func() error { _, err := d.UpdateCard(ctx, owner, bad, &text, nil); return err }},
			{"DeleteCard", func() error { return d.DeleteCard(ctx, owner, bad) }},
			{"ReviewCard", func() error { _, err := d.ReviewCard(ctx, owner, bad, 3, baseTime); return err }},
			{"CardsPage", func() error { _, _, err := d.CardsPage(ctx, owner, bad, 3, ""); return err }},
			{"DueCards", func() error { _, err := d.DueCards(ctx, owner, &bad, baseTime, 3); return err }},
		} {
			if err := tt.run(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s with id %q: err = %v, want ErrNotFound", tt.name, bad, err)
			}
		}
	}
	if got, err := d.Card(ctx, owner, card.ID); err != nil || got != card {
		t.Errorf("card after the attempts: %+v, %v; want %+v", got, err, card)
	}
}

// TestCardAndDueCountsForManyDecks covers the zero-count convention and
// shows that counts for 50 decks take one command each.
func TestCardAndDueCountsForManyDecks(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()

	var ids []string
	wantCards, wantDue := map[string]int{}, map[string]int{}
	for i := range 50 {
		deck := mustCreateDeck(t, d, owner, "deck")
		ids = append(ids, deck.ID)
		wantCards[deck.ID], wantDue[deck.ID] = 0, 0
		if i%10 != 0 {
			continue
		}
		for j := range i/10 + 1 { // decks 0, 10, 20, 30, 40 hold 1..5 cards
			mustAddCard(t, d, owner, deck.ID, "card", baseTime.Add(time.Duration(j)*time.Hour))
			wantCards[deck.ID]++
			if j < 2 { // due at baseTime+1h: the first two
				wantDue[deck.ID]++
			}
		}
	}
	other := mustCreateDeck(t, d, newOwnerID(), "someone else's")
	mustAddCard(t, d, other.OwnerID, other.ID, "theirs", baseTime)
	missing := bson.NewObjectID().Hex()
	asked := append(slices.Clone(ids), other.ID, missing, "junk")
	for _, id := range []string{other.ID, missing, "junk"} {
		wantCards[id], wantDue[id] = 0, 0
	}

	f.log.reset()
	counts, err := d.CardCounts(ctx, owner, asked)
	if err != nil {
		t.Fatalf("CardCounts: %v", err)
	}
	if got := f.log.commands(); !slices.Equal(got, []string{"aggregate"}) {
		t.Errorf("CardCounts for %d decks sent %v, want one aggregate", len(asked), got)
	}
	if !maps.Equal(counts, wantCards) {
		t.Errorf("CardCounts = %v\nwant %v", counts, wantCards)
	}

	f.log.reset()
	due, err := d.DueCounts(ctx, owner, asked, baseTime.Add(time.Hour))
	if err != nil {
		t.Fatalf("DueCounts: %v", err)
	}
	if got := f.log.commands(); !slices.Equal(got, []string{"aggregate"}) {
		t.Errorf("DueCounts for %d decks sent %v, want one aggregate", len(asked), got)
	}
	if !maps.Equal(due, wantDue) {
		t.Errorf("DueCounts = %v\nwant %v", due, wantDue)
	}

	f.log.reset()
	pages, err := d.CardsByDecks(ctx, owner, asked, 2)
	if err != nil {
		t.Fatalf("CardsByDecks: %v", err)
	}
	if got := f.log.commands(); !slices.Equal(got, []string{"find", "find"}) {
		t.Errorf("CardsByDecks for %d decks sent %v, want two finds", len(asked), got)
	}
	if len(pages) != len(asked) {
		t.Errorf("CardsByDecks returned %d pages, want one per id asked (%d)", len(pages), len(asked))
	}
	for _, id := range asked {
		n := wantCards[id]
		if p := pages[id]; len(p.Cards) != min(n, 2) || p.HasNext != (n > 2) {
			t.Errorf("page of a deck with %d cards: %d cards, hasNext %v", n, len(p.Cards), p.HasNext)
		}
	}

	f.log.reset()
	if got, err := d.CardCounts(ctx, owner, []string{"junk"}); err != nil || !maps.Equal(got, map[string]int{"junk": 0}) {
		t.Errorf("CardCounts of only malformed ids = %v, %v", got, err)
	}
	if got := f.log.commands(); len(got) != 0 {
		t.Errorf("CardCounts of only malformed ids sent %v, want nothing", got)
	}
}

// A restart asks for every index again; FerretDB v1 used to drop the
// connection on that.
func TestNewDecksAndUsersTwiceOnOneDatabase(t *testing.T) {
	db := newDeckFixture(t, startFerretDB(t)).db
	for i := range 2 {
		if _, err := store.NewDecks(t.Context(), db, 5*time.Second); err != nil {
			t.Fatalf("NewDecks #%d: %v", i+1, err)
		}
		if _, err := store.NewUsers(t.Context(), db, 5*time.Second); err != nil {
			t.Fatalf("NewUsers #%d: %v", i+1, err)
		}
	}
}
