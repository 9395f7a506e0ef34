package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const sessionsQuery = `{ sessions { id current createdAt lastSeenAt expiresAt userAgent ip } }`

type sessionInfo struct {
	ID         string  `json:"id"`
	Current    bool    `json:"current"`
	CreatedAt  string  `json:"createdAt"`
	LastSeenAt string  `json:"lastSeenAt"`
	ExpiresAt  string  `json:"expiresAt"`
	UserAgent  *string `json:"userAgent"`
	IP         *string `json:"ip"`
}

func (ts *testServer) sessions(t *testing.T, c *http.Client) []sessionInfo {
	t.Helper()
	r := ts.gql(t, c, sessionsQuery, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("sessions: %+v", r.Errors)
	}
	var out []sessionInfo
	r.decode(t, "sessions", &out)
	return out
}

// uaClient is a jar client that sends a fixed User-Agent.
func (ts *testServer) uaClient(t *testing.T, ua string) *http.Client {
	c := ts.client(t)
	c.Transport = uaTransport(ua)
	return c
}

type uaTransport string

func (u uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", string(u))
	return http.DefaultTransport.RoundTrip(r)
}

func (ts *testServer) login(t *testing.T, c *http.Client, email, pw string) {
	t.Helper()
	r := ts.gql(t, c, loginMutation, map[string]any{"i": map[string]any{"email": email, "password": pw}})
	if len(r.Errors) > 0 {
		t.Fatalf("login: %+v", r.Errors)
	}
}

func TestSessionsListsLiveSessionsNewestFirst(t *testing.T) {
	ts := startServer(t, nil)
	a := ts.uaClient(t, "device-a/1.0")
	u, pw := ts.register(t, a)
	time.Sleep(5 * time.Millisecond)
	b := ts.uaClient(t, "device-b/2.0")
	ts.login(t, b, u.Email, pw)

	list := ts.sessions(t, a)
	if len(list) != 2 {
		t.Fatalf("sessions = %+v, want 2", list)
	}
	if *list[0].UserAgent != "device-b/2.0" || *list[1].UserAgent != "device-a/1.0" {
		t.Fatalf("order %q, %q: want newest (device-b) first", *list[0].UserAgent, *list[1].UserAgent)
	}
	if list[0].Current || !list[1].Current {
		t.Fatalf("current flags %v %v, want only device-a's", list[0].Current, list[1].Current)
	}
	if list[1].IP == nil || *list[1].IP != "127.0.0.1" {
		t.Fatalf("ip %v, want 127.0.0.1", list[1].IP)
	}
	for _, s := range list {
		for _, tok := range []string{ts.sessionCookie(t, a), ts.sessionCookie(t, b)} {
			if s.ID == "" || strings.Contains(tok, s.ID) || strings.Contains(s.ID, tok) {
				t.Fatalf("public id %q relates to a token", s.ID)
			}
		}
		if s.ExpiresAt <= s.CreatedAt || s.LastSeenAt < s.CreatedAt {
			t.Fatalf("times out of order: %+v", s)
		}
	}
	// The public id is stable across requests.
	if again := ts.sessions(t, b); again[0].ID != list[0].ID || !again[0].Current {
		t.Fatalf("ids changed or wrong current: %+v vs %+v", again, list)
	}
}

