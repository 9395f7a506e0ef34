package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRegisterMeLogoutRoundTrip(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)

	if me := ts.me(t, c); me != nil {
		t.Fatalf("anonymous me = %+v, want null", me)
	}
	u, _ := ts.register(t, c)
	if ts.sessionCookie(t, c) == "" {
		t.Fatal("register set no session cookie")
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", u.CreatedAt); err != nil {
		t.Errorf("createdAt %q is not RFC 3339 UTC with milliseconds: %v", u.CreatedAt, err)
	}
	me := ts.me(t, c)
	if me == nil || me.ID != u.ID || me.Email != u.Email || me.CreatedAt != u.CreatedAt {
		t.Fatalf("me after register = %+v, want %+v", me, u)
	}

	r := ts.gql(t, c, logoutMutation, nil)
	var out bool
	r.decode(t, "logout", &out)
	if !out {
		t.Fatal("logout = false for a signed-in user")
	}
	expired := setCookies(r.HTTP, "sid")
	if len(expired) != 1 || expired[0].MaxAge >= 0 || !strings.Contains(rawSetCookie(r.HTTP, "sid"), "Max-Age=0") {
		t.Fatalf("logout Set-Cookie = %q, want the cookie expired with Max-Age=0", rawSetCookie(r.HTTP, "sid"))
	}
	if me := ts.me(t, c); me != nil {
		t.Fatalf("me after logout = %+v, want null", me)
	}
	r = ts.gql(t, c, logoutMutation, nil)
	r.decode(t, "logout", &out)
	if out {
		t.Fatal("second logout = true, want false (no session)")
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		cookieName string
		secure     bool
	}{
		{"default", nil, "sid", false},
		{"secure", map[string]string{"COOKIE_SECURE": "true"}, "__Host-sid", true},
		{"custom name", map[string]string{"SESSION_COOKIE_NAME": "app_session", "SESSION_IDLE_TIMEOUT": "2h"}, "app_session", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.env)
			c := &http.Client{} // no jar: a Secure cookie would not come back over http
			r := ts.gql(t, c, registerMutation, map[string]any{"i": map[string]any{"email": "a-" + randomHex(4) + "@example.com", "password": "password-123", "name": "A"}})
			if len(r.Errors) > 0 {
				t.Fatalf("register: %+v", r.Errors)
			}
			raw := rawSetCookie(r.HTTP, tt.cookieName)
			if raw == "" {
				t.Fatalf("no Set-Cookie for %s; got %q", tt.cookieName, r.HTTP.Header.Values("Set-Cookie"))
			}
			cs := setCookies(r.HTTP, tt.cookieName)
			ck := cs[0]
			idle := 24 * time.Hour
			if v := tt.env["SESSION_IDLE_TIMEOUT"]; v != "" {
				idle, _ = time.ParseDuration(v)
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Secure != tt.secure {
				t.Errorf("cookie %q: want HttpOnly, SameSite=Lax, Path=/, no Domain, Secure=%v", raw, tt.secure)
			}
			if ck.MaxAge != int(idle.Seconds()) {
				t.Errorf("Max-Age = %d, want %d (the idle timeout)", ck.MaxAge, int(idle.Seconds()))
			}
			raw128 := ck.Value
			if b, err := base64.RawURLEncoding.DecodeString(raw128); err != nil || len(b) < 32 {
				t.Errorf("token %q: want base64url of at least 32 bytes", raw128)
			}
			body := string(mustJSON(t, r.Data))
			if strings.Contains(body, ck.Value) {
				t.Error("the token appears in the response body")
			}
		})
	}
}

func TestLoginIssuesFreshToken(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	u, pw := ts.register(t, c)
	first := ts.sessionCookie(t, c)

	r := ts.gql(t, c, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
	if len(r.Errors) > 0 {
		t.Fatalf("login: %+v", r.Errors)
	}
	second := ts.sessionCookie(t, c)
	if second == "" || second == first {
		t.Fatalf("login kept the token (first %q, second %q), want a new one", first, second)
	}
	if me := ts.me(t, c); me == nil || me.ID != u.ID {
		t.Fatalf("me with the new token = %+v", me)
	}
	if me := ts.me(t, ts.withCookie(t, "sid", first)); me != nil {
		t.Fatalf("the token from before login still works: %+v", me)
	}
}

func TestMadeUpTokenIsNeverAdopted(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	u, pw := ts.register(t, c)

	// A well-formed token the server never issued: an attacker's fixation attempt.
	planted := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("A", 38)))
	attacker := ts.withCookie(t, "sid", planted)
	if me := ts.me(t, attacker); me != nil {
		t.Fatalf("made-up token is signed in: %+v", me)
	}
	r := ts.gql(t, attacker, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
	if len(r.Errors) > 0 {
		t.Fatalf("login: %+v", r.Errors)
	}
	issued := setCookies(r.HTTP, "sid")
	if len(issued) != 1 || issued[0].Value == planted || issued[0].Value == "" {
		t.Fatalf("login with a planted cookie issued %+v, want a new token", issued)
	}
	if me := ts.me(t, attacker); me != nil {
		t.Fatalf("planted token became a session after login: %+v", me)
	}
	if me := ts.me(t, ts.withCookie(t, "sid", issued[0].Value)); me == nil || me.ID != u.ID {
		t.Fatalf("issued token: me = %+v", me)
	}
}

