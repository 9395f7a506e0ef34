package securitylog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/redistest"
	"github.com/sessiongql/server/internal/store"
)

// sharedMongo is the in-process FerretDB the tests of this package share,
// started by the first test that needs one; each test gets a database of
// its own.
var sharedMongo struct {
	once sync.Once
	dir  string
	m    *devstack.Mongo
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedMongo.m != nil {
		sharedMongo.m.Close()
	}
	if sharedMongo.dir != "" {
		_ = os.RemoveAll(sharedMongo.dir)
	}
	os.Exit(code)
}

// newClient connects to the shared FerretDB, skipping t in a build without
// the embedded stores; the client is disconnected at cleanup.
func newClient(t *testing.T) *mongo.Client {
	t.Helper()
	sharedMongo.once.Do(func() {
		sharedMongo.dir, sharedMongo.err = os.MkdirTemp("", "securitylog-test-mongo-")
		if sharedMongo.err == nil {
			sharedMongo.m, sharedMongo.err = devstack.StartMongo(context.Background(), sharedMongo.dir, nil)
		}
	})
	if errors.Is(sharedMongo.err, devstack.ErrNotBuiltIn) {
		t.Skip("FerretDB is left out of this build")
	}
	if sharedMongo.err != nil {
		t.Fatalf("start FerretDB: %v", sharedMongo.err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(sharedMongo.m.URI()).
		SetServerSelectionTimeout(2 * time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// newEvents returns the security events of a fresh database on client.
func newEvents(t *testing.T, client *mongo.Client) *store.SecurityEvents {
	t.Helper()
	events, err := store.NewSecurityEvents(t.Context(), client.Database("securitylog_"+bson.NewObjectID().Hex()), 5*time.Second, time.Hour)
	if err != nil {
		t.Fatalf("NewSecurityEvents: %v", err)
	}
	return events
}

func newRedis(t *testing.T) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t).Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// logBuffer collects JSON log lines written by several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the logged records whose msg is msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	text := b.buf.String()
	b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(text) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

type counter struct{ n atomic.Int64 }

func (c *counter) Inc() { c.n.Add(1) }

func TestKindsAreDistinct(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range Kinds {
		if k == "" || seen[k] || strings.ToUpper(k) != k {
			t.Errorf("kind %q: empty, repeated or not an enum value", k)
		}
		seen[k] = true
	}
	if len(Kinds) != 16 {
		t.Errorf("%d kinds, want the contract's 16", len(Kinds))
	}
}

// The event is listed as soon as Record returns, even for a request whose
// context was cancelled (a client that hung up).
func TestRecordedEventIsListedWhenRecordReturns(t *testing.T) {
	t.Parallel()
	events := newEvents(t, newClient(t))
	failures := &counter{}
	r := NewRecorder(events, nil, failures)
	user := bson.NewObjectID().Hex()

	r.Record(t.Context(), store.SecurityEvent{UserID: user, Kind: SignInFailed, IP: "203.0.113.7", UserAgent: "curl/8.5.0"})
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	r.Record(cancelled, store.SecurityEvent{UserID: user, Kind: SignedIn})

	got, _, err := events.Page(t.Context(), user, 10, "")
	if err != nil {
		t.Fatalf("Page: %v", err)
	}
	var kinds []string
	for _, e := range got {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []string{SignedIn, SignInFailed}) || got[1].IP != "203.0.113.7" || got[1].UserAgent != "curl/8.5.0" {
		t.Errorf("listed %+v, want SIGNED_IN then SIGN_IN_FAILED with its request details", got)
	}
	if n := failures.n.Load(); n != 0 {
		t.Errorf("%d failures counted", n)
	}
}

func TestRecordFailureIsLoggedAndCountedNotReturned(t *testing.T) {
	t.Parallel()
	client := newClient(t)
	events := newEvents(t, client)
	if err := client.Disconnect(t.Context()); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	var logs logBuffer
	failures := &counter{}
	r := NewRecorder(events, logs.logger(), failures)
	user := bson.NewObjectID().Hex()

	start := time.Now()
	r.Record(t.Context(), store.SecurityEvent{UserID: user, Kind: SignedIn, IP: "203.0.113.7"})
	if d := time.Since(start); d > recordTimeout {
		t.Errorf("Record took %v on a closed store", d)
	}
	if n := failures.n.Load(); n != 1 {
		t.Errorf("%d failures counted, want 1", n)
	}
	recs := logs.records(t, "security event not recorded")
	if len(recs) != 1 {
		t.Fatalf("%d warn lines, want 1", len(recs))
	}
	if rec := recs[0]; rec["level"] != "WARN" || rec["kind"] != SignedIn || rec["user"] != user || rec["err"] == "" {
		t.Errorf("log line %v: want WARN with kind, user and err", rec)
	}

	// Without a counter or a logger it still goes on.
	NewRecorder(events, nil, nil).Record(t.Context(), store.SecurityEvent{UserID: user, Kind: SignedIn})
}

// blockingWriter holds every insert until its context ends.
type blockingWriter struct{ calls atomic.Int64 }

func (w *blockingWriter) Insert(ctx context.Context, _ store.SecurityEvent) (store.SecurityEvent, error) {
	w.calls.Add(1)
	<-ctx.Done()
	return store.SecurityEvent{}, ctx.Err()
}

func TestRecordGivesUpOnAStoreThatHangs(t *testing.T) {
	t.Parallel()
	failures := &counter{}
	r := NewRecorder(&blockingWriter{}, nil, failures)
	r.timeout = 50 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Record(t.Context(), store.SecurityEvent{UserID: bson.NewObjectID().Hex(), Kind: SignedIn})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record still waiting for a store that hangs")
	}
	if n := failures.n.Load(); n != 1 {
		t.Errorf("%d failures counted, want 1", n)
	}
}

// countingEvents counts the sweeps made through it and when they started.
type countingEvents struct {
	Expirer
	mu     sync.Mutex
	sweeps []time.Time
}

func (c *countingEvents) Sweep(ctx context.Context, before time.Time) (int64, error) {
	c.mu.Lock()
	c.sweeps = append(c.sweeps, time.Now())
	c.mu.Unlock()
	return c.Expirer.Sweep(ctx, before)
}

func (c *countingEvents) times() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sweeps)
}

