package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

type deck struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	CardCount int    `json:"cardCount"`
	DueCount  int    `json:"dueCount"`
}

type card struct {
	ID           string  `json:"id"`
	Front        string  `json:"front"`
	Back         string  `json:"back"`
	DueAt        string  `json:"dueAt"`
	IntervalDays int     `json:"intervalDays"`
	Ease         float64 `json:"ease"`
	Reviews      int     `json:"reviews"`
	Deck         *deck   `json:"deck"`
}

// must runs an operation that should succeed and decodes data[field].
func (ts *testServer) must(t *testing.T, c *http.Client, q string, vars map[string]any, field string, out any) {
	t.Helper()
	r := ts.gql(t, c, q, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", field, r.Errors)
	}
	r.decode(t, field, out)
}

func (ts *testServer) createDeck(t *testing.T, c *http.Client, title string) deck {
	t.Helper()
	var d deck
	ts.must(t, c, `mutation($t: String!) { createDeck(title: $t) { id title cardCount dueCount } }`, map[string]any{"t": title}, "createDeck", &d)
	return d
}

func (ts *testServer) addCard(t *testing.T, c *http.Client, deckID, front, back string) card {
	t.Helper()
	var cd card
	ts.must(t, c, `mutation($d: ID!, $f: String!, $b: String!) { addCard(deckId: $d, front: $f, back: $b) { id front back dueAt intervalDays ease reviews deck { id } } }`,
		map[string]any{"d": deckID, "f": front, "b": back}, "addCard", &cd)
	return cd
}

func TestDecksAndCardsCRUD(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)

	d := ts.createDeck(t, c, "  Spanish verbs  ")
	if d.Title != "Spanish verbs" || d.CardCount != 0 || d.DueCount != 0 {
		t.Fatalf("createDeck = %+v", d)
	}
	c1 := ts.addCard(t, c, d.ID, "hablar", "to speak")
	ts.addCard(t, c, d.ID, "comer", "to eat")
	if c1.IntervalDays != 0 || c1.Ease != 2.5 || c1.Reviews != 0 || c1.Deck.ID != d.ID || c1.DueAt == "" {
		t.Fatalf("new card = %+v, want due now with ease 2.5, interval 0, 0 reviews", c1)
	}
	var got deck
	ts.must(t, c, `query($id: ID!) { deck(id: $id) { id title cardCount dueCount } }`, map[string]any{"id": d.ID}, "deck", &got)
	if got.CardCount != 2 || got.DueCount != 2 {
		t.Fatalf("deck = %+v, want 2 cards, 2 due", got)
	}

	var renamed deck
	ts.must(t, c, `mutation($id: ID!) { renameDeck(id: $id, title: "Verbos") { id title } }`, map[string]any{"id": d.ID}, "renameDeck", &renamed)
	if renamed.Title != "Verbos" {
		t.Fatalf("renamed = %+v", renamed)
	}
	var updated card
	ts.must(t, c, `mutation($id: ID!) { updateCard(id: $id, back: "to talk") { id front back } }`, map[string]any{"id": c1.ID}, "updateCard", &updated)
	if updated.Front != "hablar" || updated.Back != "to talk" {
		t.Fatalf("updateCard = %+v", updated)
	}
	var reviewed card
	ts.must(t, c, `mutation($id: ID!) { reviewCard(id: $id, grade: 4) { id intervalDays reviews dueAt } }`, map[string]any{"id": c1.ID}, "reviewCard", &reviewed)
	if reviewed.IntervalDays != 1 || reviewed.Reviews != 1 || reviewed.DueAt <= c1.DueAt {
		t.Fatalf("reviewCard = %+v", reviewed)
	}
	var due []card
	ts.must(t, c, `query($d: ID) { dueCards(deckId: $d) { id front } }`, map[string]any{"d": d.ID}, "dueCards", &due)
	if len(due) != 1 || due[0].Front != "comer" {
		t.Fatalf("dueCards = %+v, want only the unreviewed card", due)
	}

	var ok bool
	ts.must(t, c, `mutation($id: ID!) { deleteCard(id: $id) }`, map[string]any{"id": c1.ID}, "deleteCard", &ok)
	ts.must(t, c, `query($id: ID!) { deck(id: $id) { cardCount } }`, map[string]any{"id": d.ID}, "deck", &got)
	if !ok || got.CardCount != 1 {
		t.Fatalf("after deleteCard: ok=%v cardCount=%d", ok, got.CardCount)
	}
	ts.must(t, c, `mutation($id: ID!) { deleteDeck(id: $id) }`, map[string]any{"id": d.ID}, "deleteDeck", &ok)
	var decks []deck
	ts.must(t, c, `{ decks { id } }`, nil, "decks", &decks)
	ts.must(t, c, `{ dueCards { id } }`, nil, "dueCards", &due)
	if !ok || len(decks) != 0 || len(due) != 0 {
		t.Fatalf("after deleteDeck: decks %v, due %v (its cards must go too)", decks, due)
	}
}

