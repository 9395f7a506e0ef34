package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The GraphQL documents the scenarios send.
const (
	queryAnon       = `{ __typename }`
	queryMe         = `{ me { id email } }`
	querySessions   = `{ sessions { id current } }`
	queryDecks      = `{ decks { id title cardCount dueCount cards(first: 10) { edges { node { id front } } } } }`
	mutationReg     = `mutation Register($input: RegisterInput!) { register(input: $input) { id } }`
	mutationLogin   = `mutation Login($input: LoginInput!) { login(input: $input) { id } }`
	mutationLogout  = `mutation { logout }`
	mutationRevoke  = `mutation Revoke($id: ID!) { revokeSession(id: $id) }`
	mutationDeck    = `mutation CreateDeck($title: String!) { createDeck(title: $title) { id } }`
	mutationCard    = `mutation AddCard($deckId: ID!, $front: String!, $back: String!) { addCard(deckId: $deckId, front: $front, back: $back) { id } }`
	mutationReview  = `mutation Review($id: ID!, $grade: Int!) { reviewCard(id: $id, grade: $grade) { id dueAt } }`
	subscriptionEnd = `subscription { sessionEnded { reason } }`
)

var (
	bodyAnon     = encode(queryAnon, nil)
	bodyMe       = encode(queryMe, nil)
	bodySessions = encode(querySessions, nil)
	bodyDecks    = encode(queryDecks, nil)
	bodyLogout   = encode(mutationLogout, nil)
)

// scenario is one kind of traffic.
type scenario struct {
	name  string
	doc   string // for -help and -scenario list
	users bool   // setup registers users
	decks int    // default decks per user that setup creates (0: none)
	cards int    // default cards per deck
	// deckOwners is how many users, the first ones, setup gives decks to
	// (0: every user); the workers of the others read an owner's decks.
	deckOwners int
	// sockets marks the websocket scenarios (ws, sockets): no timeline, no
	// -verify, their own driver.
	sockets bool
	step    func(ctx context.Context, w *worker)
}

// scenarios in the order -scenario list shows them.
var scenarios = []scenario{
	{name: "anon", doc: "{ __typename } with no cookie: the cost of the HTTP and GraphQL layers alone.",
		step: stepAnon},
	{name: "me", users: true, doc: "{ me { id email } } with a session cookie (the pre-created users, round-robin\n" +
		"over the workers). A null me counts as \"signed-out\".",
		step: stepMe},
	{name: "sessions", users: true, doc: "{ sessions { id current } } signed in: the user's session index.",
		step: stepSessions},
	{name: "decks", users: true, decks: 20, cards: 50, deckOwners: 1, doc: "{ decks { id title cardCount dueCount cards(first: 10) { ... } } } as one user:\n" +
		"setup gives the first user -decks decks (20) of -cards cards (50) and every worker sends\n" +
		"that user's cookie (the other -users only sign up; -users 1 skips them). One owner keeps the\n" +
		"cards collection to one user's size: FerretDB scans it whole (docs/decks-load.md).",
		step: stepDecks},
	{name: "login", users: true, doc: "login mutations with the right password for the pre-created users, no cookie sent;\n" +
		"each returns a fresh session cookie. Reports logins/s (bound by BCRYPT_COST).",
		step: stepLogin},
	{name: "mixed", users: true, decks: 3, cards: 20, doc: "per worker, at random: me 70%, sessions 10%, decks 10%, reviewCard/addCard 5%,\n" +
		"login then logout of a separate session 5% (2 requests). Setup creates -decks (3)\n" +
		"of -cards (20) per user.",
		step: stepMixed},
	{name: "ws", users: true, sockets: true, doc: "opens -c graphql-transport-ws subscriptions to sessionEnded, each on a fresh login,\n" +
		"then during -d ends them at a steady rate (alternately revokeSession from the user's other\n" +
		"session and logout with the subscriber's own cookie, on the next -url) and measures the time\n" +
		"from the ending request's response to the subscriber's next, and that complete and a close\n" +
		"with 4403 follow. Missing events are reported as lost."},
	{name: "sockets", users: true, sockets: true, doc: "sockets at scale on one instance: signs in -c sessions over -users users, reads the\n" +
		"server's RSS (-server-pid), opens one socket per session each subscribed to sessionEnded,\n" +
		"waits for the server's graphql_active_subscriptions, reads the RSS again (per socket),\n" +
		"then revokes -revoke of the sessions at once (-revoke-c in flight) from each user's\n" +
		"registration session and measures per socket the time from the revoke response to next\n" +
		"and to the close (4403), and that the other sockets get nothing, for up to -d."},
}