// Two instances on one Redis sweep once per period between them.
func TestOneSweepPerPeriodAcrossInstances(t *testing.T) {
	t.Parallel()
	events := newEvents(t, newClient(t))
	if !events.NeedsSweep() {
		t.Fatal("NeedsSweep false on FerretDB")
	}
	rdb := newRedis(t)
	const every = 300 * time.Millisecond
	const runFor = 7 * every
	counted := &countingEvents{Expirer: events}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { NewSweeper(counted, rdb, time.Hour, every, nil).Run(ctx) })
	}
	time.Sleep(runFor)
	cancel()
	wg.Wait()

	sweeps := counted.times()
	// Each instance alone would sweep 8 times (once at start, then each
	// period); the lock lets one sweep per period through.
	if len(sweeps) < 3 || len(sweeps) > int(runFor/every)+1 {
		t.Errorf("%d sweeps in %v of %v periods, want one a period", len(sweeps), runFor, every)
	}
	for i := 1; i < len(sweeps); i++ {
		// A lock lasts a whole period; the slack is for scheduling
		// between taking the lock and calling Sweep.
		if gap := sweeps[i].Sub(sweeps[i-1]); gap < every/2 {
			t.Errorf("sweeps %d and %d %v apart, within one period of %v", i, i+1, gap, every)
		}
	}
}

func TestSweeperRemovesEventsOlderThanRetention(t *testing.T) {
	t.Parallel()
	events := newEvents(t, newClient(t))
	user := bson.NewObjectID().Hex()
	now := time.Now()
	for _, at := range []time.Duration{-3 * time.Hour, -61 * time.Minute} {
		if _, err := events.Insert(t.Context(), store.SecurityEvent{UserID: user, Kind: SignedIn, At: now.Add(at)}); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := events.Insert(t.Context(), store.SecurityEvent{UserID: user, Kind: SignedOut, At: now.Add(-59 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	sweeper := NewSweeper(events, newRedis(t), time.Hour, time.Hour, logs.logger())
	go func() {
		defer close(done)
		sweeper.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })

	deadline := time.Now().Add(10 * time.Second)
	for len(logs.records(t, "security log swept")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no sweep within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	left, _, err := events.Page(t.Context(), user, 10, "")
	if err != nil || len(left) != 1 || left[0].ID != kept.ID {
		t.Errorf("left %+v, %v; want only the event within the retention", left, err)
	}
	if rec := logs.records(t, "security log swept")[0]; rec["level"] != "DEBUG" || rec["removed"] != 2.0 {
		t.Errorf("log line %v: want DEBUG with removed 2", rec)
	}
}

// fakeExpirer answers NeedsSweep as told and fails every sweep.
type fakeExpirer struct {
	needs  atomic.Bool
	sweeps atomic.Int64
}

func (f *fakeExpirer) NeedsSweep() bool { return f.needs.Load() }

func (f *fakeExpirer) Sweep(context.Context, time.Time) (int64, error) {
	f.sweeps.Add(1)
	return 0, errors.New("sweep refused")
}

// Where the TTL index works the Sweeper leaves Redis and the store alone;
// once the store says it needs sweeping (learned later, when the database
// answers), it sweeps, and logs a failure at warn.
func TestSweeperSweepsOnlyWhenTheStoreNeedsIt(t *testing.T) {
	t.Parallel()
	rdb := newRedis(t)
	events := &fakeExpirer{}
	var logs logBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewSweeper(events, rdb, time.Hour, 20*time.Millisecond, logs.logger()).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })

	time.Sleep(100 * time.Millisecond)
	if n := events.sweeps.Load(); n != 0 {
		t.Errorf("%d sweeps of a store that needs none", n)
	}
	if n, err := rdb.Exists(t.Context(), sweepLockKey).Result(); err != nil || n != 0 {
		t.Errorf("lock exists: %d, %v", n, err)
	}

	events.needs.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for len(logs.records(t, "security log not swept")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no failed sweep logged within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rec := logs.records(t, "security log not swept")[0]; rec["level"] != "WARN" || !strings.Contains(rec["err"].(string), "sweep refused") {
		t.Errorf("log line %v: want WARN with the error", rec)
	}
}

func TestSweeperLogsWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	srv.Stop(t)
	events := &fakeExpirer{}
	events.needs.Store(true)
	var logs logBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewSweeper(events, rdb, time.Hour, time.Hour, logs.logger()).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })

	deadline := time.Now().Add(5 * time.Second)
	for len(logs.records(t, "security log not swept: lock not taken")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no Redis failure logged within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := events.sweeps.Load(); n != 0 {
		t.Errorf("%d sweeps without the lock", n)
	}
}
