package totp

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/redistest"
)

func newSteps(t *testing.T) (*Steps, *redis.Client, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return NewSteps(rdb, 2*time.Second), rdb, srv
}

func TestStepIsAcceptedOnceAndNeverAfterALaterOne(t *testing.T) {
	steps, rdb, _ := newSteps(t)
	ctx := t.Context()
	const s = 56_666_667
	tests := []struct {
		name string
		user string
		step int64
		want bool
	}{
		{"first use", "u1", s, true},
		{"the same step again", "u1", s, false},
		{"an earlier step", "u1", s - 1, false},
		{"the next step", "u1", s + 1, true},
		{"the step before it, late", "u1", s, false},
		{"another user, the same step", "u2", s, true},
		{"a user id with braces", "{u1}", s, true},
	}
	for _, tt := range tests {
		got, err := steps.Accept(ctx, tt.user, tt.step)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got != tt.want {
			t.Fatalf("%s: Accept(%s, %d) = %v, want %v", tt.name, tt.user, tt.step, got, tt.want)
		}
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("keys %v, want one per user", keys)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		// Longer than a code's 90-second life, and not forever.
		if ttl <= 90*time.Second || ttl > stepTTL {
			t.Fatalf("%s has TTL %v, want more than 90s and at most %v", k, ttl, stepTTL)
		}
	}
}

func TestOneOfManyConcurrentAcceptsWins(t *testing.T) {
	steps, _, _ := newSteps(t)
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, losses := 0, 0
	gun := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-gun
			ok, err := steps.Accept(t.Context(), "racer", 56_666_667)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case ok:
				wins++
			default:
				losses++
			}
		})
	}
	close(gun)
	wg.Wait()
	if wins != 1 || losses != n-1 {
		t.Fatalf("%d accepts won and %d lost, want 1 and %d", wins, losses, n-1)
	}
}

func TestAcceptWithRedisDownIsUnavailable(t *testing.T) {
	steps, _, srv := newSteps(t)
	srv.Stop(t)
	ok, err := steps.Accept(t.Context(), "u1", 1)
	if ok || !errors.Is(err, apperr.ErrUnavailable) {
		t.Fatalf("Accept with Redis stopped = %v, %v; want false, ErrUnavailable", ok, err)
	}
}

func TestAcceptWithoutAUserFails(t *testing.T) {
	steps, _, _ := newSteps(t)
	if ok, err := steps.Accept(t.Context(), "", 1); ok || err == nil {
		t.Fatalf("Accept for no user = %v, %v; want an error", ok, err)
	}
}
