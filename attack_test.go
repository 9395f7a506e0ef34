package main

// Adversarial tests: each reproduces an attack on the whole server (docs/API.md,
// "Subscriptions" and "Throttling and races") and asserts the contract.
// Requests that race run on goroutines released together; those goroutines
// never call t.Fatal (tryGQL, startTogether), the test goroutine judges.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// startTogether runs f(0) … f(n-1) on n goroutines that wait at one start
// gun, fired once all of them are ready, and returns when all have
// returned. f runs on a goroutine other than the test's: it must not call
// t.Fatal, t.FailNow or anything that does.
func startTogether(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	gun := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-gun
			f(i)
		}()
	}
	ready.Wait()
	close(gun)
	done.Wait()
}

// tryGQL is ts.gql for any goroutine: a failed exchange is returned, not
// reported to the test.
func (ts *testServer) tryGQL(c *http.Client, query string, vars map[string]any) (gqlResponse, error) {
	return ts.tryGQLWith(c, nil, query, vars)
}

// tryGQLWith is tryGQL with extra request headers.
func (ts *testServer) tryGQLWith(c *http.Client, header http.Header, query string, vars map[string]any) (gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return gqlResponse{}, err
	}
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	out := gqlResponse{HTTP: resp}
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("status %d, body is not JSON: %q", resp.StatusCode, raw)
	}
	return out, nil
}

// retryAfter returns the first error's extensions.retryAfter, or 0.
func retryAfter(r gqlResponse) float64 {
	if len(r.Errors) == 0 {
		return 0
	}
	ra, _ := r.Errors[0].Extensions["retryAfter"].(float64)
	return ra
}

// throttleTally counts answers by code; a RATE_LIMITED answer without a
// positive retryAfter, an exchange that failed and any code outside
// allowed are listed in odd.
type throttleTally struct {
	codes map[string]int
	odd   []string
}

func tallyThrottled(rs []gqlResponse, errs []error, allowed ...string) throttleTally {
	tally := throttleTally{codes: map[string]int{}}
	for i, r := range rs {
		if errs[i] != nil {
			tally.odd = append(tally.odd, fmt.Sprintf("#%d: %v", i, errs[i]))
			continue
		}
		code := r.code()
		if code == "" {
			code = "OK"
		}
		tally.codes[code]++
		switch {
		case code == "RATE_LIMITED" && retryAfter(r) <= 0:
			tally.odd = append(tally.odd, fmt.Sprintf("#%d: RATE_LIMITED without a positive retryAfter: %+v", i, r.Errors))
		case code != "RATE_LIMITED" && !slices.Contains(allowed, code):
			tally.odd = append(tally.odd, fmt.Sprintf("#%d: %s %+v", i, code, r.Errors))
		}
	}
	return tally
}

// expectChecked fails t unless at most limit answers were
// INVALID_CREDENTIALS (passwords checked) and every other answer was an
// allowed one.
func (tally throttleTally) expectChecked(t *testing.T, limit int) {
	t.Helper()
	t.Logf("answers: %v", tally.codes)
	if n := tally.codes["INVALID_CREDENTIALS"]; n > limit {
		t.Errorf("%d answers INVALID_CREDENTIALS (passwords checked), want at most %d", n, limit)
	}
	for _, o := range tally.odd {
		t.Errorf("unexpected answer %s", o)
	}
}