func TestRevokeSessionEndsOnlyTheCallersOwn(t *testing.T) {
	ts := startServer(t, nil)
	a := ts.client(t)
	u, pw := ts.register(t, a)
	b := ts.client(t)
	ts.login(t, b, u.Email, pw)
	mallory := ts.client(t)
	ts.register(t, mallory)

	bID := ts.sessions(t, b)[0].ID
	var ok bool
	ts.gql(t, mallory, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": bID}).decode(t, "revokeSession", &ok)
	if ok {
		t.Fatal("another user's revokeSession answered true")
	}
	if ts.me(t, b) == nil {
		t.Fatal("another user ended the session")
	}
	ts.gql(t, a, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": "not-a-session"}).decode(t, "revokeSession", &ok)
	if ok {
		t.Fatal("unknown id answered true")
	}
	ts.gql(t, a, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": bID}).decode(t, "revokeSession", &ok)
	if !ok || ts.me(t, b) != nil || ts.me(t, a) == nil {
		t.Fatalf("revoke own other session: ok=%v, b signed in=%v, a signed in=%v", ok, ts.me(t, b) != nil, ts.me(t, a) != nil)
	}
	// Revoking the current session signs this browser out too.
	aID := ts.sessions(t, a)[0].ID
	r := ts.gql(t, a, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": aID})
	r.decode(t, "revokeSession", &ok)
	if !ok || !strings.Contains(rawSetCookie(r.HTTP, "sid"), "Max-Age=0") || ts.me(t, a) != nil {
		t.Fatalf("revoking the current session: ok=%v, Set-Cookie %q", ok, rawSetCookie(r.HTTP, "sid"))
	}
}

func TestLogoutOtherSessionsKeepsTheCurrentOne(t *testing.T) {
	ts := startServer(t, nil)
	a := ts.client(t)
	u, pw := ts.register(t, a)
	others := []*http.Client{ts.client(t), ts.client(t), ts.client(t)}
	for _, c := range others {
		ts.login(t, c, u.Email, pw)
	}
	var n int
	ts.gql(t, a, `mutation { logoutOtherSessions }`, nil).decode(t, "logoutOtherSessions", &n)
	if n != 3 {
		t.Fatalf("logoutOtherSessions = %d, want 3", n)
	}
	for i, c := range others {
		if ts.me(t, c) != nil {
			t.Fatalf("other session %d still signed in", i)
		}
	}
	if list := ts.sessions(t, a); len(list) != 1 || !list[0].Current {
		t.Fatalf("sessions after = %+v, want only the current one", list)
	}
	ts.gql(t, a, `mutation { logoutOtherSessions }`, nil).decode(t, "logoutOtherSessions", &n)
	if n != 0 {
		t.Fatalf("second logoutOtherSessions = %d, want 0", n)
	}
}

func TestChangePassword(t *testing.T) {
	ts := startServer(t, nil)
	a := ts.client(t)
	u, pw := ts.register(t, a)
	b := ts.client(t)
	ts.login(t, b, u.Email, pw)
	const change = `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`

	r := ts.gql(t, a, change, map[string]any{"i": map[string]any{"currentPassword": "wrong-password", "newPassword": "new-password-1"}})
	if r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("wrong current password: %+v", r.Errors)
	}
	r = ts.gql(t, a, change, map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": "short"}})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
		t.Fatalf("short new password: %+v", r.Errors)
	}
	if ts.me(t, b) == nil {
		t.Fatal("a refused change ended another session")
	}

	before := ts.sessionCookie(t, a)
	r = ts.gql(t, a, change, map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": "new-password-1"}})
	var ok bool
	r.decode(t, "changePassword", &ok)
	after := ts.sessionCookie(t, a)
	if !ok || after == before || after == "" {
		t.Fatalf("changePassword ok=%v; token before %q after %q: want a new token", ok, before, after)
	}
	if ts.me(t, a) == nil {
		t.Fatal("the changing session was signed out")
	}
	if ts.me(t, ts.withCookie(t, "sid", before)) != nil {
		t.Fatal("the old token of the changing session still works")
	}
	if ts.me(t, b) != nil {
		t.Fatal("other session survived the password change")
	}
	if r := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("old password still logs in: %+v", r.Errors)
	}
	ts.login(t, ts.client(t), u.Email, "new-password-1")
}

func TestAuthDirectiveRefusesAnonymousRequests(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	for _, q := range []string{
		sessionsQuery,
		`mutation { revokeSession(id: "x") }`,
		`mutation { logoutOtherSessions }`,
		`mutation { changePassword(input: {currentPassword: "password-1", newPassword: "password-2"}) }`,
	} {
		if r := ts.gql(t, c, q, nil); r.code() != "UNAUTHENTICATED" {
			t.Errorf("%s anonymous: %+v, want UNAUTHENTICATED", q, r.Errors)
		}
	}
	// And a made-up token is anonymous too.
	if r := ts.gql(t, ts.withCookie(t, "sid", strings.Repeat("A", 51)), sessionsQuery, nil); r.code() != "UNAUTHENTICATED" {
		t.Errorf("made-up token: %+v", r.Errors)
	}
}

func TestLoginThrottlingAcrossInstances(t *testing.T) {
	a := startServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "3", "LOGIN_LIMIT_PER_IP": "6"})
	b := startServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "3", "LOGIN_LIMIT_PER_IP": "6",
		"REDIS_URL": a.Env["REDIS_URL"], "MONGODB_DATABASE": a.Env["MONGODB_DATABASE"]})
	u, pw := a.register(t, a.client(t))
	login := func(ts *testServer, email, pw string) gqlResponse {
		return ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": email, "password": pw}})
	}

	// A success clears the email's count.
	login(a, u.Email, "wrong-1")
	login(b, u.Email, "wrong-2")
	if r := login(a, u.Email, pw); len(r.Errors) > 0 {
		t.Fatalf("login under the limit: %+v", r.Errors)
	}
	for i := range 3 {
		if r := login([]*testServer{a, b}[i%2], u.Email, "wrong"); r.code() != "INVALID_CREDENTIALS" {
			t.Fatalf("failure %d: %+v", i, r.Errors)
		}
	}
	r := login(b, u.Email, pw) // the right password, on the other instance
	if r.code() != "RATE_LIMITED" {
		t.Fatalf("4th attempt with the right password: %+v, want RATE_LIMITED", r.Errors)
	}
	if ra, _ := r.Errors[0].Extensions["retryAfter"].(float64); ra <= 0 || ra > 15*60 {
		t.Fatalf("retryAfter = %v, want 1..900 seconds", r.Errors[0].Extensions["retryAfter"])
	}
	if len(setCookies(r.HTTP, "sid")) != 0 {
		t.Fatal("a rate-limited login set a cookie")
	}

	// Per client IP: failures spread over other emails reach the IP limit
	// (5 failures from this address so far, limit 6).
	login(a, "someone-"+randomHex(3)+"@example.com", "wrong")
	if r := login(a, "another-"+randomHex(3)+"@example.com", "whatever-pw"); r.code() != "RATE_LIMITED" {
		t.Fatalf("after 6 failures from one address: %+v, want RATE_LIMITED", r.Errors)
	}

	// Redis keys for counters carry no email and all expire.
	rdb := redisClient(t, a)
	for _, k := range rdb.keys(t, "rl:*") {
		if strings.Contains(k, u.Email) || rdb.PTTL(context.Background(), k).Val() <= 0 {
			t.Fatalf("counter key %q: names the email or has no TTL", k)
		}
	}
}

