package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/redistest"
	"github.com/sessiongql/server/internal/session"
)

// BenchmarkSessionMemory signs in 100,000 sessions (one per user, the
// costliest case for the per-user index) on a fresh redis-server and
// reports Redis memory per live session, index entry included: the growth
// of used_memory divided by the number of sessions, and MEMORY USAGE of
// one session key plus one index.
// Run: go test -run='^$' -bench=SessionMemory -benchtime=1x ./internal/session
func BenchmarkSessionMemory(b *testing.B) {
	const n = 100_000
	srv := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 64})
	defer rdb.Close()
	ctx := context.Background()
	m := session.NewManager(rdb, session.Options{CookieName: "sid", IdleTimeout: 24 * time.Hour, Lifetime: 720 * time.Hour, Timeout: 5 * time.Second,
		ClientIP: func(*http.Request) string { return "203.0.113.7" }})
	used := func() int64 {
		info := rdb.Info(ctx, "memory").Val()
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				x, _ := strconv.ParseInt(v, 10, 64)
				return x
			}
		}
		b.Fatal("no used_memory")
		return 0
	}
	for b.Loop() {
		_ = rdb.FlushAll(ctx)
		before := used()
		sem := make(chan struct{}, 32)
		errs := make(chan error, n)
		for i := range n {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				uid := fmt.Sprintf("%024x", i+1)
				h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := session.SignIn(r.Context(), uid, session.Profile{Email: "user" + uid[18:] + "@example.com", Name: "Test User", CreatedAt: time.Now()}); err != nil {
						errs <- err
					}
				}))
				req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0")
				h.ServeHTTP(httptest.NewRecorder(), req)
			}()
		}
		for range cap(sem) {
			sem <- struct{}{}
		}
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		perSession := float64(used()-before) / n
		keys := rdb.Keys(ctx, "sess:*").Val()
		idx := rdb.Keys(ctx, "usess:*").Val()
		if len(keys) != n || len(idx) != n {
			b.Fatalf("%d session keys, %d indexes, want %d", len(keys), len(idx), n)
		}
		usage := rdb.MemoryUsage(ctx, keys[0]).Val() + rdb.MemoryUsage(ctx, idx[0]).Val()
		b.ReportMetric(perSession, "bytes/session")
		b.ReportMetric(float64(usage), "memory-usage-bytes/session")
	}
}