func scenarioByName(name string) (scenario, bool) {
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	if i < 0 {
		return scenario{}, false
	}
	return scenarios[i], true
}

// user is a signed-in user created in setup.
type user struct {
	email     string
	cookie    string // the session register signed in, "name=value"
	loginBody []byte
	decks     []string
	cards     []string
}

// worker is one goroutine issuing requests back to back over the shared
// keep-alive pool.
type worker struct {
	id       int
	client   *gqlClient
	endpoint string
	user     *user // nil when the scenario has no users
	users    []*user
	reader   *user // whose decks stepDecks reads; see deckReader
	tallies  map[string]*tally
	capacity int
	// from and to bound when record accepts an answer: from is the start
	// of the measured window, to is past any request's timeout after its
	// end. Which requests count is decided by send time (meter).
	from, to time.Time
	logins   int
}

// record counts o under op (the meter has already marked a request sent
// outside the window); a request cut short by an interrupt is not counted.
func (w *worker) record(ctx context.Context, op string, o outcome) {
	if o.done.Before(w.from) || o.done.After(w.to) || (ctx.Err() != nil && o.transport == "canceled") {
		return
	}
	t := w.tallies[op]
	if t == nil {
		t = newTally(w.capacity)
		w.tallies[op] = t
	}
	t.add(o)
}

// call posts body to the worker's endpoint and records it under op,
// checking that data.<field> is not null (failure names the check).
func (w *worker) call(ctx context.Context, op string, body []byte, cookie, field, failure string) outcome {
	o := w.client.post(ctx, w.endpoint, body, cookie)
	o.expect(field, failure)
	w.record(ctx, op, o)
	return o
}

func stepAnon(ctx context.Context, w *worker) {
	w.call(ctx, "anon", bodyAnon, "", "__typename", "no-data")
}

// stepMe also checks that the answer is this worker's user: a session
// mixed up with another user's is a wrong answer ("wrong-user").
func stepMe(ctx context.Context, w *worker) {
	o := w.client.post(ctx, w.endpoint, bodyMe, w.user.cookie)
	if v := o.expect("me", "signed-out"); !o.failed() && o.check == "" {
		var me struct {
			Email string `json:"email"`
		}
		if json.Unmarshal(v, &me) != nil || !strings.EqualFold(me.Email, w.user.email) {
			o.check = "wrong-user"
		}
	}
	w.record(ctx, "me", o)
}

func stepSessions(ctx context.Context, w *worker) {
	w.call(ctx, "sessions", bodySessions, w.user.cookie, "sessions", "signed-out")
}

func stepDecks(ctx context.Context, w *worker) {
	w.call(ctx, "decks", bodyDecks, w.deckReader().cookie, "decks", "signed-out")
}

// deckReader returns the user whose decks w reads: its own user if setup
// gave it decks, else one of the users setup did give decks to, by worker
// id (the decks scenario gives them to the first user only).
func (w *worker) deckReader() *user {
	if w.reader == nil {
		w.reader = w.user
		if owners := withDecks(w.users); len(w.user.decks) == 0 && len(owners) > 0 {
			w.reader = owners[w.id%len(owners)]
		}
	}
	return w.reader
}