func TestRegistrationThrottledPerAddress(t *testing.T) {
	ts := startServer(t, map[string]string{"REGISTER_LIMIT_PER_IP": "2"})
	ts.register(t, ts.client(t))
	ts.register(t, ts.client(t))
	r := ts.gql(t, ts.client(t), registerMutation, map[string]any{"i": map[string]any{"email": "third-" + randomHex(3) + "@example.com", "password": "password-123", "name": "T"}})
	if r.code() != "RATE_LIMITED" {
		t.Fatalf("third registration: %+v, want RATE_LIMITED", r.Errors)
	}
}

func TestSessionIndexStaysBoundedWithManyStaleEntries(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	u, _ := ts.register(t, c)
	rdb := redisClient(t, ts)
	ctx := context.Background()
	keys := rdb.keys(t, "s:*")
	if len(keys) != 1 {
		t.Fatalf("user hashes %v, want one", keys)
	}
	// 5,000 of the user's sessions that expired a day ago, in the stored
	// layout (version, created ms, last seen ms, user id, no IP, no agent),
	// and 5,000 values no version of the server wrote.
	uid, err := hex.DecodeString(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	dayAgo := make([]byte, 8)
	binary.BigEndian.PutUint64(dayAgo, uint64(time.Now().Add(-25*time.Hour).UnixMilli()))
	expired := slices.Concat([]byte{1}, dayAgo[2:], dayAgo[2:], []byte{0xff}, uid, []byte{0, 0})
	stale := make([]any, 0, 20_000)
	for i := range 10_000 {
		v := expired
		if i%2 == 1 {
			v = []byte("garbage")
		}
		stale = append(stale, fmt.Sprintf("stale-session-%05d", i), v)
	}
	if err := rdb.HSet(ctx, keys[0], stale...).Err(); err != nil {
		t.Fatal(err)
	}
	if list := ts.sessions(t, c); len(list) != 1 {
		t.Fatalf("sessions = %d entries, want the 1 live one", len(list))
	}
	if n := rdb.HLen(ctx, keys[0]).Val(); n != 3 {
		t.Fatalf("user hash holds %d fields after listing, want 3 (the live session, the profile and the email)", n)
	}
	if ttl := rdb.PTTL(ctx, keys[0]).Val(); ttl <= 0 {
		t.Fatalf("user hash TTL %v", ttl)
	}
	if me := ts.me(t, c); me == nil || me.ID != u.ID {
		t.Fatalf("me after pruning = %+v", me)
	}
}

func TestSubscriptionRefusesAnonymousAndForeignOrigins(t *testing.T) {
	ts := startServer(t, nil)
	// No cookie: the socket opens (the handshake carries no session yet to
	// check against the allowlist) and init is answered by a 4403 close.
	ws, err := ts.dialWS(t, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.init(); websocket.CloseStatus(err) != 4403 || !strings.Contains(err.Error(), "UNAUTHENTICATED") {
		t.Fatalf("anonymous init: %v, want close 4403 UNAUTHENTICATED", err)
	}

	c := ts.client(t)
	ts.register(t, c)
	token := ts.sessionCookie(t, c)
	if _, err := ts.dialWS(t, token, "https://evil.example"); err == nil {
		t.Fatal("foreign origin upgraded")
	} else if ws, _ := ts.dialWS(t, token, "https://evil.example"); ws.resp == nil || ws.resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v, want HTTP 403", err)
	}
	ws, err = ts.dialWS(t, token, "http://app.test:5173")
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	if m, err := ws.init(); err != nil || m.Type != "connection_ack" {
		t.Fatalf("init with a session: %+v %v", m, err)
	}
}

func TestSessionEndedReachesSubscriberOnAnotherInstance(t *testing.T) {
	a := startServer(t, nil)
	b := startServer(t, map[string]string{"REDIS_URL": a.Env["REDIS_URL"], "MONGODB_DATABASE": a.Env["MONGODB_DATABASE"]})
	laptop := a.client(t)
	u, pw := a.register(t, laptop)
	phone := b.client(t)
	b.login(t, phone, u.Email, pw)

	// The phone's session, made on B, works on A.
	if me := a.me(t, a.withCookie(t, "sid", b.sessionCookie(t, phone))); me == nil || me.ID != u.ID {
		t.Fatalf("session from B on A: %+v", me)
	}
	ws := a.subscribeSessionEnded(t, b.sessionCookie(t, phone), "1")

	// The laptop, on B, revokes the phone's session.
	var phoneID string
	for _, s := range b.sessions(t, laptop) {
		if !s.Current {
			phoneID = s.ID
		}
	}
	var ok bool
	b.gql(t, laptop, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": phoneID}).decode(t, "revokeSession", &ok)
	if !ok {
		t.Fatal("revokeSession = false")
	}
	ws.expectSessionEnded("1", "REVOKED", 5*time.Second)
	if me := a.me(t, a.withCookie(t, "sid", b.sessionCookie(t, phone))); me != nil {
		t.Fatal("revoked on B, still live on A")
	}
}

func TestSessionEndedReasons(t *testing.T) {
	ts := startServer(t, map[string]string{"SESSION_IDLE_TIMEOUT": "2s", "SESSION_LIFETIME": "1h"})
	subscribe := func(t *testing.T, c *http.Client) *wsClient {
		return ts.subscribeSessionEnded(t, ts.sessionCookie(t, c), "s")
	}

	t.Run("logout", func(t *testing.T) {
		c := ts.client(t)
		ts.register(t, c)
		ws := subscribe(t, c)
		ts.gql(t, c, logoutMutation, nil)
		ws.expectSessionEnded("s", "LOGOUT", 5*time.Second)
	})
	t.Run("expiry", func(t *testing.T) {
		c := ts.client(t)
		ts.register(t, c)
		ws := subscribe(t, c)
		ws.expectSessionEnded("s", "EXPIRED", 5*time.Second)
	})
	t.Run("password change", func(t *testing.T) {
		a := ts.client(t)
		u, pw := ts.register(t, a)
		b := ts.client(t)
		ts.login(t, b, u.Email, pw)
		wsA, wsB := subscribe(t, a), subscribe(t, b)
		var ok bool
		ts.gql(t, a, `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`,
			map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": "another-password"}}).decode(t, "changePassword", &ok)
		wsB.expectSessionEnded("s", "PASSWORD_CHANGED", 5*time.Second)
		// The changing browser's subscription follows its new token: its
		// first event is the end of the new session, not the rotation.
		time.Sleep(300 * time.Millisecond)
		ts.gql(t, a, logoutMutation, nil)
		wsA.expectSessionEnded("s", "LOGOUT", 5*time.Second)
	})
	t.Run("operation after the session ended", func(t *testing.T) {
		c := ts.client(t)
		ts.register(t, c)
		ws := ts.openSocket(t, ts.sessionCookie(t, c))
		ts.gql(t, c, logoutMutation, nil)
		// Either the operation is refused, or the socket is already closed
		// with 4403 (docs/API.md: within 1 s of the end); never data.
		ws.subscribe("late", sessionEndedSubscription)
		m, err := ws.next(5 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != 4403 {
				t.Fatalf("subscribe after logout: %v, want close 4403 or an UNAUTHENTICATED error", err)
			}
			return
		}
		if (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), "UNAUTHENTICATED") || strings.Contains(string(m.Payload), `"data":{`) {
			t.Fatalf("subscribe after logout: %+v, want an error with UNAUTHENTICATED", m)
		}
	})
}

func TestMetricsCountOperations(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	u, _ := ts.register(t, c)
	ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": "wrong-password"}})
	ts.me(t, c)
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	body := sb.String()
	for _, want := range []string{
		`graphql_operations_total{operation="mutation:register",outcome="ok"} 1`,
		`graphql_operations_total{operation="mutation:login",outcome="INVALID_CREDENTIALS"} 1`,
		`graphql_operations_total{operation="query:me",outcome="ok"} 1`,
		`auth_sign_ins_total 1`,
		`auth_failed_logins_total 1`,
		`graphql_active_subscriptions 0`,
		`graphql_operation_duration_seconds_bucket`,
		`store_errors_total`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	_ = json.Valid
}
