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
// costliest case: every session pays for a key and a profile of its own;
// then four per user)
// from a desktop Chrome, each user with a 31-byte email and a 12-byte name,
// on a fresh redis-server, and reports Redis memory per
// live session, everything included: the growth of used_memory divided by
// the number of sessions, and the mean MEMORY USAGE of 1,000 user hashes per session.
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
	for _, perUser := range []int{1, 4} {
		b.Run(fmt.Sprintf("sessions-per-user=%d", perUser), func(b *testing.B) {
			measureSessionMemory(b, ctx, rdb, m, used, n, perUser)
		})
	}
}

func measureSessionMemory(b *testing.B, ctx context.Context, rdb *redis.Client, m *session.Manager, used func() int64, n, perUser int) {
	const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	users := n / perUser
	for b.Loop() {
		_ = rdb.FlushAll(ctx)
		before := used()
		sem := make(chan struct{}, 32)
		errs := make(chan error, n)
		for i := range n {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				uid := fmt.Sprintf("%024x", i%users+1)
				h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := session.SignIn(r.Context(), uid, session.Profile{Email: "ada.lovelace." + uid[18:] + "@example.com", Name: "Ada Lovelace", CreatedAt: time.Now()}); err != nil {
						errs <- err
					}
				}))
				req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
				req.Header.Set("User-Agent", chromeUA)
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
		perSession := float64(used()-before) / float64(n)
		keys := rdb.Keys(ctx, "s:*").Val()
		if len(keys) != users {
			b.Fatalf("%d user hashes, want %d", len(keys), users)
		}
		var usage int64
		for _, k := range keys[:1000] {
			if enc := rdb.ObjectEncoding(ctx, k).Val(); enc != "listpack" {
				b.Fatalf("%s is a %s, want a listpack", k, enc)
			}
			usage += rdb.MemoryUsage(ctx, k).Val()
		}
		b.ReportMetric(perSession, "bytes/session")
		b.ReportMetric(float64(usage)/1000/float64(perUser), "memory-usage-bytes/session")
	}
}