// postRaw sends body to /graphql as JSON, or does a GET with the query
// when method is GET, and returns the status and the body read in full.
func postRaw(c *http.Client, base, method, body string, header map[string]string) (int, []byte, error) {
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(http.MethodGet, base+"/graphql?query="+url.QueryEscape(body), nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// --- websockets -----------------------------------------------------------

// wsEvent is one message a socket received, or (err set, last) its end.
type wsEvent struct {
	msg wsMessage
	err error
	at  time.Time
}

// events reads the socket on a goroutine of its own until it ends, so the
// test can time a close while it does other things. The reader answers
// the server's pings and never calls t.
func (c *wsClient) events() <-chan wsEvent {
	ch := make(chan wsEvent, 4096)
	go func() {
		defer close(ch)
		for {
			_, b, err := c.conn.Read(context.Background())
			if err != nil {
				ch <- wsEvent{err: err, at: time.Now()}
				return
			}
			var m wsMessage
			if err := json.Unmarshal(b, &m); err != nil {
				ch <- wsEvent{err: fmt.Errorf("message is not JSON: %q", b), at: time.Now()}
				return
			}
			if m.Type == "ping" {
				_ = c.trySend(wsMessage{Type: "pong"})
				continue
			}
			ch <- wsEvent{msg: m, at: time.Now()}
		}
	}()
	return ch
}

// trySend writes m, returning the error (the socket may be closed already).
func (c *wsClient) trySend(m wsMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageText, b)
}

// trySubscribe sends a subscribe message (any operation type).
func (c *wsClient) trySubscribe(id, query string, vars map[string]any) error {
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	return c.trySend(wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

// wsLog is what a socket has received so far.
type wsLog struct {
	msgs     []wsMessage
	closeErr error // set once the socket has ended
	closedAt time.Time
}

// take adds events until the socket ends, until, or done(l) is true.
func (l *wsLog) take(events <-chan wsEvent, until time.Time, done func(*wsLog) bool) {
	if l.closeErr != nil {
		return
	}
	timer := time.NewTimer(time.Until(until))
	defer timer.Stop()
	for {
		if done != nil && done(l) {
			return
		}
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.err != nil {
				l.closeErr, l.closedAt = ev.err, ev.at
				return
			}
			l.msgs = append(l.msgs, ev.msg)
		case <-timer.C:
			return
		}
	}
}

func (l *wsLog) byID(id string) []wsMessage {
	var out []wsMessage
	for _, m := range l.msgs {
		if m.ID == id {
			out = append(out, m)
		}
	}
	return out
}

func (l *wsLog) ofType(typ string) []wsMessage {
	var out []wsMessage
	for _, m := range l.msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// closed4403 describes how the socket ended unless it was closed with
// 4403 UNAUTHENTICATED; "" when it was.
func (l *wsLog) closed4403() string {
	if l.closeErr == nil {
		return "still open"
	}
	var ce websocket.CloseError
	if !errors.As(l.closeErr, &ce) {
		return fmt.Sprintf("ended without a close frame: %v", l.closeErr)
	}
	if ce.Code != 4403 || ce.Reason != "UNAUTHENTICATED" {
		return fmt.Sprintf("closed with %d %q", ce.Code, ce.Reason)
	}
	return ""
}

// wsErrors returns the extensions.code of each error that an "error" or
// "next" message carries, and whether it carried any non-null data.
func wsErrors(m wsMessage) (codes []string, data bool) {
	var errs []gqlError
	switch m.Type {
	case "error":
		_ = json.Unmarshal(m.Payload, &errs)
	case "next":
		var p struct {
			Data   map[string]json.RawMessage `json:"data"`
			Errors []gqlError                 `json:"errors"`
		}
		_ = json.Unmarshal(m.Payload, &p)
		errs = p.Errors
		for _, v := range p.Data {
			if string(v) != "null" {
				data = true
			}
		}
	}
	for _, e := range errs {
		c, _ := e.Extensions["code"].(string)
		codes = append(codes, c)
	}
	return codes, data
}

// --- a. an ended session over an open websocket ---------------------------

const (
	changePasswordMutation = `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`
	updateMeMutation       = `mutation($i: UpdateMeInput!) { updateMe(input: $i) { id email name } }`
)

// deadSocketProbes are operations sent on a socket right after its session
// ended. Every one must be refused, and none may change anything.
func deadSocketProbes(marker, password string) map[string]struct {
	query string
	vars  map[string]any
} {
	return map[string]struct {
		query string
		vars  map[string]any
	}{
		"me":                  {`{ me { id email } }`, nil},
		"createDeck":          {`mutation($t: String!) { createDeck(title: $t) { id } }`, map[string]any{"t": marker}},
		"updateMe":            {updateMeMutation, map[string]any{"i": map[string]any{"name": marker}}},
		"logoutOtherSessions": {`mutation { logoutOtherSessions }`, nil},
		"changePassword": {changePasswordMutation, map[string]any{"i": map[string]any{
			"currentPassword": password, "newPassword": "dead socket " + marker}}},
	}
}

// endedSession is a user with two sessions: the victim's, which a socket
// opens with and which then ends, and the actor's, which stays live.
type endedSession struct {
	ts     *testServer
	u      user
	pw     string // the password once the victim's session has ended
	actor  *http.Client
	victim *http.Client
}

func newEndedSession(t *testing.T, ts *testServer) *endedSession {
	t.Helper()
	s := &endedSession{ts: ts, actor: ts.client(t), victim: ts.client(t)}
	s.u, s.pw = ts.register(t, s.actor)
	ts.login(t, s.victim, s.u.Email, s.pw)
	return s
}

// probeDeadSocket sends every probe on ws at once, then reads until the
// socket ends or until; it reports a probe that returned data or was
// answered otherwise than UNAUTHENTICATED.
func probeDeadSocket(t *testing.T, ws *wsClient, events <-chan wsEvent, log *wsLog, s *endedSession, marker string, until time.Time) {
	t.Helper()
	probes := deadSocketProbes(marker, s.pw)
	for id, p := range probes {
		_ = ws.trySubscribe(id, p.query, p.vars) // the socket may be closed already
	}
	log.take(events, until, nil)
	if log.closeErr == nil {
		// Still open (a failure reported by the caller): give the probes a
		// moment to show what they did.
		log.take(events, time.Now().Add(time.Second), func(l *wsLog) bool {
			for id := range probes {
				if len(l.byID(id)) == 0 {
					return false
				}
			}
			return true
		})
	}
	var answered []string
	for id := range probes {
		msgs := log.byID(id)
		if len(msgs) > 0 {
			answered = append(answered, id)
		}
		if len(msgs) == 0 {
			if log.closeErr == nil {
				t.Errorf("%s on the dead socket: no answer and the socket is open", id)
			}
			continue // the socket closed before answering: refused
		}
		codes, data := wsErrors(msgs[0])
		if data || !slices.Contains(codes, "UNAUTHENTICATED") {
			t.Errorf("%s on the dead socket: %s %s, want an error with UNAUTHENTICATED and no data", id, msgs[0].Type, msgs[0].Payload)
		}
	}
	t.Logf("probes answered before the socket closed: %v", answered)
}

// checkNothingChanged asserts that no probe had an effect, over HTTP.
func checkNothingChanged(t *testing.T, s *endedSession, marker string) {
	t.Helper()
	ts := s.ts
	if ts.me(t, s.actor) == nil {
		t.Errorf("the user's other session ended: logoutOtherSessions or changePassword ran on the dead socket")
	}
	fresh := ts.client(t)
	if r := ts.gql(t, fresh, loginMutation, map[string]any{"i": map[string]any{"email": s.u.Email, "password": s.pw}}); len(r.Errors) > 0 {
		t.Fatalf("login with the password the user has: %+v (changePassword ran on the dead socket?)", r.Errors)
	}
	if me := ts.me(t, fresh); me == nil || me.Name == marker {
		t.Errorf("me = %+v: updateMe ran on the dead socket", me)
	}
	var decks []deck
	ts.must(t, fresh, `{ decks { id title } }`, nil, "decks", &decks)
	for _, d := range decks {
		if d.Title == marker {
			t.Errorf("deck %q exists: createDeck ran on the dead socket", d.Title)
		}
	}
}

func TestAttackEndedSessionCannotUseOpenSocket(t *testing.T) {
	ts := startServer(t, map[string]string{"REGISTER_LIMIT_PER_IP": "100", "LOGIN_LIMIT_PER_IP": "1000"})

	ends := []struct {
		name string
		end  func(t *testing.T, s *endedSession)
	}{
		{"logout", func(t *testing.T, s *endedSession) {
			var ok bool
			ts.gql(t, s.victim, logoutMutation, nil).decode(t, "logout", &ok)
			if !ok {
				t.Fatal("logout = false")
			}
		}},
		{"revokeSession from another session", func(t *testing.T, s *endedSession) {
			var ok bool
			var id string
			for _, info := range ts.sessions(t, s.victim) {
				if info.Current {
					id = info.ID
				}
			}
			ts.gql(t, s.actor, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": id}).decode(t, "revokeSession", &ok)
			if !ok {
				t.Fatal("revokeSession = false")
			}
		}},
		{"changePassword from another session", func(t *testing.T, s *endedSession) {
			next := "changed elsewhere " + randomHex(4)
			var ok bool
			ts.gql(t, s.actor, changePasswordMutation, map[string]any{"i": map[string]any{"currentPassword": s.pw, "newPassword": next}}).decode(t, "changePassword", &ok)
			if !ok {
				t.Fatal("changePassword = false")
			}
			s.pw = next
		}},
	}
	for _, tt := range ends {
		t.Run(tt.name, func(t *testing.T) {
			s := newEndedSession(t, ts)
			ws := ts.openSocket(t, ts.sessionCookie(t, s.victim)) // no subscription
			events := ws.events()
			tt.end(t, s)
			ended := time.Now()
			marker := "dead-socket-" + randomHex(4)
			var log wsLog
			probeDeadSocket(t, ws, events, &log, s, marker, ended.Add(time.Second))
			if how := log.closed4403(); how != "" {
				t.Errorf("socket %s after %s, want closed with 4403 UNAUTHENTICATED within 1s", how, tt.name)
			} else if d := log.closedAt.Sub(ended); d > time.Second {
				t.Errorf("socket closed %v after %s returned, want within 1s", d, tt.name)
			}
			checkNothingChanged(t, s, marker)
		})
	}

	// A new token in the same browser (a second login, a password change)
	// is followed: the socket stays open, runs operations as the user and
	// closes when the new session ends.
	rotations := []struct {
		name   string
		rotate func(t *testing.T, c *http.Client, u user, pw string)
	}{
		{"second login in the same browser", func(t *testing.T, c *http.Client, u user, pw string) {
			ts.login(t, c, u.Email, pw)
		}},
		{"changePassword in the same browser", func(t *testing.T, c *http.Client, u user, pw string) {
			var ok bool
			ts.gql(t, c, changePasswordMutation, map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": "rotated " + randomHex(4)}}).decode(t, "changePassword", &ok)
			if !ok {
				t.Fatal("changePassword = false")
			}
		}},
	}
	for _, tt := range rotations {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.client(t)
			u, pw := ts.register(t, c)
			before := ts.sessionCookie(t, c)
			ws := ts.openSocket(t, before)
			events := ws.events()
			tt.rotate(t, c, u, pw)
			if ts.sessionCookie(t, c) == before {
				t.Fatal("the browser kept its token")
			}
			var log wsLog
			log.take(events, time.Now().Add(time.Second), nil)
			if log.closeErr != nil {
				t.Fatalf("socket closed after %s: %v, want it to follow the new token", tt.name, log.closeErr)
			}
			if err := ws.trySubscribe("me", `{ me { id } }`, nil); err != nil {
				t.Fatal(err)
			}
			log.take(events, time.Now().Add(2*time.Second), func(l *wsLog) bool { return len(l.byID("me")) > 0 })
			var got struct {
				Data struct{ Me *user } `json:"data"`
			}
			if msgs := log.byID("me"); len(msgs) == 0 || msgs[0].Type != "next" || json.Unmarshal(msgs[0].Payload, &got) != nil || got.Data.Me == nil || got.Data.Me.ID != u.ID {
				t.Fatalf("me on the socket after %s: %+v (closed: %v), want the user", tt.name, msgs, log.closeErr)
			}
			ts.gql(t, c, logoutMutation, nil)
			ended := time.Now()
			log.take(events, ended.Add(time.Second), nil)
			if how := log.closed4403(); how != "" {
				t.Errorf("after the new session's logout the socket is %s, want closed with 4403 UNAUTHENTICATED within 1s", how)
			}
		})
	}
}

func TestAttackExpiredSessionCannotUseOpenSocket(t *testing.T) {
	const idle = 2 * time.Second
	ts := startServer(t, map[string]string{"SESSION_IDLE_TIMEOUT": idle.String(), "SESSION_LIFETIME": "1h", "LOGIN_LIMIT_PER_IP": "1000"})
	s := &endedSession{ts: ts, actor: ts.client(t), victim: ts.client(t)}
	s.u, s.pw = ts.register(t, s.actor)
	signedIn := time.Now()
	ts.login(t, s.victim, s.u.Email, s.pw)
	ws := ts.openSocket(t, ts.sessionCookie(t, s.victim))
	// The upgrade is the victim's last request: its session expires at
	// most idle after it.
	expiry := time.Now().Add(idle)
	events := ws.events()

	// Keep the actor's session alive while the victim's runs out.
	for time.Now().Before(expiry.Add(100 * time.Millisecond)) {
		time.Sleep(300 * time.Millisecond)
		if ts.me(t, s.actor) == nil {
			t.Fatal("the actor's session expired while in use")
		}
	}
	marker := "expired-socket-" + randomHex(4)
	var log wsLog
	probeDeadSocket(t, ws, events, &log, s, marker, expiry.Add(time.Second+300*time.Millisecond))
	if how := log.closed4403(); how != "" {
		t.Errorf("socket %s after the session expired, want closed with 4403 UNAUTHENTICATED within 1s", how)
	} else if log.closedAt.Before(signedIn.Add(idle - 50*time.Millisecond)) {
		t.Errorf("socket closed %v after sign-in, before the session could expire (%v)", log.closedAt.Sub(signedIn), idle)
	} else if late := log.closedAt.Sub(expiry); late > time.Second+300*time.Millisecond {
		t.Errorf("socket closed %v after the session's expiry, want within 1s", late)
	}
	checkNothingChanged(t, s, marker)
}

// --- b. concurrent wrong passwords -----------------------------------------

func TestAttackConcurrentLoginsStayWithinTheLimits(t *testing.T) {
	const attempts = 50
	tests := []struct {
		name  string
		env   map[string]string
		limit int
		email func(u user, i int) string
	}{
		{"one email", map[string]string{"LOGIN_LIMIT_PER_EMAIL": "5", "LOGIN_LIMIT_PER_IP": "1000"}, 5,
			func(u user, _ int) string { return u.Email }},
		{"one address, many emails", map[string]string{"LOGIN_LIMIT_PER_EMAIL": "1000", "LOGIN_LIMIT_PER_IP": "20"}, 20,
			func(u user, i int) string {
				if i == 0 {
					return u.Email
				}
				return fmt.Sprintf("nobody-%d-%s@example.com", i, randomHex(3))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.env)
			u, _ := ts.register(t, ts.client(t))
			clients := make([]*http.Client, attempts)
			emails := make([]string, attempts)
			for i := range clients {
				clients[i], emails[i] = ts.client(t), tt.email(u, i)
			}
			rs, errs := make([]gqlResponse, attempts), make([]error, attempts)
			startTogether(attempts, func(i int) {
				rs[i], errs[i] = ts.tryGQL(clients[i], loginMutation, map[string]any{"i": map[string]any{"email": emails[i], "password": "wrong password " + randomHex(2)}})
			})
			tallyThrottled(rs, errs, "INVALID_CREDENTIALS").expectChecked(t, tt.limit)
		})
	}
}

// --- c. a login racing a password change ------------------------------------

func TestAttackLoginRacingPasswordChangeLeavesNoSession(t *testing.T) {
	ts := startServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "1000", "LOGIN_LIMIT_PER_IP": "1000"})
	changer := ts.client(t)
	u, pw := ts.register(t, changer)
	const (
		attackers = 24 // each signs in with the old password again and again
		rounds    = 5
	)
	type attempt struct {
		client            *http.Client
		started, returned time.Time
		late              bool // started after changePassword had returned
		r                 gqlResponse
		err               error
	}
	for round := range rounds {
		next := fmt.Sprintf("round %d passphrase %s", round, randomHex(4))
		var change attempt
		changeReturned := make(chan struct{})
		tries := make([][]attempt, attackers)
		startTogether(1+attackers, func(i int) {
			if i == 0 {
				change.started = time.Now()
				change.r, change.err = ts.tryGQL(changer, changePasswordMutation, map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": next}})
				change.returned = time.Now()
				close(changeReturned)
				return
			}
			i--
			time.Sleep(time.Duration(i) * time.Millisecond)
			// Logins keep coming while the change runs, each from a browser
			// of its own; the last starts after the change has returned.
			for {
				a := attempt{client: jarClient(), started: time.Now()}
				select {
				case <-changeReturned:
					a.late = true
				default:
				}
				a.r, a.err = ts.tryGQL(a.client, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
				a.returned = time.Now()
				tries[i] = append(tries[i], a)
				if a.late {
					return
				}
			}
		})
		if change.err != nil || len(change.r.Errors) > 0 {
			t.Fatalf("round %d: changePassword: %v %+v", round, change.err, change.r.Errors)
		}
		total, ok, late := 0, 0, 0
		for _, attempts := range tries {
			for _, a := range attempts {
				total++
				switch {
				case a.err != nil:
					t.Errorf("round %d: login: %v", round, a.err)
				case len(a.r.Errors) == 0:
					ok++
					if me := ts.me(t, a.client); me != nil {
						t.Errorf("round %d: a login with the old password (started %v after the change, returned %v after it) holds a live session after changePassword returned",
							round, a.started.Sub(change.started).Round(time.Millisecond), a.returned.Sub(change.returned).Round(time.Millisecond))
					}
				case a.r.code() != "INVALID_CREDENTIALS":
					t.Errorf("round %d: login: %+v", round, a.r.Errors)
				}
				if a.late || a.started.After(change.returned) {
					late++
					if a.err == nil && a.r.code() != "INVALID_CREDENTIALS" {
						t.Errorf("round %d: a login with the old password started after changePassword returned: %+v, want INVALID_CREDENTIALS", round, a.r.Errors)
					}
				}
			}
		}
		t.Logf("round %d: changePassword took %v; %d logins with the old password, %d succeeded, %d started after the change returned",
			round, change.returned.Sub(change.started).Round(time.Millisecond), total, ok, late)
		if list := ts.sessions(t, changer); len(list) != 1 || !list[0].Current {
			t.Errorf("round %d: the user has %d sessions after the change, want only the changer's", round, len(list))
		}
		if t.Failed() {
			return
		}
		pw = next
	}
}

// jarClient is ts.client for any goroutine: a browser with its own jar.
func jarClient() *http.Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// --- d. changePassword guesses are throttled --------------------------------

func TestAttackChangePasswordGuessesAreThrottled(t *testing.T) {
	ts := startServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "5", "LOGIN_LIMIT_PER_IP": "1000"})
	guess := func(pw string) map[string]any {
		return map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": "taken over " + randomHex(6)}}
	}

	t.Run("one at a time", func(t *testing.T) {
		c := ts.client(t)
		u, pw := ts.register(t, c)
		for i := range 5 {
			if r := ts.gql(t, c, changePasswordMutation, guess(fmt.Sprintf("guess number %d", i))); r.code() != "INVALID_CREDENTIALS" {
				t.Fatalf("wrong guess %d: %+v, want INVALID_CREDENTIALS", i+1, r.Errors)
			}
		}
		r := ts.gql(t, c, changePasswordMutation, guess(pw))
		if r.code() != "RATE_LIMITED" || retryAfter(r) <= 0 {
			t.Fatalf("6th guess, the right password: data %s errors %+v, want RATE_LIMITED with retryAfter", r.Data["changePassword"], r.Errors)
		}
		r = ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
		if r.code() != "RATE_LIMITED" || retryAfter(r) <= 0 {
			t.Fatalf("login with the right password after 5 wrong changePassword guesses: %+v, want RATE_LIMITED", r.Errors)
		}
	})

	t.Run("all at once", func(t *testing.T) {
		c := ts.client(t)
		ts.register(t, c)
		const attempts = 30
		rs, errs := make([]gqlResponse, attempts), make([]error, attempts)
		startTogether(attempts, func(i int) {
			rs[i], errs[i] = ts.tryGQL(c, changePasswordMutation, guess(fmt.Sprintf("concurrent guess %d", i)))
		})
		tallyThrottled(rs, errs, "INVALID_CREDENTIALS").expectChecked(t, 5)
	})
}

