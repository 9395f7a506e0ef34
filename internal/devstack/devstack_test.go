//go:build !noembedded

package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func startRedis(t *testing.T) (*Redis, *redis.Client) {
	t.Helper()
	r, err := StartRedis()
	if err != nil {
		t.Fatalf("StartRedis: %v", err)
	}
	t.Cleanup(r.Close)
	opts, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatalf("parse %q: %v", r.URL(), err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return r, client
}

func TestRedisAddrAndURLAgree(t *testing.T) {
	t.Parallel()
	r, _ := startRedis(t)
	host, _, _ := strings.Cut(r.Addr(), ":")
	if host != "127.0.0.1" {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", r.Addr())
	}
	if want := "redis://" + r.Addr(); r.URL() != want {
		t.Errorf("URL() = %q, want %q", r.URL(), want)
	}
}

func TestRedisServesSetGetAndExpiresOnTheClock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, c := startRedis(t)

	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
	if ok, err := c.PExpire(ctx, "k", 200*time.Millisecond).Result(); err != nil || !ok {
		t.Fatalf("PEXPIRE = %v, %v", ok, err)
	}
	if ttl, err := c.PTTL(ctx, "k").Result(); err != nil || ttl <= 0 {
		t.Fatalf("PTTL = %v, %v; want > 0", ttl, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := c.Get(ctx, "k").Result()
		if errors.Is(err, redis.Nil) {
			break
		}
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("key still there 3s after a 200ms PEXPIRE")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRedisRunsLuaScripts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, c := startRedis(t)

	// The shape of a fixed-window rate limiter: count, and start the window
	// on the first hit.
	script := redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return n`)
	for want := int64(1); want <= 3; want++ {
		got, err := script.Run(ctx, c, []string{"hits"}, 60000).Int64()
		if err != nil || got != want {
			t.Fatalf("script run %d = %d, %v", want, got, err)
		}
	}
	if ttl, err := c.PTTL(ctx, "hits").Result(); err != nil || ttl <= 0 {
		t.Fatalf("PTTL after script = %v, %v; want > 0", ttl, err)
	}
	if got, err := c.Eval(ctx, `return ARGV[1]`, nil, "x").Text(); err != nil || got != "x" {
		t.Fatalf("EVAL = %q, %v", got, err)
	}
}

func TestRedisDeliversPublishedMessages(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, c := startRedis(t)

	sub := c.Subscribe(ctx, "events")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription confirmation
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	if n, err := c.Publish(ctx, "events", "hello").Result(); err != nil || n != 1 {
		t.Fatalf("PUBLISH = %d receivers, %v; want 1", n, err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if msg.Channel != "events" || msg.Payload != "hello" {
		t.Errorf("got %q on %q, want hello on events", msg.Payload, msg.Channel)
	}
}

func TestRedisCloseTwiceIsHarmless(t *testing.T) {
	t.Parallel()
	r, err := StartRedis()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Close()
}

// startMongo starts FerretDB on dir and a client for it; cleanups disconnect
// the client before stopping the server, so Close does not wait for it.
func startMongo(t *testing.T, dir string) (*Mongo, *mongo.Client) {
	t.Helper()
	m, err := StartMongo(t.Context(), dir, nil)
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	t.Cleanup(m.Close)
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatalf("connect %s: %v", m.URI(), err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return m, client
}

type user struct {
	ID    bson.ObjectID `bson:"_id,omitempty"`
	Email string        `bson:"email"`
	Name  string        `bson:"name"`
}

func TestMongoRejectsDuplicateEmailAndFindsUsers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, client := startMongo(t, t.TempDir())
	users := client.Database("app").Collection("users")

	if _, err := users.InsertOne(ctx, user{Email: "a@example.com", Name: "A"}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if _, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true),
	}); err != nil {
		t.Fatalf("create unique index: %v", err)
	}
	_, err := users.InsertOne(ctx, user{Email: "a@example.com", Name: "again"})
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("second insert of the same email: err = %v, want a duplicate-key error", err)
	}

	var got user
	if err := users.FindOne(ctx, bson.D{{Key: "email", Value: "a@example.com"}}).Decode(&got); err != nil {
		t.Fatalf("find: %v", err)
	}
	if got.Name != "A" || got.ID.IsZero() {
		t.Errorf("found %+v, want the first user with an _id", got)
	}
	err = users.FindOne(ctx, bson.D{{Key: "email", Value: "nobody@example.com"}}).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("find missing user: err = %v, want mongo.ErrNoDocuments", err)
	}
}

func TestMongoKeepsDataAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data", "mongo") // missing: StartMongo creates it

	m, client := startMongo(t, dir)
	users := client.Database("app").Collection("users")
	if _, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true),
	}); err != nil {
		t.Fatalf("create unique index: %v", err)
	}
	if _, err := users.InsertOne(ctx, user{Email: "kept@example.com", Name: "Kept"}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	if err := client.Disconnect(ctx); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	m.Close()

	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("data folder: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data folder mode = %o, want 700", perm)
	}

	_, client = startMongo(t, dir)
	users = client.Database("app").Collection("users")
	var got user
	if err := users.FindOne(ctx, bson.D{{Key: "email", Value: "kept@example.com"}}).Decode(&got); err != nil {
		t.Fatalf("find after restart: %v", err)
	}
	if got.Name != "Kept" {
		t.Errorf("after restart found %+v, want Kept", got)
	}
	_, err = users.InsertOne(ctx, user{Email: "kept@example.com"})
	if !mongo.IsDuplicateKeyError(err) {
		t.Errorf("unique index after restart: err = %v, want a duplicate-key error", err)
	}
}

func TestStartMongoRejectsUnusableFolders(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{
		"",
		filepath.Join(t.TempDir(), "a#b"),
		filepath.Join(t.TempDir(), "a?b"),
		filepath.Join(t.TempDir(), "a%20b"),
		file,                             // not a folder
		filepath.Join(file, "sub"),       // under a file
		"/proc/sessiongql-devstack-test", // a folder nobody may create
	} {
		m, err := StartMongo(t.Context(), dir, nil)
		if err == nil {
			m.Close()
			t.Errorf("StartMongo(%q) succeeded", dir)
			continue
		}
		if !errors.Is(err, ErrUnusableDir) {
			t.Errorf("StartMongo(%q): %v, want an error wrapping ErrUnusableDir", dir, err)
		}
	}
}

func TestStartMongoAtListensOnTheGivenAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	m, err := StartMongoAt(t.Context(), addr, t.TempDir(), nil)
	if err != nil {
		t.Fatalf("StartMongoAt(%s): %v", addr, err)
	}
	t.Cleanup(m.Close)
	if want := "mongodb://" + addr + "/"; m.URI() != want {
		t.Errorf("URI() = %q, want %q", m.URI(), want)
	}
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr + "/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	if err := client.Ping(t.Context(), nil); err != nil {
		t.Fatalf("ping %s: %v", addr, err)
	}

	// The address is taken now: a second server cannot start there.
	if m2, err := StartMongoAt(t.Context(), addr, t.TempDir(), nil); err == nil {
		m2.Close()
		t.Errorf("a second StartMongoAt(%s) succeeded", addr)
	}
}

func TestStartMongoPassesOnlyWarningsToTheLogger(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rec := &recordingHandler{}
	m, err := StartMongo(ctx, t.TempDir(), slog.New(rec))
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	defer m.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()

	db := client.Database("app")
	if err := db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	// FerretDB logs failed commands at Warn.
	_ = db.RunCommand(ctx, bson.D{{Key: "noSuchCommand", Value: 1}}).Err()

	levels := rec.levels()
	if len(levels) == 0 {
		t.Error("no records reached the logger; want the failed command's warning")
	}
	for _, l := range levels {
		if l < slog.LevelWarn {
			t.Errorf("a %v record reached the logger", l)
		}
	}
}

// recordingHandler notes the level of every record, at every level.
type recordingHandler struct {
	mu   sync.Mutex
	seen []slog.Level
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, r.Level)
	return nil
}

func (h *recordingHandler) levels() []slog.Level {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Level(nil), h.seen...)
}

// seedScores fills a fresh collection with six documents in two groups.
func seedScores(t *testing.T, client *mongo.Client) *mongo.Collection {
	t.Helper()
	c := client.Database("app").Collection("scores_" + bson.NewObjectID().Hex())
	docs := []any{
		bson.D{{Key: "email", Value: "a@x"}, {Key: "team", Value: "red"}, {Key: "n", Value: 1}},
		bson.D{{Key: "email", Value: "b@x"}, {Key: "team", Value: "red"}, {Key: "n", Value: 2}},
		bson.D{{Key: "email", Value: "c@x"}, {Key: "team", Value: "red"}, {Key: "n", Value: 3}},
		bson.D{{Key: "email", Value: "d@x"}, {Key: "team", Value: "blue"}, {Key: "n", Value: 4}},
		bson.D{{Key: "email", Value: "e@x"}, {Key: "team", Value: "blue"}, {Key: "n", Value: 5}},
		bson.D{{Key: "email", Value: "f@x"}, {Key: "team", Value: "green"}, {Key: "n", Value: 6}},
	}
	res, err := c.InsertMany(t.Context(), docs)
	if err != nil {
		t.Fatalf("insertMany: %v", err)
	}
	if len(res.InsertedIDs) != len(docs) {
		t.Fatalf("insertMany inserted %d, want %d", len(res.InsertedIDs), len(docs))
	}
	return c
}

// TestMongoSupportsStoreOperations checks the operations a store package is
// likely to use, each on its own collection.
func TestMongoSupportsStoreOperations(t *testing.T) {
	t.Parallel()
	_, client := startMongo(t, t.TempDir())

	tests := []struct {
		name string
		run  func(ctx context.Context, c *mongo.Collection) error
	}{
		{"insertMany", func(ctx context.Context, c *mongo.Collection) error {
			n, err := c.CountDocuments(ctx, bson.D{})
			if err == nil && n != 6 {
				err = fmt.Errorf("%d documents, want 6", n)
			}
			return err
		}},
		{"unique index", func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
				Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true),
			})
			return err
		}},
		{"compound unique index", func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
				Keys:    bson.D{{Key: "team", Value: 1}, {Key: "email", Value: 1}},
				Options: options.Index().SetUnique(true),
			})
			return err
		}},
		{"compound index with descending key", func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
				Keys: bson.D{{Key: "team", Value: 1}, {Key: "n", Value: -1}},
			})
			return err
		}},
		{"sparse unique index", func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
				Keys: bson.D{{Key: "nick", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true),
			})
			return err
		}},
		{"find with sort, skip, limit and projection", func(ctx context.Context, c *mongo.Collection) error {
			cur, err := c.Find(ctx, bson.D{{Key: "team", Value: "red"}}, options.Find().
				SetSort(bson.D{{Key: "n", Value: -1}}).SetSkip(1).SetLimit(1).
				SetProjection(bson.D{{Key: "email", Value: 1}}))
			if err != nil {
				return err
			}
			var got []bson.M
			if err := cur.All(ctx, &got); err != nil {
				return err
			}
			if len(got) != 1 || got[0]["email"] != "b@x" || got[0]["n"] != nil {
				return fmt.Errorf("got %v, want just b@x's email and _id", got)
			}
			return nil
		}},
		{"find with $in, $gt and $or", func(ctx context.Context, c *mongo.Collection) error {
			cur, err := c.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
				bson.D{{Key: "team", Value: bson.D{{Key: "$in", Value: bson.A{"green"}}}}},
				bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 4}}}},
			}}})
			if err != nil {
				return err
			}
			var got []bson.M
			if err := cur.All(ctx, &got); err != nil {
				return err
			}
			if len(got) != 2 {
				return fmt.Errorf("got %d documents, want 2", len(got))
			}
			return nil
		}},
		{"countDocuments with filter", func(ctx context.Context, c *mongo.Collection) error {
			n, err := c.CountDocuments(ctx, bson.D{{Key: "team", Value: "red"}})
			if err == nil && n != 3 {
				err = fmt.Errorf("count = %d, want 3", n)
			}
			return err
		}},
		{"aggregate $match, $group count per key, $sort", func(ctx context.Context, c *mongo.Collection) error {
			cur, err := c.Aggregate(ctx, mongo.Pipeline{
				{{Key: "$match", Value: bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 2}}}}}},
				{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$team"}, {Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
				{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
			})
			if err != nil {
				return err
			}
			var got []struct {
				Team  string `bson:"_id"`
				Count int    `bson:"count"`
			}
			if err := cur.All(ctx, &got); err != nil {
				return err
			}
			if s := fmt.Sprint(got); s != "[{blue 2} {green 1} {red 2}]" {
				return fmt.Errorf("got %s", s)
			}
			return nil
		}},
		{"updateOne with $set and $inc", func(ctx context.Context, c *mongo.Collection) error {
			res, err := c.UpdateOne(ctx, bson.D{{Key: "email", Value: "a@x"}}, bson.D{
				{Key: "$set", Value: bson.D{{Key: "team", Value: "blue"}}},
				{Key: "$inc", Value: bson.D{{Key: "n", Value: 10}}},
			})
			if err != nil {
				return err
			}
			if res.MatchedCount != 1 || res.ModifiedCount != 1 {
				return fmt.Errorf("matched %d, modified %d", res.MatchedCount, res.ModifiedCount)
			}
			var got struct {
				Team string `bson:"team"`
				N    int    `bson:"n"`
			}
			if err := c.FindOne(ctx, bson.D{{Key: "email", Value: "a@x"}}).Decode(&got); err != nil {
				return err
			}
			if got.Team != "blue" || got.N != 11 {
				return fmt.Errorf("after update got %+v", got)
			}
			return nil
		}},
		{"updateOne upsert with $setOnInsert", func(ctx context.Context, c *mongo.Collection) error {
			res, err := c.UpdateOne(ctx, bson.D{{Key: "email", Value: "new@x"}}, bson.D{
				{Key: "$set", Value: bson.D{{Key: "n", Value: 7}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "team", Value: "new"}}},
			}, options.UpdateOne().SetUpsert(true))
			if err == nil && res.UpsertedID == nil {
				err = errors.New("no upserted id")
			}
			return err
		}},
		{"findOneAndUpdate returning the new document", func(ctx context.Context, c *mongo.Collection) error {
			var got struct {
				N int `bson:"n"`
			}
			err := c.FindOneAndUpdate(ctx, bson.D{{Key: "email", Value: "f@x"}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
				options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&got)
			if err == nil && got.N != 7 {
				err = fmt.Errorf("n = %d, want 7", got.N)
			}
			return err
		}},
		{"deleteMany", func(ctx context.Context, c *mongo.Collection) error {
			res, err := c.DeleteMany(ctx, bson.D{{Key: "team", Value: "red"}})
			if err == nil && res.DeletedCount != 3 {
				err = fmt.Errorf("deleted %d, want 3", res.DeletedCount)
			}
			return err
		}},
		{"insertMany unordered reports duplicates and inserts the rest", func(ctx context.Context, c *mongo.Collection) error {
			if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
				Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true),
			}); err != nil {
				return err
			}
			_, err := c.InsertMany(ctx, []any{
				bson.D{{Key: "email", Value: "a@x"}},
				bson.D{{Key: "email", Value: "z@x"}},
			}, options.InsertMany().SetOrdered(false))
			if !mongo.IsDuplicateKeyError(err) {
				return fmt.Errorf("err = %v, want a duplicate-key error", err)
			}
			n, err := c.CountDocuments(ctx, bson.D{{Key: "email", Value: "z@x"}})
			if err == nil && n != 1 {
				err = fmt.Errorf("z@x inserted %d times, want 1", n)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := seedScores(t, client)
			if err := tt.run(t.Context(), c); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMongoLimitations pins down what FerretDB v1 on SQLite does not do that
// MongoDB does, so code meant for both avoids it. If one of these starts
// working after an upgrade, update the list in the StartMongo comment.
func TestMongoLimitations(t *testing.T) {
	t.Parallel()
	_, client := startMongo(t, t.TempDir())

	group := func(accumulator string) func(context.Context, *mongo.Collection) error {
		return func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$group", Value: bson.D{
				{Key: "_id", Value: "$team"}, {Key: "v", Value: bson.D{{Key: accumulator, Value: "$n"}}},
			}}}})
			return err
		}
	}
	index := func(opts *options.IndexOptionsBuilder) func(context.Context, *mongo.Collection) error {
		return func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "n", Value: 1}}, Options: opts})
			return err
		}
	}
	stage := func(s bson.D) func(context.Context, *mongo.Collection) error {
		return func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{s})
			return err
		}
	}

	tests := []struct {
		name string
		run  func(ctx context.Context, c *mongo.Collection) error
	}{
		{"transactions", func(ctx context.Context, c *mongo.Collection) error {
			sess, err := client.StartSession()
			if err != nil {
				return err
			}
			defer sess.EndSession(ctx)
			_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
				return c.InsertOne(ctx, bson.D{{Key: "email", Value: "tx@x"}})
			})
			return err
		}},
		{"TTL index", index(options.Index().SetExpireAfterSeconds(60))},
		{"partial index", index(options.Index().SetPartialFilterExpression(bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 1}}}}))},
		{"collation index", index(options.Index().SetCollation(&options.Collation{Locale: "en", Strength: 2}))},
		{"find with collation", func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetCollation(&options.Collation{Locale: "en", Strength: 2}))
			return err
		}},
		{"find with $expr", func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.Find(ctx, bson.D{{Key: "$expr", Value: bson.D{{Key: "$gt", Value: bson.A{"$n", 2}}}}})
			return err
		}},
		{"$lookup", stage(bson.D{{Key: "$lookup", Value: bson.D{
			{Key: "from", Value: "other"}, {Key: "localField", Value: "email"},
			{Key: "foreignField", Value: "email"}, {Key: "as", Value: "o"},
		}}})},
		{"$facet", stage(bson.D{{Key: "$facet", Value: bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "$count", Value: "c"}}}}}}})},
		{"$sortByCount", stage(bson.D{{Key: "$sortByCount", Value: "$team"}})},
		{"$group $max", group("$max")},
		{"$group $min", group("$min")},
		{"$group $avg", group("$avg")},
		{"$group $first", group("$first")},
		{"$group $push", group("$push")},
		{"update with a pipeline", func(ctx context.Context, c *mongo.Collection) error {
			_, err := c.UpdateOne(ctx, bson.D{{Key: "email", Value: "a@x"}},
				mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "z", Value: 1}}}}})
			return err
		}},
		{"change streams", func(ctx context.Context, c *mongo.Collection) error {
			cs, err := c.Watch(ctx, mongo.Pipeline{})
			if err == nil {
				_ = cs.Close(ctx)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := seedScores(t, client)
			if err := tt.run(t.Context(), c); err == nil {
				t.Errorf("%s works now: update the StartMongo comment and this list", tt.name)
			}
		})
	}

	// An insert breaking a unique index is a duplicate-key error; an update
	// breaking it is an InternalError that mongo.IsDuplicateKeyError misses.
	t.Run("update breaking a unique index", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		c := seedScores(t, client)
		if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true),
		}); err != nil {
			t.Fatal(err)
		}
		_, err := c.UpdateOne(ctx, bson.D{{Key: "email", Value: "b@x"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "a@x"}}}})
		switch {
		case err == nil:
			t.Fatal("update to a taken email succeeded")
		case mongo.IsDuplicateKeyError(err):
			t.Error("update to a taken email is a duplicate-key error now: update the StartMongo comment")
		}
	})
}

func TestStartMongoInParallel(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		dir := t.TempDir()
		wg.Go(func() {
			m, err := StartMongo(t.Context(), dir, nil)
			if err != nil {
				errs <- err
				return
			}
			m.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
