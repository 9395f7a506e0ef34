package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/redistest"
)

// newClient returns a client for addr that, like the server's, lets the
// context deadline bound every socket wait.
func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newLimiter starts a redis-server for t and returns a Limiter on it and a
// client for looking at its keys.
func newLimiter(t *testing.T) (*Limiter, *redis.Client) {
	t.Helper()
	rdb := newClient(t, redistest.Start(t).Addr())
	return New(rdb, 5*time.Second), rdb
}

func add(t *testing.T, l *Limiter, hits ...Hit) []Count {
	t.Helper()
	counts, err := l.Add(t.Context(), hits...)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if len(counts) != len(hits) {
		t.Fatalf("Add returned %d counts for %d hits", len(counts), len(hits))
	}
	return counts
}

func check(t *testing.T, l *Limiter, rule Rule, key string) (time.Duration, bool) {
	t.Helper()
	retryAfter, limited, err := l.Check(t.Context(), rule, key)
	if err != nil {
		t.Fatalf("Check(%s, %q): %v", rule.Name, key, err)
	}
	return retryAfter, limited
}

func TestCheckLimitsOnceTheLimitIsReached(t *testing.T) {
	t.Parallel()
	rule := Rule{Name: "login-email", Limit: 3, Window: time.Minute}
	tests := []struct {
		events      int
		wantLimited bool
	}{
		{0, false},
		{1, false},
		{2, false},
		{3, true},
		{4, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d events", tt.events), func(t *testing.T) {
			t.Parallel()
			l, _ := newLimiter(t)
			key := "alice@example.com"
			for i := range tt.events {
				if c := add(t, l, Hit{rule, key}); c[0].N != i+1 {
					t.Fatalf("Add #%d: N = %d", i+1, c[0].N)
				}
			}
			retryAfter, limited := check(t, l, rule, key)
			if limited != tt.wantLimited {
				t.Fatalf("limited = %v, want %v", limited, tt.wantLimited)
			}
			switch {
			case limited && (retryAfter <= 0 || retryAfter > rule.Window):
				t.Errorf("retryAfter = %v, want in (0, %v]", retryAfter, rule.Window)
			case limited && retryAfter%time.Millisecond != 0:
				t.Errorf("retryAfter = %v, want whole milliseconds", retryAfter)
			case !limited && retryAfter != 0:
				t.Errorf("retryAfter = %v when not limited, want 0", retryAfter)
			}
		})
	}
}

func TestAddReportsCountAndTimeLeft(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t)
	rule := Rule{Name: "register-ip", Limit: 10, Window: time.Hour}
	for want := 1; want <= 3; want++ {
		c := add(t, l, Hit{rule, "192.0.2.1"})[0]
		if c.N != want || c.RetryAfter <= 0 || c.RetryAfter > rule.Window {
			t.Fatalf("Add #%d = %+v, want N %d and 0 < RetryAfter <= %v", want, c, want, rule.Window)
		}
	}
}

func TestANewWindowStartsAfterTheOldOneEnds(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t)
	rule := Rule{Name: "login-ip", Limit: 2, Window: 300 * time.Millisecond}
	key := "192.0.2.7"
	add(t, l, Hit{rule, key})
	add(t, l, Hit{rule, key})
	retryAfter, limited := check(t, l, rule, key)
	if !limited || retryAfter <= 0 || retryAfter > rule.Window {
		t.Fatalf("at the limit: limited = %v, retryAfter = %v", limited, retryAfter)
	}

	time.Sleep(retryAfter + 50*time.Millisecond)
	if retryAfter, limited := check(t, l, rule, key); limited {
		t.Fatalf("after the window: limited, retryAfter = %v", retryAfter)
	}
	if c := add(t, l, Hit{rule, key})[0]; c.N != 1 {
		t.Errorf("first Add of the new window: N = %d, want 1", c.N)
	}
}

