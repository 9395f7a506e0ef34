package securitylog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultSweepEvery is how often a Sweeper tries to sweep when NewSweeper
// is given 0.
const DefaultSweepEvery = 10 * time.Minute

// sweepLockKey is the Redis key an instance sets to sweep for a period.
const sweepLockKey = "securitylog-sweep"

// redisTimeout bounds the Redis call that takes the period's lock.
const redisTimeout = 2 * time.Second

// Expirer is what a Sweeper needs of the security log;
// *store.SecurityEvents has it.
type Expirer interface {
	// NeedsSweep reports whether old events must be deleted by Sweep:
	// the database has no TTL index for them.
	NeedsSweep() bool
	// Sweep deletes the events that happened before before and says how
	// many.
	Sweep(ctx context.Context, before time.Time) (int64, error)
}

// Sweeper deletes security events older than the retention where the
// database does not expire them itself (FerretDB v1). Every instance may
// run one: at each period's start an instance takes a Redis lock that
// lasts the period, and only the instance holding it sweeps, so the
// database is swept once per period, whichever instances are up.
type Sweeper struct {
	events    Expirer
	rdb       redis.UniversalClient
	retention time.Duration
	every     time.Duration
	log       *slog.Logger
	now       func() time.Time
}

// NewSweeper returns a Sweeper of events older than retention, trying
// every every (DefaultSweepEvery if 0; at least a millisecond); Run
// starts it. Removals are logged to logger at debug, failures at warn; a
// nil logger discards them.
func NewSweeper(events Expirer, rdb redis.UniversalClient, retention, every time.Duration, logger *slog.Logger) *Sweeper {
	if events == nil || rdb == nil {
		panic("securitylog: NewSweeper without a store or Redis")
	}
	if every == 0 {
		every = DefaultSweepEvery
	}
	if every < time.Millisecond || retention <= 0 {
		panic(fmt.Sprintf("securitylog: NewSweeper every %v, retention %v: want positive", every, retention))
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{events: events, rdb: rdb, retention: retention, every: every, log: logger, now: time.Now}
}

// Run sweeps at once and then every period until ctx ends, whenever the
// store NeedsSweep (asked each time: it is learned once the database has
// answered). Where it does not, Run only waits.
func (s *Sweeper) Run(ctx context.Context) {
	ticker := time.NewTicker(s.every)
	defer ticker.Stop()
	for {
		if s.events.NeedsSweep() {
			s.sweep(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// sweep deletes old events if this instance is the first of the period.
func (s *Sweeper) sweep(ctx context.Context) {
	lockCtx, cancel := context.WithTimeout(ctx, redisTimeout)
	got, err := s.rdb.SetNX(lockCtx, sweepLockKey, "1", s.every).Result()
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "security log not swept: lock not taken", "err", err)
		}
		return
	}
	if !got {
		return // another instance sweeps this period
	}
	n, err := s.events.Sweep(ctx, s.now().Add(-s.retention))
	if err != nil {
		if ctx.Err() == nil {
			s.log.WarnContext(ctx, "security log not swept", "err", err)
		}
		return
	}
	s.log.DebugContext(ctx, "security log swept", "removed", n)
}
