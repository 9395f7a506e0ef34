package store_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sessiongql/server/internal/srs"
	"github.com/sessiongql/server/internal/store"
)

func fronts(cards []store.Card) []string {
	s := make([]string, len(cards))
	for i, c := range cards {
		s[i] = c.Front
	}
	return s
}

func TestCardLifecycle(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()
	deck := mustCreateDeck(t, d, owner, "deck")

	now := time.Date(2025, 3, 30, 8, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	card, err := d.AddCard(ctx, owner, deck.ID, "hola", "hello", now)
	if err != nil {
		t.Fatalf("AddCard: %v", err)
	}
	stored := now.UTC().Truncate(time.Millisecond)
	want := store.Card{
		ID: card.ID, DeckID: deck.ID, OwnerID: owner, Front: "hola", Back: "hello",
		DueAt: stored, IntervalDays: 0, Ease: 2.5, Reviews: 0, Streak: 0, CreatedAt: stored,
	}
	if card != want || card.ID == "" {
		t.Fatalf("AddCard =\n%+v\nwant a new card due at once:\n%+v", card, want)
	}
	if got, err := d.Card(ctx, owner, card.ID); err != nil || got != card {
		t.Errorf("Card = %+v, %v; want %+v", got, err, card)
	}

	front, back := "adiós", "goodbye"
	for _, tt := range []struct {
		name        string
		front, back *string
		want        store.Card
	}{
		{"front only", &front, nil, func() store.Card { c := want; c.Front = front; return c }()},
		{"back only", nil, &back, func() store.Card { c := want; c.Front, c.Back = front, back; return c }()},
		{"neither", nil, nil, func() store.Card { c := want; c.Front, c.Back = front, back; return c }()},
	} {
		got, err := d.UpdateCard(ctx, owner, card.ID, tt.front, tt.back)
		if err != nil || got != tt.want {
			t.Errorf("UpdateCard %s = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}

	if err := d.DeleteCard(ctx, owner, card.ID); err != nil {
		t.Fatalf("DeleteCard: %v", err)
	}
	if _, err := d.Card(ctx, owner, card.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Card after DeleteCard: err = %v, want ErrNotFound", err)
	}
	if err := d.DeleteCard(ctx, owner, card.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteCard: err = %v, want ErrNotFound", err)
	}
	if _, err := d.UpdateCard(ctx, owner, card.ID, &front, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateCard of a deleted card: err = %v, want ErrNotFound", err)
	}
}

func TestCardsPageWalksADeckInCreationOrder(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()
	deck := mustCreateDeck(t, d, owner, "seven")
	other := mustCreateDeck(t, d, owner, "other")
	var cards []store.Card
	for i, front := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		// Due times run backwards: the order is creation, not due time.
		cards = append(cards, mustAddCard(t, d, owner, deck.ID, front, baseTime.Add(-time.Duration(i)*time.Hour)))
		mustAddCard(t, d, owner, other.ID, "other "+front, baseTime)
	}

	type page struct {
		fronts  []string
		hasNext bool
	}
	for _, tt := range []struct {
		name  string
		first int
		after string
		want  page
	}{
		{"first page", 3, "", page{[]string{"1", "2", "3"}, true}},
		{"second page", 3, cards[2].Cursor(), page{[]string{"4", "5", "6"}, true}},
		{"last page", 3, cards[5].Cursor(), page{[]string{"7"}, false}},
		{"after the last card", 3, cards[6].Cursor(), page{[]string{}, false}},
		{"exactly the rest", 4, cards[2].Cursor(), page{[]string{"4", "5", "6", "7"}, false}},
		{"all at once", 100, "", page{[]string{"1", "2", "3", "4", "5", "6", "7"}, false}},
		{"none asked", 0, "", page{[]string{}, true}},
	} {
		got, hasNext, err := d.CardsPage(ctx, owner, deck.ID, tt.first, tt.after)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(fronts(got), tt.want.fronts) || hasNext != tt.want.hasNext {
			t.Errorf("%s: got %v, hasNext %v; want %v, %v", tt.name, fronts(got), hasNext, tt.want.fronts, tt.want.hasNext)
		}
	}
	if got, _, _ := d.CardsPage(ctx, owner, deck.ID, 1, ""); len(got) != 1 || got[0] != cards[0] {
		t.Errorf("CardsPage returned %+v, want the whole card %+v", got, cards[0])
	}

	// A deleted card's cursor still marks its place.
	if err := d.DeleteCard(ctx, owner, cards[3].ID); err != nil {
		t.Fatal(err)
	}
	if got, _, err := d.CardsPage(ctx, owner, deck.ID, 2, cards[3].Cursor()); err != nil || !slices.Equal(fronts(got), []string{"5", "6"}) {
		t.Errorf("page after a deleted card's cursor = %v, %v; want [5 6]", fronts(got), err)
	}

	for _, bad := range []string{"not-a-cursor", "!!!", cards[0].ID, base64.RawURLEncoding.EncodeToString([]byte("short")), cards[0].Cursor() + "="} {
		if _, _, err := d.CardsPage(ctx, owner, deck.ID, 3, bad); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("CardsPage after %q: err = %v, want ErrBadCursor", bad, err)
		}
	}
	if _, _, err := d.CardsPage(ctx, owner, deck.ID, -1, ""); err == nil {
		t.Error("CardsPage with first -1 succeeded")
	}
}

func TestCardsByDecksReturnsEachDecksFirstPage(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()
	empty := mustCreateDeck(t, d, owner, "empty")
	two := mustCreateDeck(t, d, owner, "two")
	five := mustCreateDeck(t, d, owner, "five")
	var fives []store.Card
	for i := range 5 {
		// Interleaved inserts: each deck's page is in its own creation order.
		fives = append(fives, mustAddCard(t, d, owner, five.ID, string(rune('a'+i)), baseTime))
		if i < 2 {
			mustAddCard(t, d, owner, two.ID, string(rune('A'+i)), baseTime)
		}
	}
	ids := []string{five.ID, empty.ID, two.ID}

	for _, tt := range []struct {
		perDeck int
		want    map[string][]string
		hasNext map[string]bool
	}{
		{3, map[string][]string{empty.ID: {}, two.ID: {"A", "B"}, five.ID: {"a", "b", "c"}}, map[string]bool{five.ID: true}},
		{2, map[string][]string{empty.ID: {}, two.ID: {"A", "B"}, five.ID: {"a", "b"}}, map[string]bool{five.ID: true}},
		{5, map[string][]string{empty.ID: {}, two.ID: {"A", "B"}, five.ID: {"a", "b", "c", "d", "e"}}, map[string]bool{}},
		{0, map[string][]string{empty.ID: {}, two.ID: {}, five.ID: {}}, map[string]bool{two.ID: true, five.ID: true}},
	} {
		pages, err := d.CardsByDecks(ctx, owner, ids, tt.perDeck)
		if err != nil {
			t.Fatalf("CardsByDecks(perDeck %d): %v", tt.perDeck, err)
		}
		if len(pages) != len(ids) {
			t.Errorf("perDeck %d: %d pages, want %d", tt.perDeck, len(pages), len(ids))
		}
		for id, want := range tt.want {
			p := pages[id]
			if !slices.Equal(fronts(p.Cards), want) || p.HasNext != tt.hasNext[id] {
				t.Errorf("perDeck %d: page %v, hasNext %v; want %v, %v", tt.perDeck, fronts(p.Cards), p.HasNext, want, tt.hasNext[id])
			}
		}
	}
	pages, _ := d.CardsByDecks(ctx, owner, []string{five.ID}, 1)
	if got := pages[five.ID].Cards; len(got) != 1 || got[0] != fives[0] {
		t.Errorf("CardsByDecks returned %+v, want the whole card %+v", got, fives[0])
	}
	if _, err := d.CardsByDecks(ctx, owner, ids, -1); err == nil {
		t.Error("CardsByDecks with perDeck -1 succeeded")
	}
}

func TestDueCardsAreSoonestFirstAndFilteredByDeck(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()
	spanish := mustCreateDeck(t, d, owner, "Spanish")
	german := mustCreateDeck(t, d, owner, "German")

	// A card is due at its creation time.
	mustAddCard(t, d, owner, spanish.ID, "es 3h", baseTime.Add(3*time.Hour))
	mustAddCard(t, d, owner, spanish.ID, "es 1h", baseTime.Add(1*time.Hour))
	mustAddCard(t, d, owner, german.ID, "de 2h", baseTime.Add(2*time.Hour))
	mustAddCard(t, d, owner, spanish.ID, "es 2h", baseTime.Add(2*time.Hour)) // same due time: creation order
	mustAddCard(t, d, owner, german.ID, "de 30m", baseTime.Add(30*time.Minute))
	mustAddCard(t, d, owner, spanish.ID, "es 9h", baseTime.Add(9*time.Hour)) // not due yet
	reviewed := mustAddCard(t, d, owner, german.ID, "de reviewed", baseTime)
	if _, err := d.ReviewCard(ctx, owner, reviewed.ID, 5, baseTime); err != nil { // now due in a day
		t.Fatal(err)
	}
	stranger := newOwnerID()
	mustAddCard(t, d, stranger, mustCreateDeck(t, d, stranger, "x").ID, "someone else's", baseTime)

	now := baseTime.Add(3 * time.Hour) // due includes dueAt == now
	for _, tt := range []struct {
		name  string
		deck  *string
		limit int
		want  []string
	}{
		{"all decks", nil, 10, []string{"de 30m", "es 1h", "de 2h", "es 2h", "es 3h"}},
		{"all decks, limited", nil, 2, []string{"de 30m", "es 1h"}},
		{"Spanish", &spanish.ID, 10, []string{"es 1h", "es 2h", "es 3h"}},
		{"German", &german.ID, 10, []string{"de 30m", "de 2h"}},
		{"German, limited", &german.ID, 1, []string{"de 30m"}},
	} {
		got, err := d.DueCards(ctx, owner, tt.deck, now, tt.limit)
		if err != nil || !slices.Equal(fronts(got), tt.want) {
			t.Errorf("%s: DueCards = %v, %v; want %v", tt.name, fronts(got), err, tt.want)
		}
	}
	if got, err := d.DueCards(ctx, owner, nil, baseTime.Add(-time.Hour), 10); err != nil || len(got) != 0 {
		t.Errorf("DueCards before any is due = %v, %v", fronts(got), err)
	}
	if _, err := d.DueCards(ctx, owner, nil, now, 0); err == nil {
		t.Error("DueCards with limit 0 succeeded")
	}
}

func TestReviewCardSchedulesBySM2(t *testing.T) {
	t.Parallel()
	f := newDeckFixture(t, startFerretDB(t))
	ctx, d, owner := t.Context(), f.decks, newOwnerID()
	deck := mustCreateDeck(t, d, owner, "deck")
	card := mustAddCard(t, d, owner, deck.ID, "front", baseTime)

	want := srs.New(baseTime)
	now := baseTime
	for i, grade := range []int{5, 5, 5, 2, 4, 0, 0, 0, 3} {
		now = now.Add(time.Duration(i+1)*time.Hour + 1500*time.Microsecond) // sub-millisecond part is dropped
		var err error
		want, err = srs.Review(want, grade, now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.ReviewCard(ctx, owner, card.ID, grade, now)
		if err != nil {
			t.Fatalf("review %d (grade %d): %v", i+1, grade, err)
		}
		wantCard := card
		wantCard.DueAt = want.DueAt.Truncate(time.Millisecond)
		wantCard.IntervalDays, wantCard.Ease, wantCard.Reviews, wantCard.Streak = want.IntervalDays, want.Ease, want.Reviews, want.Streak
		if got != wantCard {
			t.Fatalf("review %d (grade %d) =\n%+v\nwant\n%+v", i+1, grade, got, wantCard)
		}
		if stored, err := d.Card(ctx, owner, card.ID); err != nil || stored != got {
			t.Fatalf("review %d stored %+v, %v; returned %+v", i+1, stored, err, got)
		}
	}
	if want.Ease != 1.3 || want.Reviews != 9 || want.Streak != 1 {
		t.Errorf("the sequence ended at %+v; want it to reach the ease floor", want)
	}

	for _, grade := range []int{-1, 6} {
		if _, err := d.ReviewCard(ctx, owner, card.ID, grade, now); !errors.Is(err, srs.ErrBadGrade) {
			t.Errorf("ReviewCard(grade %d): err = %v, want srs.ErrBadGrade", grade, err)
		}
	}
	if got, _ := d.Card(ctx, owner, card.ID); got.Reviews != 9 {
		t.Errorf("after rejected grades the card has %d reviews, want 9", got.Reviews)
	}
}
