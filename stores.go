package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.opentelemetry.io/otel/trace"

	"github.com/sessiongql/server/internal/config"
	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/metrics"
	"github.com/sessiongql/server/internal/store"
	"github.com/sessiongql/server/internal/tracing"
)

// stores are the server's connections and collections, and the in-process
// servers behind them when the configuration names none.
type stores struct {
	redis  redis.UniversalClient
	mongo  *mongoDB
	users  *store.Users
	decks  *store.Decks
	outbox *store.Outbox
	// security is the security log's collection.
	security *store.SecurityEvents
	passkeys *store.Passkeys
	metrics  *metrics.Metrics
	// tracer instruments the clients when tracing is on (internal/tracing).
	tracer trace.TracerProvider
	closer []func()
}

// mongoDB is the MongoDB client and the creation of the indexes the
// collections need.
type mongoDB struct {
	client  *mongo.Client
	indexes []*store.Indexes
}

// Ping reports whether MongoDB answers and the collections' indexes exist,
// which is what readiness means by MongoDB: until the unique email index
// exists, nothing refuses a second account for an email.
func (m *mongoDB) Ping(ctx context.Context, rp *readpref.ReadPref) error {
	if err := m.indexesReady(); err != nil {
		return err
	}
	return m.client.Ping(ctx, rp)
}