func TestCountersAreIndependentPerRuleAndKey(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t)
	email := Rule{Name: "login-email", Limit: 2, Window: time.Minute}
	ip := Rule{Name: "login-ip", Limit: 2, Window: time.Minute}
	add(t, l, Hit{email, "alice@example.com"}, Hit{email, "alice@example.com"}, Hit{email, "bob@example.com"})

	tests := []struct {
		rule        Rule
		key         string
		wantLimited bool
	}{
		{email, "alice@example.com", true},
		{email, "bob@example.com", false},
		{ip, "alice@example.com", false}, // same key text, other rule
	}
	for _, tt := range tests {
		if _, limited := check(t, l, tt.rule, tt.key); limited != tt.wantLimited {
			t.Errorf("Check(%s, %q): limited = %v, want %v", tt.rule.Name, tt.key, limited, tt.wantLimited)
		}
	}
}

func TestResetClearsOneCounterOnly(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t)
	email := Rule{Name: "login-email", Limit: 5, Window: time.Minute}
	ip := Rule{Name: "login-ip", Limit: 20, Window: time.Minute}
	const alice, bob = "alice@example.com", "bob@example.com"
	add(t, l, Hit{email, alice}, Hit{email, bob}, Hit{ip, alice})

	if err := l.Reset(t.Context(), email, alice); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	got := add(t, l, Hit{email, alice}, Hit{email, bob}, Hit{ip, alice})
	want := []int{1, 2, 2}
	for i, c := range got {
		if c.N != want[i] {
			t.Errorf("count %d after Reset = %d, want %d", i, c.N, want[i])
		}
	}
	if err := l.Reset(t.Context(), email, "nobody@example.com"); err != nil {
		t.Errorf("Reset of a counter never used: %v", err)
	}
}

func TestEveryKeyHasATTLAndHidesTheCountedKey(t *testing.T) {
	t.Parallel()
	l, rdb := newLimiter(t)
	rules := []Rule{
		{Name: "login-email", Limit: 5, Window: 15 * time.Minute},
		{Name: "login-ip", Limit: 20, Window: 15 * time.Minute},
		{Name: "register-ip", Limit: 10, Window: time.Hour},
	}
	secrets := []string{"carol.secret@example.com", "198.51.100.23", "2001:db8::42"}
	for _, r := range rules {
		for _, s := range secrets {
			add(t, l, Hit{r, s})
		}
	}
	// A Check of an unused counter must not leave a key behind.
	check(t, l, rules[0], "unused@example.com")

	ctx := t.Context()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	if len(keys) != len(rules)*len(secrets) {
		t.Errorf("%d keys in Redis, want %d: %q", len(keys), len(rules)*len(secrets), keys)
	}
	shape := regexp.MustCompile(`^rl:\{[a-z-]+:[0-9a-f]{32}\}$`)
	for _, k := range keys {
		if !shape.MatchString(k) {
			t.Errorf("key %q does not look like rl:{<rule>:<32 hex>}", k)
		}
		for _, s := range secrets {
			for _, part := range []string{s, "carol", "example.com", "198.51.100", "2001:db8"} {
				if strings.Contains(k, part) {
					t.Errorf("key %q contains %q (from %q)", k, part, s)
				}
			}
		}
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", k, err)
		}
		if ttl <= 0 || ttl > time.Hour {
			t.Errorf("PTTL %s = %v, want in (0, 1h]", k, ttl)
		}
	}
}

