package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/config"
	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/metrics"
)

// stores are the server's connections, and the in-process servers behind
// them when the configuration names none.
type stores struct {
	redis   redis.UniversalClient
	mongo   *mongo.Client
	metrics *metrics.Metrics
	closer  []func()
}

// Close disconnects the clients, then stops any in-process servers.
func (s *stores) Close() {
	for i := len(s.closer) - 1; i >= 0; i-- {
		s.closer[i]()
	}
}

// openStores connects to Redis and MongoDB, starting in-process servers
// for whichever is not configured. Either way the same go-redis client and
// MongoDB driver talk to them. embeddedLog receives the in-process MongoDB's
// own messages (FerretDB logs every unsupported command at warning level).
func openStores(ctx context.Context, cfg config.Config, logger, embeddedLog *slog.Logger) (st *stores, err error) {
	st = &stores{metrics: metrics.New()}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()

	redisURL := cfg.RedisURL
	if redisURL == "" {
		r, err := devstack.StartRedis()
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL is unset and the in-process Redis did not start: %w", err)
		}
		st.closer = append(st.closer, r.Close)
		redisURL = r.URL()
		logger.Info("redis: in-process (miniredis), sessions are lost on restart; set REDIS_URL to use a real server", "addr", r.Addr())
	} else {
		logger.Info("redis: external", "nodes", redisNodeCount(redisURL))
	}
	rdb, err := newRedisClient(redisURL, cfg)
	if err != nil {
		return nil, err
	}
	rdb.AddHook(st.metrics.RedisHook())
	st.redis = rdb
	st.closer = append(st.closer, func() { _ = rdb.Close() })

	mongoURI := cfg.MongoURI
	if mongoURI == "" {
		m, err := devstack.StartMongo(ctx, cfg.DataDir, embeddedLog)
		if err != nil {
			return nil, fmt.Errorf("MONGODB_URI is unset and the in-process MongoDB (FerretDB) did not start: %w", err)
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
		SetMonitor(st.metrics.MongoMonitor()))
	if err != nil {
		return nil, fmt.Errorf("MONGODB_URI: %w", err)
	}
	st.mongo = client
	st.closer = append(st.closer, func() { _ = client.Disconnect(context.Background()) })
	return st, nil
}

// newRedisClient parses REDIS_URL: one redis:// or rediss:// URL, or a
// cluster as comma-separated nodes (each redis://host:port or host:port).
func newRedisClient(raw string, cfg config.Config) (redis.UniversalClient, error) {
	parts := strings.Split(raw, ",")
	if len(parts) == 1 {
		opt, err := redis.ParseURL(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = cfg.StoreTimeout, cfg.StoreTimeout, cfg.StoreTimeout
		opt.ContextTimeoutEnabled = true
		opt.MaxRetries = 1
		return redis.NewClient(opt), nil
	}
	var addrs []string
	var first *redis.Options
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "://") {
			p = "redis://" + p
		}
		opt, err := redis.ParseURL(p)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: cluster node %q: %w", p, err)
		}
		if first == nil {
			first = opt
		}
		addrs = append(addrs, opt.Addr)
	}
	if len(addrs) == 0 {
		return nil, errors.New("REDIS_URL: no nodes")
	}
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