// --- e. updateMe cannot probe emails ----------------------------------------

func TestAttackUpdateMeCannotProbeEmails(t *testing.T) {
	ts := startServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "5", "LOGIN_LIMIT_PER_IP": "1000"})
	c := ts.client(t)
	u, pw := ts.register(t, c)
	other, _ := ts.register(t, ts.client(t))
	update := func(in map[string]any) gqlResponse { return ts.gql(t, c, updateMeMutation, map[string]any{"i": in}) }

	// A name change alone needs no password.
	var got user
	ts.must(t, c, updateMeMutation, map[string]any{"i": map[string]any{"name": "Renamed"}}, "updateMe", &got)
	if got.Name != "Renamed" {
		t.Fatalf("name change: %+v", got)
	}

	// Without the password, a taken and a free address get the same answer.
	taken := update(map[string]any{"email": other.Email})
	free := update(map[string]any{"email": "free-" + randomHex(4) + "@example.com"})
	for name, r := range map[string]gqlResponse{"taken address": taken, "free address": free} {
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "currentPassword" {
			t.Errorf("email change to a %s without currentPassword: %+v, want BAD_USER_INPUT on currentPassword", name, r.Errors)
		}
	}
	if len(taken.Errors) > 0 && len(free.Errors) > 0 && taken.Errors[0].Message != free.Errors[0].Message {
		t.Errorf("answers differ: %q (taken) vs %q (free)", taken.Errors[0].Message, free.Errors[0].Message)
	}

	// With the right password the email changes.
	newEmail := "moved-" + randomHex(4) + "@example.com"
	if r := update(map[string]any{"email": newEmail, "currentPassword": pw}); len(r.Errors) > 0 {
		t.Fatalf("email change with the password: %+v", r.Errors)
	}
	if me := ts.me(t, c); me == nil || me.Email != newEmail {
		t.Fatalf("me after the email change = %+v, want %s", me, newEmail)
	}

	// Wrong passwords are failed logins, even naming a taken address.
	for i := range 5 {
		email := "elsewhere-" + randomHex(4) + "@example.com"
		if i%2 == 0 {
			email = other.Email
		}
		if r := update(map[string]any{"email": email, "currentPassword": fmt.Sprintf("not the password %d", i)}); r.code() != "INVALID_CREDENTIALS" {
			t.Fatalf("wrong currentPassword %d (email %s): %+v, want INVALID_CREDENTIALS", i+1, email, r.Errors)
		}
	}
	if r := update(map[string]any{"email": "late-" + randomHex(4) + "@example.com", "currentPassword": pw}); r.code() != "RATE_LIMITED" || retryAfter(r) <= 0 {
		t.Errorf("6th attempt, the right password: %+v, want RATE_LIMITED with retryAfter", r.Errors)
	}
	if r := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": newEmail, "password": pw}}); r.code() != "RATE_LIMITED" {
		t.Errorf("login after 5 wrong updateMe passwords: %+v, want RATE_LIMITED", r.Errors)
	}
	_ = u
}