func TestReviewSchedulesBySM2(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	d := ts.createDeck(t, c, "SM-2")
	type step struct {
		grade    int
		interval int
		ease     float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"perfect recall", []step{{5, 1, 2.6}, {5, 6, 2.7}, {5, 17, 2.8}, {5, 49, 2.9}}},
		{"good then lapse", []step{{4, 1, 2.5}, {4, 6, 2.5}, {2, 1, 2.18}, {4, 1, 2.18}, {4, 6, 2.18}}},
		{"ease floor", []step{{0, 1, 1.7}, {0, 1, 1.3}, {0, 1, 1.3}, {3, 1, 1.3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cd := ts.addCard(t, c, d.ID, tt.name, "back")
			for i, s := range tt.steps {
				var got card
				ts.must(t, c, `mutation($id: ID!, $g: Int!) { reviewCard(id: $id, grade: $g) { intervalDays ease reviews } }`,
					map[string]any{"id": cd.ID, "g": s.grade}, "reviewCard", &got)
				if got.IntervalDays != s.interval || got.Ease != s.ease || got.Reviews != i+1 {
					t.Fatalf("review %d (grade %d): interval %d ease %v reviews %d; want %d, %v, %d",
						i+1, s.grade, got.IntervalDays, got.Ease, got.Reviews, s.interval, s.ease, i+1)
				}
			}
		})
	}
}

func TestAnotherUsersDecksAndCardsAreForbiddenOrAbsent(t *testing.T) {
	ts := startServer(t, nil)
	alice, mallory := ts.client(t), ts.client(t)
	ts.register(t, alice)
	ts.register(t, mallory)
	d := ts.createDeck(t, alice, "Alice's")
	cd := ts.addCard(t, alice, d.ID, "front", "back")
	ids := map[string]any{"deck": d.ID, "card": cd.ID}

	mutations := []string{
		`mutation($deck: ID!) { renameDeck(id: $deck, title: "pwned") { id } }`,
		`mutation($deck: ID!) { deleteDeck(id: $deck) }`,
		`mutation($deck: ID!) { addCard(deckId: $deck, front: "x", back: "y") { id } }`,
		`mutation($card: ID!) { updateCard(id: $card, front: "pwned") { id } }`,
		`mutation($card: ID!) { deleteCard(id: $card) }`,
		`mutation($card: ID!) { reviewCard(id: $card, grade: 5) { id } }`,
	}
	for _, m := range mutations {
		vars := map[string]any{}
		for k, v := range ids {
			if strings.Contains(m, "$"+k) {
				vars[k] = v
			}
		}
		if r := ts.gql(t, mallory, m, vars); r.code() != "FORBIDDEN" {
			t.Errorf("%s by another user: %+v, want FORBIDDEN", m, r.Errors)
		}
	}
	// Reads answer as if it did not exist.
	var got *deck
	ts.must(t, mallory, `query($id: ID!) { deck(id: $id) { id title } }`, map[string]any{"id": d.ID}, "deck", &got)
	var list []deck
	ts.must(t, mallory, `{ decks { id } }`, nil, "decks", &list)
	var due []card
	ts.must(t, mallory, `query($d: ID!) { dueCards(deckId: $d) { id } }`, map[string]any{"d": d.ID}, "dueCards", &due)
	if got != nil || len(list) != 0 || len(due) != 0 {
		t.Fatalf("another user read deck=%v decks=%v due=%v", got, list, due)
	}
	// A missing deck of the caller's looks the same as another user's.
	if r := ts.gql(t, mallory, `mutation { renameDeck(id: "6565656565656565656565ff", title: "x") { id } }`, nil); r.code() != "FORBIDDEN" {
		t.Errorf("missing deck: %+v", r.Errors)
	}
	// Nothing of Alice's changed.
	var a deck
	ts.must(t, alice, `query($id: ID!) { deck(id: $id) { id title cardCount } }`, map[string]any{"id": d.ID}, "deck", &a)
	ts.must(t, alice, `query($id: ID!) { dueCards(deckId: $id) { id front reviews } }`, map[string]any{"id": d.ID}, "dueCards", &due)
	if a.Title != "Alice's" || a.CardCount != 1 || len(due) != 1 || due[0].Front != "front" || due[0].Reviews != 0 {
		t.Fatalf("Alice's data changed: %+v %+v", a, due)
	}
}

