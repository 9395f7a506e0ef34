package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/redistest"
)

// Two users whose 48-bit slot tags collide share one hash. No pair of
// colliding ids can be found for a test, so the second user's session is
// planted in the first user's hash, under a token carrying the first
// user's tag, as a collision would put it there.
func TestUsersSharingAHashKeepTheirSessionsAndProfilesApart(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	m := NewManager(rdb, Options{CookieName: "sid", IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, Timeout: 2 * time.Second})
	ctx := context.Background()
	const ada, bob = "65f0c0ffee0123456789abcd", "65f0c0ffee0123456789abce"

	run := func(cookie string, fn func(ctx context.Context)) *http.Cookie {
		var set *http.Cookie
		h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fn(r.Context()) }))
		req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "sid", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			set = c
		}
		return set
	}
	adaCookie := run("", func(ctx context.Context) {
		if err := SignIn(ctx, ada, Profile{Email: "ada@example.com", Name: "Ada", CreatedAt: time.UnixMilli(1)}); err != nil {
			t.Fatal(err)
		}
	})

	// Bob's session, in Ada's hash.
	raw := make([]byte, rawLen)
	copy(raw, slotTag(ada))
	if _, err := rand.Read(raw[tagLen:]); err != nil {
		t.Fatal(err)
	}
	bobToken := b64.EncodeToString(raw)
	sum := sha256.Sum256(raw)
	now := time.Now().UnixMilli()
	v, err := (&record{UserID: bob, Created: now, LastSeen: now}).encodeSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, userKey(tagOf(ada)), string(sum[:storageIDLen]), v).Err(); err != nil {
		t.Fatal(err)
	}

	// Bob is signed in as Bob, and is not given Ada's profile.
	run(bobToken, func(ctx context.Context) {
		id, _, ok, err := User(ctx)
		if err != nil || id != bob || ok {
			t.Fatalf("Bob's request: user %q, profile %v, %v; want Bob without a profile (read the database)", id, ok, err)
		}
	})
	// Ada sees her own session only, with her profile.
	run(adaCookie.Value, func(ctx context.Context) {
		id, p, ok, err := User(ctx)
		if err != nil || id != ada || !ok || p.Email != "ada@example.com" {
			t.Fatalf("Ada's request: %q %+v %v %v", id, p, ok, err)
		}
		list, err := List(ctx)
		if err != nil || len(list) != 1 || !list[0].Current {
			t.Fatalf("Ada's sessions: %+v, %v; want her one", list, err)
		}
		if n, err := RevokeOthers(ctx); err != nil || n != 0 {
			t.Fatalf("Ada ending her other sessions ended %d (%v); want 0: Bob's is not hers", n, err)
		}
	})
	// Bob signing out leaves Ada signed in.
	run(bobToken, func(ctx context.Context) {
		if ended, err := SignOut(ctx); err != nil || !ended {
			t.Fatalf("Bob's sign-out: %v %v", ended, err)
		}
	})
	run(adaCookie.Value, func(ctx context.Context) {
		if id, _, ok, _ := User(ctx); id != ada || !ok {
			t.Fatalf("after Bob's sign-out Ada is %q (profile %v)", id, ok)
		}
	})
}