func TestAKeyWithoutTTLGetsItsWindowBack(t *testing.T) {
	t.Parallel()
	rule := Rule{Name: "login-email", Limit: 3, Window: time.Minute}
	key := "dave@example.com"
	tests := []struct {
		name string
		op   func(*testing.T, *Limiter) time.Duration
	}{
		{"Add", func(t *testing.T, l *Limiter) time.Duration {
			c := add(t, l, Hit{rule, key})[0]
			if c.N != 4 {
				t.Errorf("N = %d, want 4", c.N)
			}
			return c.RetryAfter
		}},
		{"Check", func(t *testing.T, l *Limiter) time.Duration {
			retryAfter, limited := check(t, l, rule, key)
			if !limited {
				t.Error("not limited at 3 of 3")
			}
			return retryAfter
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, rdb := newLimiter(t)
			k := counterKey(rule, key)
			if err := rdb.Set(t.Context(), k, 3, 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			if retryAfter := tt.op(t, l); retryAfter <= 0 || retryAfter > rule.Window {
				t.Errorf("retryAfter = %v, want in (0, %v]", retryAfter, rule.Window)
			}
			if ttl, err := rdb.PTTL(t.Context(), k).Result(); err != nil || ttl <= 0 {
				t.Errorf("PTTL = %v, %v; want > 0", ttl, err)
			}
		})
	}
}

func TestCountingSurvivesAFlushedScriptCache(t *testing.T) {
	t.Parallel()
	l, rdb := newLimiter(t)
	rule := Rule{Name: "login-ip", Limit: 20, Window: time.Minute}
	add(t, l, Hit{rule, "192.0.2.9"})
	if err := rdb.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	if c := add(t, l, Hit{rule, "192.0.2.9"}, Hit{rule, "192.0.2.10"}); c[0].N != 2 || c[1].N != 1 {
		t.Errorf("after SCRIPT FLUSH: counts %+v, want N 2 and 1", c)
	}
}

func TestCheckAllReportsTheLongestWaitAmongLimited(t *testing.T) {
	t.Parallel()
	short := Rule{Name: "short", Limit: 1, Window: 10 * time.Second}
	long := Rule{Name: "long", Limit: 1, Window: time.Hour}
	loose := Rule{Name: "loose", Limit: 5, Window: 2 * time.Hour} // counted, never limited here
	tests := []struct {
		name        string
		hits        []Hit
		wantLimited bool
		min, max    time.Duration // bounds on retryAfter
	}{
		{"none", nil, false, 0, 0},
		{"only loose", []Hit{{loose, "k"}}, false, 0, 0},
		{"short", []Hit{{short, "k"}, {loose, "k"}}, true, time.Millisecond, short.Window},
		{"short and long", []Hit{{short, "k"}, {long, "k"}, {loose, "k"}}, true, short.Window, long.Window},
		{"long and short", []Hit{{long, "k"}, {short, "k"}}, true, short.Window, long.Window},
		{"fresh key", []Hit{{short, "other"}, {long, "other"}}, false, 0, 0},
	}
	l, _ := newLimiter(t)
	add(t, l, Hit{short, "k"}, Hit{long, "k"}, Hit{loose, "k"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retryAfter, limited, err := l.CheckAll(t.Context(), tt.hits...)
			if err != nil {
				t.Fatalf("CheckAll: %v", err)
			}
			if limited != tt.wantLimited || retryAfter < tt.min || retryAfter > tt.max {
				t.Errorf("CheckAll = %v, %v; want %v with retryAfter in [%v, %v]",
					retryAfter, limited, tt.wantLimited, tt.min, tt.max)
			}
		})
	}
}

func TestARuleWithoutAWindowIsRejected(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t)
	_, err := l.Add(t.Context(), Hit{Rule{Name: "broken", Limit: 1}, "k"})
	if err == nil || errors.Is(err, apperr.ErrUnavailable) {
		t.Errorf("Add with a zero window: err = %v, want a non-availability error", err)
	}
}

// silentServer accepts connections and never answers, like a stalled Redis.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestRedisOutageIsErrUnavailableWithinTheTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	const bound = 2 * time.Second // timeout plus generous slack for -race
	rule := Rule{Name: "login-email", Limit: 5, Window: time.Minute}
	ops := []struct {
		name string
		call func(context.Context, *Limiter) error
	}{
		{"Check", func(ctx context.Context, l *Limiter) error {
			_, _, err := l.Check(ctx, rule, "erin@example.com")
			return err
		}},
		{"CheckAll", func(ctx context.Context, l *Limiter) error {
			_, _, err := l.CheckAll(ctx, Hit{rule, "erin@example.com"}, Hit{rule, "frank@example.com"})
			return err
		}},
		{"Add", func(ctx context.Context, l *Limiter) error {
			_, err := l.Add(ctx, Hit{rule, "erin@example.com"})
			return err
		}},
		{"Reset", func(ctx context.Context, l *Limiter) error {
			return l.Reset(ctx, rule, "erin@example.com")
		}},
	}
	outages := []struct {
		name string
		addr func(*testing.T) string
	}{
		{"stopped", func(t *testing.T) string {
			srv := redistest.Start(t)
			rdb := newClient(t, srv.Addr())
			if err := rdb.Ping(t.Context()).Err(); err != nil {
				t.Fatalf("PING: %v", err)
			}
			srv.Stop(t)
			return srv.Addr()
		}},
		{"silent", silentServer},
	}
	for _, o := range outages {
		for _, op := range ops {
			t.Run(o.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				l := New(newClient(t, o.addr(t)), timeout)
				start := time.Now()
				err := op.call(t.Context(), l)
				elapsed := time.Since(start)
				if !errors.Is(err, apperr.ErrUnavailable) {
					t.Errorf("err = %v, want ErrUnavailable", err)
				}
				if elapsed > bound {
					t.Errorf("took %v with a %v timeout", elapsed, timeout)
				}
			})
		}
	}
}

