package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/redistest"
)

// A create that did not happen must not hand out a cookie naming no session.
func TestSaveSetsNoCookieForASessionItDidNotCreate(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t).Addr()})
	t.Cleanup(func() { rdb.Close() })
	now := time.UnixMilli(1763900000000)
	m := NewManager(rdb, Options{CookieName: "sid", IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, Now: func() time.Time { return now }})
	tests := []struct {
		name    string
		rec     record
		version int64
		wantErr error
	}{
		{"already past its lifetime", record{UserID: "u1", Created: now.Add(-25 * time.Hour).UnixMilli(), LastSeen: now.UnixMilli()}, 0, errNotCreated},
		{"idle for longer than the timeout", record{UserID: "u1", Created: now.Add(-2 * time.Hour).UnixMilli(), LastSeen: now.Add(-2 * time.Hour).UnixMilli()}, 0, errNotCreated},
		{"a live one", record{UserID: "u1", Created: now.UnixMilli(), LastSeen: now.UnixMilli()}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sessions.NewSession(m, "sid")
			rec := tt.rec
			s.Values[recordKey{}] = &rec
			w := httptest.NewRecorder()
			err := m.Save(httptest.NewRequest(http.MethodPost, "/", nil), w, s)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Save = %v, want %v", err, tt.wantErr)
			}
			cookies := w.Result().Cookies()
			if tt.wantErr != nil && (len(cookies) != 0 || s.ID != "") {
				t.Fatalf("a session that was not created got cookie %v, id %q", cookies, s.ID)
			}
			if tt.wantErr == nil && len(cookies) != 1 {
				t.Fatalf("cookies %v, want one", cookies)
			}
		})
	}
}