func (m *mongoDB) indexesReady() error {
	for _, ix := range m.indexes {
		if err := ix.Ready(); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the indexes' creation, disconnects the clients, then stops
// any in-process servers.
func (s *stores) Close() {
	for i := len(s.closer) - 1; i >= 0; i-- {
		s.closer[i]()
	}
}

// openStores connects to Redis and MongoDB, starting in-process servers
// for whichever is not configured. Either way the same go-redis client and
// MongoDB driver talk to them. embeddedLog receives the in-process MongoDB's
// own messages (FerretDB logs every unsupported command at warning level).
//
// A store that does not answer does not fail it: the clients connect when
// the store answers, and the collections' indexes are created then, until
// ctx ends or Close. Its errors are settings that cannot work, each named.
func openStores(ctx context.Context, cfg config.Config, logger, embeddedLog *slog.Logger, tp trace.TracerProvider) (*stores, error) {
	st := &stores{metrics: metrics.New(), tracer: tp}
	if err := st.open(ctx, cfg, logger, embeddedLog); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// open fills st, registering in st.closer how to undo each step, so that
// Close undoes whatever it got to.
func (st *stores) open(ctx context.Context, cfg config.Config, logger, embeddedLog *slog.Logger) error {
	redisURL := cfg.RedisURL
	if redisURL == "" {
		r, err := devstack.StartRedis()
		if errors.Is(err, devstack.ErrNotBuiltIn) {
			return errNotBuiltIn(cfg)
		}
		if err != nil {
			return fmt.Errorf("REDIS_URL is unset and the in-process Redis did not start: %w", err)
		}
		st.closer = append(st.closer, r.Close)
		redisURL = r.URL()
		logger.Info("redis: in-process (miniredis), sessions are lost on restart; set REDIS_URL to use a real server", "addr", r.Addr())
	} else {
		logger.Info("redis: external", "nodes", redisNodeCount(redisURL))
	}
	rdb, err := newRedisClient(redisURL, cfg)
	if err != nil {
		return err
	}
	rdb.AddHook(st.metrics.RedisHook())
	st.metrics.WatchRedisPool(rdb)
	if err := tracing.InstrumentRedis(st.tracer, rdb); err != nil {
		_ = rdb.Close()
		return err
	}
	st.redis = rdb
	st.closer = append(st.closer, func() { _ = rdb.Close() })

	// Whether Redis answers is only worth a warning, found out while
	// MongoDB's indexes are being created.
	var redisErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		pctx, cancel := context.WithTimeout(ctx, cfg.StoreTimeout)
		defer cancel()
		redisErr = rdb.Ping(pctx).Err()
	})
	err = st.openMongo(ctx, cfg, logger, embeddedLog)
	wg.Wait()
	if err != nil {
		return err
	}
	if redisErr != nil && ctx.Err() == nil {
		logger.Warn("redis: not answering; the server starts, /readyz reports it, and requests that need it fail until it answers", "err", redisErr)
	}
	return nil
}

// openMongo connects to MongoDB and opens the collections.
func (st *stores) openMongo(ctx context.Context, cfg config.Config, logger, embeddedLog *slog.Logger) error {
	mongoURI := cfg.MongoURI
	if mongoURI == "" {
		m, err := devstack.StartMongo(ctx, cfg.DataDir, embeddedLog)
		switch {
		case errors.Is(err, devstack.ErrNotBuiltIn):
			return errNotBuiltIn(cfg)
		case errors.Is(err, devstack.ErrUnusableDir):
			return fmt.Errorf("DATA_DIR=%q: the in-process MongoDB cannot keep its files there: %w", cfg.DataDir, err)
		case err != nil:
			return fmt.Errorf("MONGODB_URI is unset and the in-process MongoDB (FerretDB) did not start: %w", err)
		}
		st.closer = append(st.closer, m.Close)
		mongoURI = m.URI()
		logger.Info("mongodb: in-process (FerretDB on SQLite), users are kept across restarts; set MONGODB_URI to use a real server", "data_dir", cfg.DataDir)
	} else {
		logger.Info("mongodb: external")
	}
	client, err := mongo.Connect(options.Client().ApplyURI(mongoURI).
		SetTimeout(cfg.StoreTimeout).
		SetServerSelectionTimeout(cfg.StoreTimeout).
		SetConnectTimeout(cfg.StoreTimeout).
		SetMonitor(tracing.MongoMonitor(st.tracer, st.metrics.MongoMonitor())).
		SetPoolMonitor(st.metrics.MongoPoolMonitor()))
	if err != nil {
		return fmt.Errorf("MONGODB_URI: %w", err)
	}
	st.mongo = &mongoDB{client: client}
	st.closer = append(st.closer, func() { _ = client.Disconnect(context.Background()) })

	// Index creation that outlives the start stops at Close, before the
	// client it uses disconnects.
	bg, cancel := context.WithCancel(ctx)
	st.closer = append(st.closer, func() {
		cancel()
		for _, ix := range st.mongo.indexes {
			ix.Wait()
		}
	})
	db := client.Database(cfg.MongoDatabase)
	if st.users, err = store.NewUsers(bg, db, cfg.StoreTimeout); err != nil {
		return fmt.Errorf("users collection: %w", err)
	}
	st.mongo.indexes = append(st.mongo.indexes, st.users.Indexes())
	if st.decks, err = store.NewDecks(bg, db, cfg.StoreTimeout); err != nil {
		return fmt.Errorf("decks collections: %w", err)
	}
	st.mongo.indexes = append(st.mongo.indexes, st.decks.Indexes())
	if st.outbox, err = store.NewOutbox(bg, db, cfg.StoreTimeout); err != nil {
		return fmt.Errorf("outbox collection: %w", err)
	}
	st.mongo.indexes = append(st.mongo.indexes, st.outbox.Indexes())
	if st.security, err = store.NewSecurityEvents(bg, db, cfg.StoreTimeout, cfg.SecurityLogRetention); err != nil {
		return fmt.Errorf("security log collection: %w", err)
	}
	st.mongo.indexes = append(st.mongo.indexes, st.security.Indexes())
	if st.passkeys, err = store.NewPasskeys(bg, db, cfg.StoreTimeout); err != nil {
		return fmt.Errorf("passkeys collection: %w", err)
	}
	st.mongo.indexes = append(st.mongo.indexes, st.passkeys.Indexes())
	if err := st.mongo.indexesReady(); err != nil && ctx.Err() == nil {
		logger.Warn("mongodb: not answering; the server starts, /readyz reports it, and the indexes are created when it answers", "err", err)
	}
	return nil
}

// errNotBuiltIn names the store settings a build without in-process
// stores (-tags noembedded) needs.
func errNotBuiltIn(cfg config.Config) error {
	var unset []string
	if cfg.RedisURL == "" {
		unset = append(unset, "REDIS_URL")
	}
	if cfg.MongoURI == "" {
		unset = append(unset, "MONGODB_URI")
	}
	return fmt.Errorf("%s unset: this build (-tags noembedded) has no in-process stores", strings.Join(unset, " and "))
}

// newRedisClient connects to REDIS_URL (config.RedisNodes): a single
// server, or a cluster when it lists several nodes.
func newRedisClient(raw string, cfg config.Config) (redis.UniversalClient, error) {
	nodes, err := config.RedisNodes(raw)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if len(nodes) == 1 {
		opt := nodes[0]
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = cfg.StoreTimeout, cfg.StoreTimeout, cfg.StoreTimeout
		opt.ContextTimeoutEnabled = true
		opt.MaxRetries = 1
		return redis.NewClient(opt), nil
	}
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr
	}
	first := nodes[0]
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 addrs,
		Username:              first.Username,
		Password:              first.Password,
		TLSConfig:             first.TLSConfig,
		DialTimeout:           cfg.StoreTimeout,
		ReadTimeout:           cfg.StoreTimeout,
		WriteTimeout:          cfg.StoreTimeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            1,
		// go-redis refreshes its slot map on MOVED replies, or by default
		// once a minute; after a failover the dead master refuses
		// connections instead, so refresh often (redis/go-redis#3979).
		ClusterStateReloadInterval: time.Second,
	}), nil
}

func redisNodeCount(raw string) int { return len(strings.Split(raw, ",")) }