// --- f. one socket, many operations -----------------------------------------

func TestAttackOneSocketRunsBoundedOperations(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	cookie := ts.sessionCookie(t, c)

	ws := ts.openSocket(t, cookie)
	events := ws.events()
	for i := 1; i <= 11; i++ {
		if err := ws.trySubscribe(fmt.Sprintf("s%d", i), sessionEndedSubscription, nil); err != nil {
			t.Fatal(err)
		}
	}
	var log wsLog
	log.take(events, time.Now().Add(time.Second), nil)
	if log.closeErr != nil {
		t.Fatalf("socket closed: %v", log.closeErr)
	}
	refused := map[string]bool{}
	for _, m := range log.msgs {
		codes, _ := wsErrors(m)
		if m.Type == "error" && len(codes) == 1 && codes[0] == "RATE_LIMITED" {
			refused[m.ID] = true
		} else {
			t.Errorf("unexpected message %s %s %s", m.Type, m.ID, m.Payload)
		}
	}
	if len(refused) != 1 {
		t.Errorf("%d of 11 subscriptions refused with RATE_LIMITED (%v), want exactly 1", len(refused), refused)
	}
	// Completing one of the ten frees its place.
	running := "s1"
	if refused[running] {
		running = "s2"
	}
	if err := ws.trySend(wsMessage{ID: running, Type: "complete"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	for _, m := range []wsMessage{{ID: "s12", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { sessionEnded { reason } }"}`)}, {Type: "ping"}} {
		if err := ws.trySend(m); err != nil {
			t.Fatal(err)
		}
	}
	log = wsLog{}
	log.take(events, time.Now().Add(time.Second), func(l *wsLog) bool { return len(l.ofType("pong")) > 0 && len(l.byID("s12")) > 0 })
	if len(log.ofType("pong")) == 0 {
		t.Errorf("ping got no pong (closed: %v)", log.closeErr)
	}
	if msgs := log.byID("s12"); len(msgs) > 0 {
		t.Errorf("subscribe after a complete: %s %s, want it to run", msgs[0].Type, msgs[0].Payload)
	}
	// Ten run again: one more is refused.
	if err := ws.trySubscribe("s13", sessionEndedSubscription, nil); err != nil {
		t.Fatal(err)
	}
	log.take(events, time.Now().Add(time.Second), func(l *wsLog) bool { return len(l.byID("s13")) > 0 })
	if msgs := log.byID("s13"); len(msgs) == 0 || msgs[0].Type != "error" {
		t.Errorf("an 11th running subscription: %+v, want an error with RATE_LIMITED", msgs)
	}

	// 200 at once: at most 10 run, and the server does not grow a
	// goroutine for each refused one.
	flood := ts.openSocket(t, cookie)
	floodEvents := flood.events()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	const n = 200
	for i := range n {
		if err := flood.trySubscribe(fmt.Sprintf("f%d", i), sessionEndedSubscription, nil); err != nil {
			t.Fatalf("subscribe %d: %v", i, err)
		}
	}
	log = wsLog{}
	refusedFlood, counted := 0, 0
	countRefused := func(l *wsLog) bool {
		for ; counted < len(l.msgs); counted++ {
			if codes, _ := wsErrors(l.msgs[counted]); l.msgs[counted].Type == "error" && slices.Contains(codes, "RATE_LIMITED") {
				refusedFlood++
			}
		}
		return refusedFlood >= n-10
	}
	log.take(floodEvents, time.Now().Add(5*time.Second), countRefused)
	countRefused(&log)
	time.Sleep(200 * time.Millisecond)
	grown := runtime.NumGoroutine() - before
	t.Logf("200 subscribes on one socket: %d refused, goroutines grew by %d", refusedFlood, grown)
	if log.closeErr != nil {
		t.Errorf("the flooded socket closed: %v", log.closeErr)
	}
	if refusedFlood < n-10 {
		t.Errorf("%d of %d subscriptions refused, want at least %d (at most 10 run)", refusedFlood, n, n-10)
	}
	if grown > 80 {
		t.Errorf("goroutines grew by %d for one socket's 200 subscribes, want a small bound (10 running)", grown)
	}
}

// --- g. alias fan-out -------------------------------------------------------

func TestAttackAliasFanOutIsRefusedBeforeRunning(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	ts.awaitMailSent(t)
	aliases := func(n int, sel string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: %s", i, sel)
		}
		b.WriteString(" }")
		return b.String()
	}
	for name, q := range map[string]string{
		"250 aliases of decks":   aliases(250, "decks { id }"),
		"30 aliases of __schema": aliases(30, "__schema { types { name } }"),
	} {
		t.Run(name, func(t *testing.T) {
			before := mongoCommands(t, ts)
			body := string(mustJSON(t, map[string]any{"query": q}))
			status, raw, err := postRaw(c, ts.URL, http.MethodPost, body, nil)
			if err != nil {
				t.Fatal(err)
			}
			var r gqlResponse
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("status %d, not JSON: %.200q", status, raw)
			}
			if len(r.Errors) == 0 || r.Data != nil {
				t.Errorf("status %d, %d bytes, data fields %d, errors %.300v: want it refused with no data", status, len(raw), len(r.Data), r.Errors)
			} else if code := r.code(); status >= 500 || !slices.Contains([]string{"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "COMPLEXITY_LIMIT_EXCEEDED"}, code) {
				t.Errorf("status %d code %q, want a client error (GRAPHQL_VALIDATION_FAILED or BAD_USER_INPUT)", status, code)
			}
			if len(raw) >= 10<<10 {
				t.Errorf("answer is %d bytes, want under 10 KB", len(raw))
			}
			if used := mongoCommands(t, ts) - before; used != 0 {
				t.Errorf("ran %d MongoDB commands, want none", used)
			}
		})
	}
	if r := ts.gql(t, c, introspectionQuery, nil); len(r.Errors) > 0 || r.Data["__schema"] == nil {
		t.Errorf("the standard introspection query: %+v, want it answered", r.Errors)
	}
}

// --- h. a subscription over HTTP --------------------------------------------

func TestAttackSubscriptionOverHTTPIsRefusedAtOnce(t *testing.T) {
	ts := startServer(t, nil)
	signedIn := ts.client(t)
	ts.register(t, signedIn)
	c := &http.Client{Jar: signedIn.Jar, Timeout: 2 * time.Second}
	body := string(mustJSON(t, map[string]any{"query": sessionEndedSubscription}))
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		for _, accept := range []string{"application/json", "application/graphql-response+json", "text/event-stream"} {
			t.Run(method+" "+accept, func(t *testing.T) {
				header := map[string]string{"Accept": accept}
				q := body
				if method == http.MethodGet {
					header["Apollo-Require-Preflight"] = "1"
					q = sessionEndedSubscription
				}
				start := time.Now()
				status, raw, err := postRaw(c, ts.URL, method, q, header)
				if err != nil {
					t.Fatalf("no answer within 2s (%v): %v", time.Since(start).Round(time.Millisecond), err)
				}
				var r gqlResponse
				_ = json.Unmarshal(raw, &r)
				if status != http.StatusBadRequest || r.code() != "BAD_USER_INPUT" {
					t.Errorf("status %d, body %.300q, want 400 with BAD_USER_INPUT", status, raw)
				}
			})
		}
	}
}

// --- i. bodies that are not GraphQL-over-HTTP requests ----------------------

func TestAttackMalformedRequestShapesAre400WithPlainMessages(t *testing.T) {
	ts := startServer(t, nil)
	for name, body := range map[string]string{
		"batched array":       `[{"query":"{me{id}}"}]`,
		"query a number":      `{"query": 42}`,
		"variables a string":  `{"query":"{me{id}}","variables":"x"}`,
		"query an object":     `{"query": {"a": 1}}`,
		"operationName array": `{"query":"{me{id}}","operationName":["a"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			status, raw, err := postRaw(http.DefaultClient, ts.URL, http.MethodPost, body, nil)
			if err != nil {
				t.Fatal(err)
			}
			if status != http.StatusBadRequest {
				t.Errorf("status %d, want 400 (body %.300q)", status, raw)
			}
			lower := strings.ToLower(string(raw))
			for _, leak := range []string{"go value", "json:", "graphql.rawparams", "unmarshal"} {
				if strings.Contains(lower, leak) {
					t.Errorf("answer names internals (%q): %.300q", leak, raw)
				}
			}
		})
	}
}