// withDecks returns the leading users that setup gave decks to.
func withDecks(users []*user) []*user {
	if n := slices.IndexFunc(users, func(u *user) bool { return len(u.decks) == 0 }); n >= 0 {
		return users[:n]
	}
	return users
}

// deckOwnersIn returns the users that setup gives decks to in cfg's
// scenario: the first sc.deckOwners, or all of them.
func deckOwnersIn(cfg config, users []*user) []*user {
	sc, _ := scenarioByName(cfg.Scenario)
	if sc.deckOwners > 0 {
		return users[:min(sc.deckOwners, len(users))]
	}
	return users
}

// stepLogin signs in the workers' users in turn, without a cookie, like a
// new browser.
func stepLogin(ctx context.Context, w *worker) {
	u := w.users[(w.id+w.logins)%len(w.users)]
	w.logins++
	o := w.client.post(ctx, w.endpoint, u.loginBody, "")
	o.expect("login", "null-login")
	if !o.failed() && o.cookie == "" {
		o.check = "no-cookie"
	}
	w.record(ctx, "login", o)
}

func stepMixed(ctx context.Context, w *worker) {
	u := w.user
	switch n := randN(100); {
	case n < 70:
		stepMe(ctx, w)
	case n < 80:
		stepSessions(ctx, w)
	case n < 90:
		stepDecks(ctx, w)
	case n < 95 && n%2 == 0 && len(u.cards) > 0:
		body := encode(mutationReview, map[string]any{"id": u.cards[randN(len(u.cards))], "grade": randN(6)})
		w.call(ctx, "reviewCard", body, u.cookie, "reviewCard", "null-card")
	case n < 95 && len(u.decks) > 0:
		body := encode(mutationCard, map[string]any{"deckId": u.decks[randN(len(u.decks))], "front": "load front", "back": "load back"})
		w.call(ctx, "addCard", body, u.cookie, "addCard", "null-card")
	case n < 95:
		stepMe(ctx, w)
	default:
		// A separate session: sending the worker's cookie would end it.
		o := w.client.post(ctx, w.endpoint, u.loginBody, "")
		o.expect("login", "null-login")
		if !o.failed() && o.cookie == "" {
			o.check = "no-cookie"
		}
		w.record(ctx, "login", o)
		if o.cookie == "" {
			return
		}
		lo := w.client.post(ctx, w.endpoint, bodyLogout, o.cookie)
		if v := lo.expect("logout", "null-logout"); !lo.failed() && string(v) != "true" {
			lo.check = "logout-false"
		}
		w.record(ctx, "logout", lo)
	}
}

// errRegisterLimited explains the server's registration throttle.
var errRegisterLimited = errors.New("the server refused a registration with RATE_LIMITED: it allows REGISTER_LIMIT_PER_IP " +
	"registrations per client address per hour (default 10). Restart it for load runs with a higher limit, " +
	"e.g. REGISTER_LIMIT_PER_IP=100000, or create fewer users with -users")