func TestDeckInputRules(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	d := ts.createDeck(t, c, "Rules")
	cd := ts.addCard(t, c, d.ID, "f", "b")
	long := strings.Repeat("é", 10_001)
	tests := []struct {
		name, q string
		vars    map[string]any
		field   string
	}{
		{"empty title", `mutation { createDeck(title: "  ") { id } }`, nil, "title"},
		{"201-character title", `mutation($t: String!) { createDeck(title: $t) { id } }`, map[string]any{"t": strings.Repeat("x", 201)}, "title"},
		{"rename to empty", `mutation($id: ID!) { renameDeck(id: $id, title: "") { id } }`, map[string]any{"id": d.ID}, "title"},
		{"empty front", `mutation($d: ID!) { addCard(deckId: $d, front: "", back: "b") { id } }`, map[string]any{"d": d.ID}, "front"},
		{"10001-character back", `mutation($d: ID!, $b: String!) { addCard(deckId: $d, front: "f", back: $b) { id } }`, map[string]any{"d": d.ID, "b": long}, "back"},
		{"update with empty back", `mutation($id: ID!) { updateCard(id: $id, back: " ") { id } }`, map[string]any{"id": cd.ID}, "back"},
		{"grade 6", `mutation($id: ID!) { reviewCard(id: $id, grade: 6) { id } }`, map[string]any{"id": cd.ID}, "grade"},
		{"grade -1", `mutation($id: ID!) { reviewCard(id: $id, grade: -1) { id } }`, map[string]any{"id": cd.ID}, "grade"},
		{"malformed deck id in mutation", `mutation { addCard(deckId: "nope", front: "f", back: "b") { id } }`, nil, "deckId"},
		{"malformed id in query", `{ deck(id: "../etc") { id } }`, nil, "id"},
		{"malformed card id", `mutation { deleteCard(id: "12") }`, nil, "id"},
		{"limit 0", `{ dueCards(limit: 0) { id } }`, nil, "limit"},
		{"first 101", `query($id: ID!) { deck(id: $id) { cards(first: 101) { edges { cursor } } } }`, map[string]any{"id": d.ID}, "first"},
		{"bad cursor", `query($id: ID!) { deck(id: $id) { cards(first: 2, after: "garbage!") { edges { cursor } } } }`, map[string]any{"id": d.ID}, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.gql(t, c, tt.q, tt.vars)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != tt.field {
				t.Fatalf("%+v, want BAD_USER_INPUT on %s", r.Errors, tt.field)
			}
		})
	}
	// The boundaries pass: 200-character titles, 10,000-character sides.
	ts.createDeck(t, c, strings.Repeat("t", 200))
	ts.addCard(t, c, d.ID, "f", strings.Repeat("é", 10_000))
}