func TestReplayAfterLogoutIsAnonymous(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	token := ts.sessionCookie(t, c)
	ts.gql(t, c, logoutMutation, nil)

	replay := ts.withCookie(t, "sid", token)
	if me := ts.me(t, replay); me != nil {
		t.Fatalf("replayed cookie after logout: me = %+v", me)
	}
	var out bool
	ts.gql(t, replay, logoutMutation, nil).decode(t, "logout", &out)
	if out {
		t.Fatal("logout with a replayed cookie = true")
	}
	rdb := redisClient(t, ts)
	if keys := rdb.keys(t, "s:*"); len(keys) != 0 {
		t.Fatalf("Redis still holds %v after the only session ended", keys)
	}
}

func TestGarbageCookiesAreAnonymousWithoutRedis(t *testing.T) {
	ts := startServer(t, nil)
	rdb := redisClient(t, ts)
	garbage := map[string]string{
		"empty":            "",
		"short":            "abc",
		"huge":             strings.Repeat("x", 3000),
		"non-ascii":        "s\u00e9ssion\u2603\u2603\u2603\u2603\u2603\u2603\u2603\u2603\u2603\u2603\u2603\u2603\u2603\u2603",
		"wrong alphabet":   strings.Repeat("*", 51),
		"padded":           base64.URLEncoding.EncodeToString(make([]byte, 38)),
		"non-canonical":    strings.Repeat("A", 50) + "B",
		"quoted":           `"` + strings.Repeat("A", 49) + `"`,
		"one short":        strings.Repeat("A", 50),
		"one long":         strings.Repeat("A", 52),
		"std base64 chars": strings.Repeat("+/", 25) + "A",
	}
	before := rdb.dataCommands(t)
	for name, v := range garbage {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Cookie", "sid="+v)
			r := ts.do(t, http.DefaultClient, req)
			if r.HTTP.StatusCode != http.StatusOK || len(r.Errors) > 0 || string(r.Data["me"]) != "null" {
				t.Fatalf("status %d, data %s, errors %+v; want 200 and me null", r.HTTP.StatusCode, r.Data["me"], r.Errors)
			}
		})
	}
	if n := rdb.dataCommands(t) - before; n != 0 {
		t.Fatalf("garbage cookies cost %d Redis commands, want none", n)
	}
}

func TestTokensAreHashedAtRest(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	u, _ := ts.register(t, c)
	ts.awaitMailSent(t) // no lease of the verification mail comes and goes meanwhile
	token := ts.sessionCookie(t, c)
	rdb := redisClient(t, ts)
	ctx := context.Background()

	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	hashed := string(sum[:16]) // the session's field in its user's hash
	keys := rdb.keys(t, "*")
	found := false
	for _, k := range keys {
		if strings.Contains(k, token) || strings.Contains(k, string(raw[6:])) {
			t.Errorf("Redis key %q contains the token", k)
		}
		if rdb.Type(ctx, k).Val() == "hash" && slices.Contains(rdb.HKeys(ctx, k).Val(), hashed) {
			found = true
		}
		dump := rdb.Dump(ctx, k).Val()
		if strings.Contains(dump, token) || strings.Contains(dump, string(raw[6:])) {
			t.Errorf("Redis value of %q contains the token", k)
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %q has no TTL (%v)", k, ttl)
		}
	}
	if !found {
		t.Errorf("no session named by the SHA-256 of the token among %v", keys)
	}
	// Stopping the server writes its last batched request lines.
	if err := ts.Stop(t); err != nil {
		t.Fatal(err)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "msg=request") {
		t.Errorf("no request line in the server log:\n%s", logs)
	}
	if strings.Contains(logs, token) {
		t.Error("the token appears in the server log")
	}
	_ = u
}

func TestSiblingFieldsShareOneSession(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	u, _ := ts.register(t, c)
	q := `{ a: me { id } b: me { email } c: me { name } d: me { id } e: me { id } }`
	for range 20 {
		r := ts.gql(t, c, q, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %+v", r.Errors)
		}
		var a user
		r.decode(t, "a", &a)
		if a.ID != u.ID {
			t.Fatalf("a.id = %q, want %q", a.ID, u.ID)
		}
	}
}
