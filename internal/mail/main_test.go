package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/devstack"
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

// mongoURI returns the shared FerretDB's URI, skipping t in a build
// without the embedded stores.
func mongoURI(t *testing.T) string {
	t.Helper()
	sharedMongo.once.Do(func() {
		sharedMongo.dir, sharedMongo.err = os.MkdirTemp("", "mail-test-mongo-")
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
	return sharedMongo.m.URI()
}

// newOutbox returns an outbox in a fresh database at uri.
func newOutbox(t *testing.T, uri string) *store.Outbox {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetHeartbeatInterval(500 * time.Millisecond).
		SetServerSelectionTimeout(2 * time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := client.Database("mail_" + bson.NewObjectID().Hex())
	outbox, err := store.NewOutbox(t.Context(), db, 2*time.Second)
	if err != nil {
		t.Fatalf("NewOutbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return outbox
}

// newRedisClient returns a client for addr that, like the server's, lets
// the context deadline bound every socket wait.
func newRedisClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// counters is a Counters that remembers every call.
type counters struct {
	mu                    sync.Mutex
	sent, retried, gaveUp map[string]int
}

func newCounters() *counters {
	return &counters{sent: map[string]int{}, retried: map[string]int{}, gaveUp: map[string]int{}}
}

func (c *counters) MailSent(kind string)    { c.add(c.sent, kind) }
func (c *counters) MailRetried(kind string) { c.add(c.retried, kind) }
func (c *counters) MailGaveUp(kind string)  { c.add(c.gaveUp, kind) }

func (c *counters) add(m map[string]int, kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m[kind]++
}

// get returns the counts of kind: sent, retried, given up.
func (c *counters) get(kind string) (sent, retried, gaveUp int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent[kind], c.retried[kind], c.gaveUp[kind]
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

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the logged records whose msg contains msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if s, _ := rec["msg"].(string); strings.Contains(s, msg) {
			out = append(out, rec)
		}
	}
	return out
}

// eventually polls cond every 20ms until it holds, failing t after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s-%s@example.com", prefix, bson.NewObjectID().Hex())
}
