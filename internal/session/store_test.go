package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/redistest"
	"github.com/sessiongql/server/internal/session"
)

// fixture is a Manager on a redis-server of the test's own, with a clock
// the test moves.
type fixture struct {
	m   *session.Manager
	rdb *redis.Client
	now time.Time
}

func newFixture(t *testing.T, opts session.Options) *fixture {
	t.Helper()
	srv := redistest.Start(t)
	f := &fixture{rdb: redis.NewClient(&redis.Options{Addr: srv.Addr()}), now: time.UnixMilli(1763900000000)}
	t.Cleanup(func() { f.rdb.Close() })
	opts.CookieName, opts.Timeout = "sid", 2*time.Second
	if opts.Now == nil { // the test's clock, unless it wants the real one
		opts.Now = func() time.Time { return f.now }
	}
	f.m = session.NewManager(f.rdb, opts)
	t.Cleanup(func() { f.m.Close() })
	return f
}

// do runs fn inside the middleware for a request carrying cookie (if
// any) and returns the session cookie the response set, or cookie.
func (f *fixture) do(t *testing.T, cookie *http.Cookie, fn func(ctx context.Context) error) *http.Cookie {
	t.Helper()
	h := f.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(r.Context()); err != nil {
			t.Fatal(err)
		}
	}))
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		return c
	}
	return cookie
}

func (f *fixture) signIn(t *testing.T, userID string, p session.Profile) *http.Cookie {
	return f.do(t, nil, func(ctx context.Context) error { return session.SignIn(ctx, userID, p) })
}

func (f *fixture) user(t *testing.T, c *http.Cookie) (id string, p session.Profile, ok bool) {
	f.do(t, c, func(ctx context.Context) error {
		var err error
		id, p, ok, err = session.User(ctx)
		return err
	})
	return id, p, ok
}

const ada = "65f0c0ffee0123456789abcd"

var adaProfile = session.Profile{Email: "ada@example.com", Name: "Ada", CreatedAt: time.UnixMilli(1700000000000).UTC()}

func TestSigningInBeyondTheMaximumEndsTheOldestSessions(t *testing.T) {
	f := newFixture(t, session.Options{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, MaxPerUser: 3})
	var cookies []*http.Cookie
	for range 5 {
		cookies = append(cookies, f.signIn(t, ada, adaProfile))
		f.now = f.now.Add(time.Second)
	}
	for i, c := range cookies {
		id, _, _ := f.user(t, c)
		if live, want := id == ada, i >= 2; live != want {
			t.Errorf("session %d live = %v, want %v", i, live, want)
		}
	}
	var n int
	f.do(t, cookies[4], func(ctx context.Context) error {
		list, err := session.List(ctx)
		n = len(list)
		return err
	})
	if n != 3 {
		t.Fatalf("List = %d sessions, want 3", n)
	}
}

func TestAnExtensionKeepsAProfileRefreshedMeanwhile(t *testing.T) {
	f := newFixture(t, session.Options{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, TouchInterval: time.Minute})
	c := f.signIn(t, ada, adaProfile)
	renamed := adaProfile
	renamed.Name = "Ada Lovelace"
	f.now = f.now.Add(2 * time.Minute) // the next request extends the session
	f.do(t, c, func(ctx context.Context) error { return session.RefreshProfile(ctx, ada, renamed) })
	f.now = f.now.Add(2 * time.Minute)
	for range 2 {
		if _, p, ok := f.user(t, c); !ok || p != renamed {
			t.Fatalf("profile = %+v %v, want %+v", p, ok, renamed)
		}
	}
}

func TestTheLastSignOutLeavesNothingInRedis(t *testing.T) {
	f := newFixture(t, session.Options{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour})
	a := f.signIn(t, ada, adaProfile)
	b := f.signIn(t, ada, adaProfile)
	for i, c := range []*http.Cookie{a, b} {
		f.do(t, c, func(ctx context.Context) error {
			_, err := session.SignOut(ctx)
			return err
		})
		keys := f.rdb.Keys(context.Background(), "*").Val()
		if want := 1 - i; len(keys) != want {
			t.Fatalf("after %d sign-outs Redis holds %v, want %d key", i+1, keys, want)
		}
	}
}

func TestExpiredSessionsArePrunedAtTheNextSignIn(t *testing.T) {
	f := newFixture(t, session.Options{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour})
	old := f.signIn(t, ada, adaProfile)
	f.now = f.now.Add(2 * time.Hour) // idle for longer than the timeout
	if id, _, _ := f.user(t, old); id != "" {
		t.Fatalf("idle session still signed in as %q", id)
	}
	f.signIn(t, ada, adaProfile)
	keys := f.rdb.Keys(context.Background(), "s:*").Val()
	if len(keys) != 1 {
		t.Fatalf("user hashes %v", keys)
	}
	if n := f.rdb.HLen(context.Background(), keys[0]).Val(); n != 3 {
		t.Fatalf("user hash has %d fields, want the new session, the profile and the email", n)
	}
}
