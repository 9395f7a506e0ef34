package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/redistest"
)

// within runs fn inside the middleware for a request carrying cookie and
// returns the cookie the response set, if any.
func within(t *testing.T, m *Manager, cookie *http.Cookie, fn func(ctx context.Context) error) *http.Cookie {
	t.Helper()
	var fnErr error
	h := m.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { fnErr = fn(r.Context()) }))
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if fnErr != nil {
		t.Fatal(fnErr)
	}
	for _, c := range rec.Result().Cookies() {
		return c
	}
	return nil
}

// A recheck that finds the session gone before its expiry, while the event
// saying why has not arrived, must not call it EXPIRED.
func TestARecheckRacingTheEventReportsTheRealReason(t *testing.T) {
	tests := []struct {
		name  string
		event string // published after the recheck; "" for a lost event
		want  string
	}{
		{"the event arrives after the recheck", ReasonLogout, ReasonLogout},
		{"the event was lost", "", ReasonRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t).Addr()})
			t.Cleanup(func() { rdb.Close() })
			m := NewManager(rdb, Options{CookieName: "sid", IdleTimeout: time.Hour, Lifetime: 24 * time.Hour})
			t.Cleanup(func() { m.Close() })
			const uid = "65f0c0ffee0123456789abcd"
			cookie := within(t, m, nil, func(ctx context.Context) error { return SignIn(ctx, uid, Profile{}) })
			ended := make(chan string, 1)
			var sock *Socket
			within(t, m, cookie, func(ctx context.Context) error {
				var err error
				sock, err = OpenSocket(ctx, func(r string) { ended <- r })
				return err
			})
			t.Cleanup(sock.Close)
			// The session goes without its event, as when Redis delivers the
			// message after the socket's periodic read.
			if err := rdb.HDel(t.Context(), userKey(tagOf(uid)), sock.currentID()).Err(); err != nil {
				t.Fatal(err)
			}
			sock.recheck()
			select {
			case r := <-ended:
				t.Fatalf("ended with %s at once, before the event could arrive", r)
			case <-time.After(100 * time.Millisecond):
			}
			if tt.event != "" {
				if err := rdb.Publish(t.Context(), eventsChannel, sock.currentID()+tt.event).Err(); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case r := <-ended:
				if r != tt.want {
					t.Fatalf("ended with %s, want %s", r, tt.want)
				}
			case <-time.After(eventGrace + time.Second):
				t.Fatalf("not ended within %v", eventGrace+time.Second)
			}
		})
	}
}
