package mail

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/redistest"
)

// TestLeasesOnEveryKindOfRedis runs the lease scripts on each Redis the
// server may be given: a redis-server, a Redis Cluster (where both keys of
// a mail must hash to one slot) and the development stack's in-process
// Redis.
func TestLeasesOnEveryKindOfRedis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		client func(t *testing.T) redis.UniversalClient
	}{
		{"redis-server", func(t *testing.T) redis.UniversalClient {
			return newRedisClient(t, redistest.Start(t).Addr())
		}},
		{"cluster", func(t *testing.T) redis.UniversalClient {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: redistest.StartCluster(t, 3, 0).Addrs()})
			t.Cleanup(func() { _ = c.Close() })
			return c
		}},
		{"devstack", func(t *testing.T) redis.UniversalClient {
			r, err := devstack.StartRedis()
			if errors.Is(err, devstack.ErrNotBuiltIn) {
				t.Skip("in-process Redis left out of this build")
			}
			if err != nil {
				t.Fatalf("StartRedis: %v", err)
			}
			t.Cleanup(r.Close)
			return newRedisClient(t, r.Addr())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := tt.client(t)
			l := &leases{rdb: rdb, ttl: time.Minute, timeout: 5 * time.Second}
			ctx := t.Context()
			const id = "65f0c0ffee0123456789abcd"
			claim := func(token string, want int) {
				t.Helper()
				got, err := l.claim(ctx, id, token)
				if err != nil {
					t.Fatalf("claim(%s): %v", token, err)
				}
				if got != want {
					t.Fatalf("claim(%s) = %d, want %d", token, got, want)
				}
			}
			ttl := func(key string) time.Duration {
				t.Helper()
				d, err := rdb.PTTL(ctx, key).Result()
				if err != nil {
					t.Fatalf("PTTL %s: %v", key, err)
				}
				return d
			}

			claim("a", leaseGot)
			if d := ttl(leaseKey(id)); d <= 0 || d > time.Minute {
				t.Errorf("lease TTL %v, want (0, 1m]", d)
			}
			claim("b", leaseHeld)
			if err := l.release(ctx, id, "b", false); err != nil {
				t.Fatalf("release by another: %v", err)
			}
			claim("b", leaseHeld) // a's lease survived b's release

			if err := l.markSent(ctx, id); err != nil {
				t.Fatalf("markSent: %v", err)
			}
			if d := ttl(markerKey(id)); d < 23*time.Hour || d > sentMarkerTTL {
				t.Errorf("marker TTL %v, want about %v", d, sentMarkerTTL)
			}
			if err := l.release(ctx, id, "a", false); err != nil {
				t.Fatalf("release: %v", err)
			}
			// Removing the mail failed: the next claimer learns it was sent.
			claim("c", leaseGotSent)
			if err := l.release(ctx, id, "c", true); err != nil {
				t.Fatalf("release with removal: %v", err)
			}
			if n, err := rdb.Exists(ctx, leaseKey(id), markerKey(id)).Result(); err != nil || n != 0 {
				t.Errorf("%d keys left (%v), want none", n, err)
			}
		})
	}
}

func TestLeaseExpires(t *testing.T) {
	t.Parallel()
	rdb := newRedisClient(t, redistest.Start(t).Addr())
	l := &leases{rdb: rdb, ttl: 100 * time.Millisecond, timeout: 5 * time.Second}
	if got, err := l.claim(t.Context(), "id1", "a"); err != nil || got != leaseGot {
		t.Fatalf("claim: %d, %v", got, err)
	}
	time.Sleep(150 * time.Millisecond)
	if got, err := l.claim(t.Context(), "id1", "b"); err != nil || got != leaseGot {
		t.Fatalf("claim after expiry: %d, %v; want the lease", got, err)
	}
	// a's late release must not free b's lease.
	if err := l.release(t.Context(), "id1", "a", false); err != nil {
		t.Fatalf("release: %v", err)
	}
	if got, err := l.claim(t.Context(), "id1", "c"); err != nil || got != leaseHeld {
		t.Fatalf("claim while b holds it: %d, %v", got, err)
	}
}
