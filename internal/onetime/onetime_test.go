package onetime

import (
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/redistest"
)

var (
	reset  = Purpose{Name: "reset", SubjectLen: 16}
	verify = Purpose{Name: "verify", SubjectLen: 12}
)

func newTokens(t *testing.T) (*Tokens, *redis.Client, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return New(rdb, 2*time.Second), rdb, srv
}

func subject(n int, b byte) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}

func TestTokenWorksOnceForItsPurpose(t *testing.T) {
	tokens, rdb, _ := newTokens(t)
	ctx := t.Context()
	sub := subject(16, 7)
	tok, err := tokens.Issue(ctx, reset, sub, "user-1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(tok); len(raw)-16 < 16 {
		t.Fatalf("token carries %d random bytes, want at least 16 (128 bits)", len(raw)-16)
	}
	// Redis holds only a digest of it.
	keys, _ := rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		vals, _ := rdb.HGetAll(ctx, k).Result()
		for _, v := range vals {
			if v == tok {
				t.Fatalf("the token itself is stored under %s", k)
			}
		}
		if ttl, _ := rdb.PTTL(ctx, k).Result(); ttl <= 0 {
			t.Fatalf("%s has no TTL", k)
		}
	}
	if _, err := tokens.Spend(ctx, verify, tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("spent for another purpose: %v", err)
	}
	got, err := tokens.Peek(ctx, reset, tok)
	if err != nil || got.Payload != "user-1" || string(got.Subject) != string(sub) {
		t.Fatalf("Peek = %+v, %v", got, err)
	}
	spent, err := tokens.Spend(ctx, reset, tok)
	if err != nil || spent.Payload != "user-1" {
		t.Fatalf("Spend = %+v, %v", spent, err)
	}
	for _, use := range []func() error{
		func() error { _, err := tokens.Spend(ctx, reset, tok); return err },
		func() error { _, err := tokens.Peek(ctx, reset, tok); return err },
	} {
		if err := use(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("a used token: %v, want ErrInvalid", err)
		}
	}
}

func TestMalformedTokensAreInvalid(t *testing.T) {
	tokens, _, _ := newTokens(t)
	good, err := tokens.Issue(t.Context(), reset, subject(16, 1), "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "x", good[:len(good)-1], good + "A", good[:10] + "+" + good[11:], "ot:{reset:01}", good + "\n"} {
		if _, err := tokens.Spend(t.Context(), reset, tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("Spend(%q) = %v, want ErrInvalid", tok, err)
		}
	}
}

func TestNewerTokenEndsTheOlderAndExpiryEndsBoth(t *testing.T) {
	tokens, _, _ := newTokens(t)
	ctx := t.Context()
	sub := subject(12, 3)
	first, _ := tokens.Issue(ctx, verify, sub, "a@example.com", time.Minute)
	second, _ := tokens.Issue(ctx, verify, sub, "a@example.com", 300*time.Millisecond)
	if _, err := tokens.Spend(ctx, verify, first); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the older token after a newer one: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := tokens.Spend(ctx, verify, second); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an expired token: %v", err)
	}
}

func TestOneOfManyConcurrentSpendsSucceeds(t *testing.T) {
	tokens, _, _ := newTokens(t)
	tok, _ := tokens.Issue(t.Context(), reset, subject(16, 9), "p", time.Minute)
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, invalid := 0, 0
	gun := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-gun
			_, err := tokens.Spend(t.Context(), reset, tok)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrInvalid):
				invalid++
			}
		})
	}
	close(gun)
	wg.Wait()
	if wins != 1 || invalid != n-1 {
		t.Fatalf("%d spends succeeded and %d were invalid, want 1 and %d", wins, invalid, n-1)
	}
}

func TestOnlyTheNewestReservationIssues(t *testing.T) {
	tokens, _, _ := newTokens(t)
	ctx := t.Context()
	sub := subject(16, 5)
	live, _ := tokens.Issue(ctx, reset, sub, "u", time.Minute)
	if err := tokens.Reserve(ctx, reset, sub, "request-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Spend(ctx, reset, live); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a token from before a reservation: %v, want ErrInvalid", err)
	}
	if err := tokens.Reserve(ctx, reset, sub, "request-2", time.Hour); err != nil {
		t.Fatal(err)
	}
	// The newer request's mail is sent last or first: either way only its
	// link works.
	if _, err := tokens.IssueReserved(ctx, reset, sub, "request-1", "u", time.Minute); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("the older request issued: %v, want ErrSuperseded", err)
	}
	first, err := tokens.IssueReserved(ctx, reset, sub, "request-2", "u", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tokens.IssueReserved(ctx, reset, sub, "request-2", "u", time.Minute) // the same mail sent again
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Spend(ctx, reset, first); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the first of two tokens of one request: %v", err)
	}
	if _, err := tokens.Spend(ctx, reset, again); err != nil {
		t.Fatalf("the newest token: %v", err)
	}
}

func TestRestorePutsBackOnlyWhenNothingNewer(t *testing.T) {
	tokens, _, _ := newTokens(t)
	ctx := t.Context()
	sub := subject(12, 4)
	tok, _ := tokens.Issue(ctx, verify, sub, "p", time.Minute)
	spent, err := tokens.Spend(ctx, verify, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := tokens.Restore(ctx, spent); err != nil {
		t.Fatal(err)
	}
	spent, err = tokens.Spend(ctx, verify, tok)
	if err != nil {
		t.Fatalf("a restored token: %v", err)
	}
	newer, _ := tokens.Issue(ctx, verify, sub, "p", time.Minute)
	if err := tokens.Restore(ctx, spent); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Spend(ctx, verify, tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Restore over a newer token brought the old one back: %v", err)
	}
	if _, err := tokens.Spend(ctx, verify, newer); err != nil {
		t.Fatalf("the newer token after a Restore: %v", err)
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	tokens, _, srv := newTokens(t)
	tok, _ := tokens.Issue(t.Context(), reset, subject(16, 2), "p", time.Minute)
	srv.Stop(t)
	if _, err := tokens.Spend(t.Context(), reset, tok); !errors.Is(err, apperr.ErrUnavailable) {
		t.Fatalf("Spend with Redis stopped: %v, want ErrUnavailable", err)
	}
	if _, err := tokens.Issue(t.Context(), reset, subject(16, 2), "p", time.Minute); !errors.Is(err, apperr.ErrUnavailable) {
		t.Fatalf("Issue with Redis stopped: %v, want ErrUnavailable", err)
	}
}
