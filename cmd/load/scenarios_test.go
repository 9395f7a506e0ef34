package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateDecksGivesDecksToTheScenariosOwners(t *testing.T) {
	tests := []struct {
		scenario string
		users    int
		want     []int // decks per user after setup
	}{
		{scenario: "decks", users: 3, want: []int{2, 0, 0}},
		{scenario: "decks", users: 1, want: []int{2}},
		{scenario: "mixed", users: 3, want: []int{2, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s with %d users", tt.scenario, tt.users), func(t *testing.T) {
			srv := newFakeDeckServer(t)
			users := make([]*user, tt.users)
			for i := range users {
				users[i] = &user{cookie: fmt.Sprintf("sid=user%d", i)}
			}
			cfg := config{URLs: []*url.URL{srv.url}, Scenario: tt.scenario, Decks: 2, Cards: 3, Progress: io.Discard}
			cl := &gqlClient{http: srv.Client(), timeout: 10 * time.Second}
			if err := createDecks(context.Background(), cfg, cl, users); err != nil {
				t.Fatal(err)
			}
			for i, u := range users {
				if len(u.decks) != tt.want[i] || len(u.cards) != tt.want[i]*3 {
					t.Errorf("user %d: %d decks, %d cards; want %d decks of 3 cards", i, len(u.decks), len(u.cards), tt.want[i])
				}
				if got := srv.requests(u.cookie); got != tt.want[i]*(1+3) {
					t.Errorf("user %d sent %d setup requests, want %d", i, got, tt.want[i]*4)
				}
			}
		})
	}
}

func TestWorkersReadTheDecksOfAnOwner(t *testing.T) {
	owner := func(name string) *user { return &user{cookie: name, decks: []string{"d"}} }
	bare := func(name string) *user { return &user{cookie: name} }
	tests := []struct {
		name   string
		users  []*user
		worker int
		want   string
	}{
		{name: "own decks", users: []*user{owner("a"), owner("b")}, worker: 1, want: "b"},
		{name: "one owner", users: []*user{owner("a"), bare("b"), bare("c")}, worker: 2, want: "a"},
		{name: "two owners, by worker id", users: []*user{owner("a"), owner("b"), bare("c")}, worker: 5, want: "b"},
		{name: "no owner at all", users: []*user{bare("a"), bare("b")}, worker: 1, want: "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &worker{id: tt.worker, users: tt.users, user: tt.users[tt.worker%len(tt.users)]}
			if got := w.deckReader().cookie; got != tt.want {
				t.Errorf("worker %d reads as %s, want %s", tt.worker, got, tt.want)
			}
		})
	}
}

// fakeDeckServer answers createDeck and addCard with fresh ids and counts
// the requests by cookie.
type fakeDeckServer struct {
	*httptest.Server
	url *url.URL

	mu       sync.Mutex
	next     int
	byCookie map[string]int
}

func newFakeDeckServer(t *testing.T) *fakeDeckServer {
	t.Helper()
	s := &fakeDeckServer{byCookie: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	u, err := url.Parse(s.URL + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	s.url = u
	return s
}

func (s *fakeDeckServer) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	field := ""
	switch {
	case strings.Contains(req.Query, "createDeck("):
		field = "createDeck"
	case strings.Contains(req.Query, "addCard("):
		field = "addCard"
	default:
		http.Error(w, "unexpected query", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.next++
	id := fmt.Sprintf("%024x", s.next)
	s.byCookie[r.Header.Get("Cookie")]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{%q:{"id":%q}}}`, field, id)
}

func (s *fakeDeckServer) requests(cookie string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byCookie[cookie]
}
