package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/event"
)

type fakeRedisPool struct{ stats redis.PoolStats }

func (f *fakeRedisPool) PoolStats() *redis.PoolStats { s := f.stats; return &s }

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestRedisPoolStatsAreReadAtScrape(t *testing.T) {
	m := New()
	pool := &fakeRedisPool{}
	m.WatchRedisPool(pool)
	pool.stats = redis.PoolStats{Hits: 7, Misses: 2, Timeouts: 1, WaitCount: 3, WaitDurationNs: 1.5e9, TotalConns: 4, IdleConns: 1, StaleConns: 5}
	body := scrape(t, m)
	for _, want := range []string{
		`redis_pool_hits_total{pool="main"} 7`,
		`redis_pool_misses_total{pool="main"} 2`,
		`redis_pool_timeouts_total{pool="main"} 1`,
		`redis_pool_waits_total{pool="main"} 3`,
		`redis_pool_wait_seconds_total{pool="main"} 1.5`,
		`redis_pool_connections{pool="main"} 4`,
		`redis_pool_idle_connections{pool="main"} 1`,
		`redis_pool_stale_connections_total{pool="main"} 5`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, `pool="pipeline"`) {
		t.Error("a pipeline pool is reported though the client has none")
	}
}

func TestMongoPoolEventsAreCounted(t *testing.T) {
	m := New()
	mon := m.MongoPoolMonitor()
	for _, e := range []event.PoolEvent{
		{Type: event.ConnectionCreated},
		{Type: event.ConnectionCreated},
		{Type: event.ConnectionCheckOutStarted},
		{Type: event.ConnectionCheckedOut, Duration: 2 * time.Millisecond},
		{Type: event.ConnectionCheckOutStarted},
		{Type: event.ConnectionCheckedOut, Duration: 3 * time.Millisecond},
		{Type: event.ConnectionCheckedIn},
		{Type: event.ConnectionCheckOutStarted},
		{Type: event.ConnectionCheckOutFailed, Reason: event.ReasonTimedOut},
		{Type: event.ConnectionClosed, Reason: event.ReasonIdle},
	} {
		mon.Event(&e)
	}
	body := scrape(t, m)
	for _, want := range []string{
		`mongodb_pool_checked_out_connections 1`,
		`mongodb_pool_checkout_duration_seconds_count 2`,
		`mongodb_pool_checkout_duration_seconds_sum 0.005`,
		`mongodb_pool_checkout_failures_total{reason="timeout"} 1`,
		`mongodb_pool_connections_created_total 2`,
		`mongodb_pool_connections_closed_total 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
