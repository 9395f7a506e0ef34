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

// newManager returns a Manager on a real redis-server of b's own.
func newManager(b *testing.B) *session.Manager {
	srv := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	b.Cleanup(func() { rdb.Close() })
	m := session.NewManager(rdb, session.Options{CookieName: "sid", IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, Timeout: time.Second})
	b.Cleanup(func() { m.Close() })
	return m
}

// signIn returns a live session cookie made through the middleware.
func signIn(b *testing.B, m *session.Manager) *http.Cookie {
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.SignIn(r.Context(), "6565656565656565656565ab", session.Profile{Email: "a@example.com", Name: "A", CreatedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		b.Fatalf("cookies %v", cs)
	}
	return cs[0]
}

// BenchmarkMiddleware measures loading the request's session: anonymous
// (no Redis), a malformed cookie (no Redis) and signed in (one Redis GET
// over loopback, no write since the touch interval has not passed).
func BenchmarkMiddleware(b *testing.B) {
	m := newManager(b)
	cookie := signIn(b, m)
	var seen string
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _, _, err := session.User(r.Context())
		if err != nil {
			b.Fatal(err)
		}
		seen = id
	}))
	for _, bc := range []struct {
		name   string
		cookie *http.Cookie
		want   string
	}{
		{"anonymous", nil, ""},
		{"malformed cookie", &http.Cookie{Name: "sid", Value: "garbage"}, ""},
		{"signed in", cookie, "6565656565656565656565ab"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			if bc.cookie != nil {
				req.AddCookie(bc.cookie)
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
			if seen != bc.want {
				b.Fatalf("user %q, want %q", seen, bc.want)
			}
		})
	}
}

// BenchmarkCookieDecode measures reading a session cookie from a request
// through the gorilla Store for a cookie that is refused without Redis.
func BenchmarkCookieDecode(b *testing.B) {
	m := session.NewManager(nil, session.Options{CookieName: "sid", IdleTimeout: time.Hour, Lifetime: 24 * time.Hour})
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.AddCookie(&http.Cookie{Name: "sid", Value: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"}) // right length, non-canonical
	req = req.WithContext(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		if s, err := m.New(req, "sid"); err != nil || !s.IsNew {
			b.Fatal("accepted", err)
		}
	}
}