// registerUsers signs up cfg.Users users with random emails, spread over
// the URLs; each keeps the session its registration signed in.
func registerUsers(ctx context.Context, cfg config, cl *gqlClient) ([]*user, error) {
	users := make([]*user, cfg.Users)
	var done atomic.Int64
	stop := every(cfg.Progress, func() string {
		return fmt.Sprintf("setup: registered %d/%d users", done.Load(), cfg.Users)
	})
	defer stop()
	err := forEach(ctx, cfg.Users, setupConcurrency, func(ctx context.Context, i int) error {
		var email string
		o := retry(ctx, func() outcome {
			email = "load-" + randomHex(8) + "@example.com" // a retry may follow a registration that went through
			body := encode(mutationReg, map[string]any{"input": map[string]any{
				"email": email, "password": cfg.Password, "name": fmt.Sprintf("Load %d", i+1)}})
			return cl.post(ctx, cfg.URLs[i%len(cfg.URLs)].String(), body, "")
		})
		o.expect("register", "null-register")
		if slices.Contains(o.codes, "RATE_LIMITED") {
			return errRegisterLimited
		}
		if o.failed() {
			return fmt.Errorf("register %s: %s", email, o.describe())
		}
		if o.cookie == "" {
			return fmt.Errorf("register %s: the response set no session cookie", email)
		}
		users[i] = &user{
			email:  email,
			cookie: o.cookie,
			loginBody: encode(mutationLogin, map[string]any{"input": map[string]any{
				"email": email, "password": cfg.Password}}),
		}
		done.Add(1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	return users, nil
}

// createDecks gives cfg.Decks decks of cfg.Cards cards to every user, or
// to the first ones in a scenario with deckOwners.
func createDecks(ctx context.Context, cfg config, cl *gqlClient, users []*user) error {
	users = deckOwnersIn(cfg, users)
	var decks, cards atomic.Int64
	totalDecks := len(users) * cfg.Decks
	stop := every(cfg.Progress, func() string {
		return fmt.Sprintf("setup: %d/%d decks, %d/%d cards", decks.Load(), totalDecks, cards.Load(), totalDecks*cfg.Cards)
	})
	defer stop()
	var mu sync.Mutex
	err := forEach(ctx, totalDecks, setupConcurrency, func(ctx context.Context, i int) error {
		u, d := users[i%len(users)], i/len(users)
		ep := cfg.URLs[i%len(cfg.URLs)].String()
		body := encode(mutationDeck, map[string]any{"title": fmt.Sprintf("Load deck %d", d+1)})
		o := retry(ctx, func() outcome { return cl.post(ctx, ep, body, u.cookie) })
		deckID := idOf(o.expect("createDeck", "null-deck"))
		if o.failed() || deckID == "" {
			return fmt.Errorf("createDeck: %s", o.describe())
		}
		decks.Add(1)
		ids := make([]string, 0, cfg.Cards)
		for c := range cfg.Cards {
			body := encode(mutationCard, map[string]any{"deckId": deckID,
				"front": fmt.Sprintf("front %d.%d", d+1, c+1), "back": fmt.Sprintf("back %d.%d", d+1, c+1)})
			o := retry(ctx, func() outcome { return cl.post(ctx, ep, body, u.cookie) })
			id := idOf(o.expect("addCard", "null-card"))
			if o.failed() || id == "" {
				return fmt.Errorf("addCard: %s", o.describe())
			}
			ids = append(ids, id)
			cards.Add(1)
		}
		mu.Lock()
		u.decks = append(u.decks, deckID)
		u.cards = append(u.cards, ids...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return nil
}

// retry calls post again, up to 6 times in all with pauses of 1, 2, 4, 8
// and 8 s, while it fails in a way that may pass (SERVICE_UNAVAILABLE, a
// timeout, a dropped connection). Only setup retries: a measured request
// counts as it came back. A retried write may have been done twice.
func retry(ctx context.Context, post func() outcome) outcome {
	for attempt := 1; ; attempt++ {
		o := post()
		if attempt == 6 || !transient(o) || !sleep(ctx, min(time.Second<<(attempt-1), 8*time.Second)) {
			return o
		}
	}
}

func transient(o outcome) bool {
	switch o.transport {
	case "timeout", "connection reset", "connection closed early":
		return true
	}
	return slices.Contains(o.codes, "SERVICE_UNAVAILABLE") || o.status == 502 || o.status == 503 || o.status == 504
}

// idOf reads the id of an object like {"id":"..."}.
func idOf(raw json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.ID
}

// forEach runs fn for 0..n-1 with at most limit at once and returns the
// first error, after which the remaining calls are not started.
func forEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// every prints render() to w each second until stop is called, then once more.
func every(w io.Writer, render func() string) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintln(w, render())
			case <-quit:
				fmt.Fprintln(w, render())
				return
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