func TestConcurrentAddsCountEveryEvent(t *testing.T) {
	t.Parallel()
	l, rdb := newLimiter(t)
	rule := Rule{Name: "login-ip", Limit: 20, Window: time.Minute}
	const n = 50
	got := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var c []Count
			c, errs[i] = l.Add(t.Context(), Hit{rule, "203.0.113.5"})
			if errs[i] == nil {
				got[i] = c[0].N
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Add: %v", err)
	}
	slices.Sort(got)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("counts seen = %v, want 1..%d each once", got, n)
		}
	}
	if v, err := rdb.Get(t.Context(), counterKey(rule, "203.0.113.5")).Int(); err != nil || v != n {
		t.Errorf("stored count = %d, %v; want %d", v, err, n)
	}
}

func TestAttemptsReleasedTogetherAllowAtMostTheLimit(t *testing.T) {
	t.Parallel()
	l, rdb := newLimiter(t)
	email := Rule{Name: "t-email", Limit: 5, Window: time.Minute}
	ip := Rule{Name: "t-ip", Limit: 1000, Window: time.Minute}
	const n = 50
	var allowed, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			retry, limited, err := l.Attempt(context.Background(), Hit{Rule: email, Key: "a@x.test"}, Hit{Rule: ip, Key: "192.0.2.1"})
			switch {
			case err != nil:
				t.Errorf("Attempt: %v", err)
			case limited && retry <= 0:
				t.Errorf("limited with retryAfter %v", retry)
			case limited:
				refused.Add(1)
			default:
				allowed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if allowed.Load() != 5 || refused.Load() != n-5 {
		t.Errorf("allowed %d, refused %d; want 5 and %d", allowed.Load(), refused.Load(), n-5)
	}
	// Refused attempts count nowhere: the address counter holds only the
	// five allowed, though the email refused the rest.
	if got, err := rdb.Get(t.Context(), counterKey(ip, "192.0.2.1")).Int(); err != nil || got != 5 {
		t.Errorf("address counter = %d (%v), want 5", got, err)
	}
}

func TestAttemptAndRelease(t *testing.T) {
	t.Parallel()
	rule := Rule{Name: "t-rel", Limit: 2, Window: time.Minute}
	other := Rule{Name: "t-other", Limit: 1, Window: time.Minute}
	tests := []struct {
		name        string
		steps       []string // "attempt", "release", "attempt-both"
		wantLimited []bool   // per attempt step
		wantCount   int
	}{
		{"within the limit", []string{"attempt", "attempt"}, []bool{false, false}, 2},
		{"beyond the limit is not counted", []string{"attempt", "attempt", "attempt"}, []bool{false, false, true}, 2},
		{"a release gives an attempt back", []string{"attempt", "attempt", "release", "attempt"}, []bool{false, false, false}, 2},
		{"release never goes below zero", []string{"release", "release", "attempt"}, []bool{false}, 1},
		{"a refusal by another counter takes nothing", []string{"attempt-both", "attempt-both"}, []bool{false, true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, rdb := newLimiter(t)
			hit, hit2 := Hit{Rule: rule, Key: "k"}, Hit{Rule: other, Key: "k"}
			var got []bool
			for _, step := range tt.steps {
				var err error
				var limited bool
				switch step {
				case "attempt":
					_, limited, err = l.Attempt(t.Context(), hit)
					got = append(got, limited)
				case "attempt-both":
					_, limited, err = l.Attempt(t.Context(), hit, hit2)
					got = append(got, limited)
				case "release":
					err = l.Release(t.Context(), hit)
				}
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			if !slices.Equal(got, tt.wantLimited) {
				t.Errorf("limited = %v, want %v", got, tt.wantLimited)
			}
			n, _ := rdb.Get(t.Context(), counterKey(rule, "k")).Int()
			if n != tt.wantCount {
				t.Errorf("count = %d, want %d", n, tt.wantCount)
			}
		})
	}
}