func TestCardPagination(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	d := ts.createDeck(t, c, "Pages")
	for i := range 7 {
		ts.addCard(t, c, d.ID, fmt.Sprintf("card %d", i), "b")
	}
	type page struct {
		Cards struct {
			Edges []struct {
				Cursor string `json:"cursor"`
				Node   card   `json:"node"`
			} `json:"edges"`
			PageInfo struct {
				HasNextPage bool    `json:"hasNextPage"`
				EndCursor   *string `json:"endCursor"`
			} `json:"pageInfo"`
		} `json:"cards"`
	}
	q := `query($id: ID!, $after: String) { deck(id: $id) { cards(first: 3, after: $after) { edges { cursor node { front } } pageInfo { hasNextPage endCursor } } } }`
	var fronts []string
	var after any
	for _, want := range []struct {
		n    int
		more bool
	}{{3, true}, {3, true}, {1, false}} {
		var p page
		ts.must(t, c, q, map[string]any{"id": d.ID, "after": after}, "deck", &p)
		if len(p.Cards.Edges) != want.n || p.Cards.PageInfo.HasNextPage != want.more {
			t.Fatalf("page after %v: %d cards, hasNext %v; want %d, %v", after, len(p.Cards.Edges), p.Cards.PageInfo.HasNextPage, want.n, want.more)
		}
		for _, e := range p.Cards.Edges {
			fronts = append(fronts, e.Node.Front)
		}
		after = *p.Cards.PageInfo.EndCursor
	}
	for i, f := range fronts {
		if f != "card "+strconv.Itoa(i) {
			t.Fatalf("order %v, want creation order", fronts)
		}
	}
}

func TestDeckFieldsCostBoundedRoundTrips(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	for i := range 50 {
		d := ts.createDeck(t, c, fmt.Sprintf("deck %02d", i))
		if i%10 == 0 {
			ts.addCard(t, c, d.ID, "f", "b")
		}
	}
	q := `{ decks { id title cardCount dueCount cards(first: 5) { edges { node { id front deck { id title } } } pageInfo { hasNextPage } } } }`
	ts.awaitMailSent(t)
	before := mongoCommands(t, ts)
	var decks []deck
	ts.must(t, c, q, nil, "decks", &decks)
	used := mongoCommands(t, ts) - before
	if len(decks) != 50 {
		t.Fatalf("%d decks", len(decks))
	}
	// decks: 1 find; cardCount, dueCount: 1 aggregate each; first pages:
	// 2 finds; card.deck: none (the decks are already loaded). A query per
	// deck would be 50 or more.
	if used > 5 {
		t.Fatalf("50 decks cost %d MongoDB commands, want at most 5", used)
	}
	t.Logf("50 decks with counts and first pages: %d MongoDB commands", used)
}

func TestComplexityAndDepthLimitsRefuseBeforeRunning(t *testing.T) {
	ts := startServer(t, map[string]string{"GRAPHQL_MAX_COMPLEXITY": "500"})
	c := ts.client(t)
	ts.register(t, c)
	ts.awaitMailSent(t)
	before := mongoCommands(t, ts)
	r := ts.gql(t, c, `{ decks { cards(first: 100) { edges { node { id front back deck { id title } } } } } }`, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" && r.code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("costly query: %+v, want a complexity refusal", r.Errors)
	}
	if r.HTTP.StatusCode >= 500 || r.Data["decks"] != nil {
		t.Fatalf("status %d data %v", r.HTTP.StatusCode, r.Data)
	}
	if used := mongoCommands(t, ts) - before; used != 0 {
		t.Fatalf("a refused query ran %d MongoDB commands", used)
	}
	// Nesting card → deck → cards → … past 15 levels is refused by depth.
	deep := "{ decks { cards(first: 1) { edges { node { deck { cards(first: 1) { edges { node { deck { cards(first: 1) { edges { node { deck { cards(first: 1) { edges { cursor } } } } } } } } } } } } } } } }"
	if r := ts.gql(t, c, deep, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("deep query: %+v, want GRAPHQL_VALIDATION_FAILED", r.Errors)
	}
}

// mongoCommands is the server's count of MongoDB commands sent so far for
// requests (origin="request"): the mail sender polls the outbox in the
// background.
func mongoCommands(t *testing.T, ts *testServer) int {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "mongodb_commands_total{") && strings.Contains(line, `origin="request"`) {
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += int(n)
		}
	}
	return total
}
