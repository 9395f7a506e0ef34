package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/event"
)

// RedisPool is what WatchRedisPool reads: a go-redis client, single or
// cluster (whose PoolStats adds up its nodes' pools).
type RedisPool interface {
	PoolStats() *redis.PoolStats
}

// WatchRedisPool exports c's connection-pool statistics, read at each
// scrape, with a pool label: "main", and "pipeline" when go-redis keeps a
// separate pool for pipelines. An exhausted pool shows as timeouts and
// waits rising while idle connections stay at 0. Call it once.
func (m *Metrics) WatchRedisPool(c RedisPool) {
	m.reg.MustRegister(redisPoolCollector{c})
}

var (
	redisPoolDescs = struct {
		hits, misses, timeouts, waits, waitSeconds, stale, conns, idle *prometheus.Desc
	}{
		hits:        redisPoolDesc("redis_pool_hits_total", "Times a free connection was found in the Redis pool."),
		misses:      redisPoolDesc("redis_pool_misses_total", "Times no free connection was in the Redis pool (a new one was dialled or waited for)."),
		timeouts:    redisPoolDesc("redis_pool_timeouts_total", "Times waiting for a Redis pool connection timed out."),
		waits:       redisPoolDesc("redis_pool_waits_total", "Times a command waited for a Redis pool connection."),
		waitSeconds: redisPoolDesc("redis_pool_wait_seconds_total", "Time spent waiting for Redis pool connections."),
		stale:       redisPoolDesc("redis_pool_stale_connections_total", "Stale connections removed from the Redis pool."),
		conns:       redisPoolDesc("redis_pool_connections", "Connections in the Redis pool, idle or in use."),
		idle:        redisPoolDesc("redis_pool_idle_connections", "Idle connections in the Redis pool."),
	}
)

func redisPoolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, []string{"pool"}, nil)
}

type redisPoolCollector struct{ c RedisPool }

func (redisPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	d := redisPoolDescs
	for _, desc := range []*prometheus.Desc{d.hits, d.misses, d.timeouts, d.waits, d.waitSeconds, d.stale, d.conns, d.idle} {
		ch <- desc
	}
}

func (rc redisPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := rc.c.PoolStats()
	if s == nil {
		return
	}
	collectRedisPool(ch, "main", s.Hits, s.Misses, s.Timeouts, s.WaitCount, s.StaleConns, s.TotalConns, s.IdleConns, s.WaitDurationNs)
	if p := s.PipelineStats; p != nil {
		collectRedisPool(ch, "pipeline", p.Hits, p.Misses, p.Timeouts, p.WaitCount, p.StaleConns, p.TotalConns, p.IdleConns, p.WaitDurationNs)
	}
}

func collectRedisPool(ch chan<- prometheus.Metric, pool string, hits, misses, timeouts, waits, stale, conns, idle uint32, waitNs int64) {
	d := redisPoolDescs
	counter := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, pool)
	}
	counter(d.hits, float64(hits))
	counter(d.misses, float64(misses))
	counter(d.timeouts, float64(timeouts))
	counter(d.waits, float64(waits))
	counter(d.waitSeconds, float64(waitNs)/1e9)
	counter(d.stale, float64(stale))
	ch <- prometheus.MustNewConstMetric(d.conns, prometheus.GaugeValue, float64(conns), pool)
	ch <- prometheus.MustNewConstMetric(d.idle, prometheus.GaugeValue, float64(idle), pool)
}

// MongoPoolMonitor counts the MongoDB driver's connection-pool events:
// connections checked out now, the time each checkout took, checkouts that
// failed by reason ("timeout" when the pool stayed exhausted for the wait
// queue timeout), and connections created and closed. Pass it to
// options.Client().SetPoolMonitor.
func (m *Metrics) MongoPoolMonitor() *event.PoolMonitor {
	p := m.mongoPool
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		switch e.Type {
		case event.ConnectionCheckedOut:
			p.checkedOut.Inc()
			p.checkoutWait.Observe(e.Duration.Seconds())
		case event.ConnectionCheckedIn:
			p.checkedOut.Dec()
		case event.ConnectionCheckOutFailed:
			p.failures.WithLabelValues(e.Reason).Inc()
		case event.ConnectionCreated:
			p.created.Inc()
		case event.ConnectionClosed:
			p.closed.Inc()
		}
	}}
}

// mongoPool are the collectors MongoPoolMonitor feeds.
type mongoPool struct {
	checkedOut      prometheus.Gauge
	checkoutWait    prometheus.Histogram
	failures        *prometheus.CounterVec
	created, closed prometheus.Counter
}

func newMongoPool() *mongoPool {
	return &mongoPool{
		checkedOut: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mongodb_pool_checked_out_connections",
			Help: "MongoDB connections checked out of the driver's pools (in use by a command or cursor).",
		}),
		checkoutWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mongodb_pool_checkout_duration_seconds",
			Help:    "Time to check a connection out of the MongoDB pool, dialling or waiting included (successful checkouts).",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mongodb_pool_checkout_failures_total",
			Help: "Failed MongoDB connection checkouts by reason (timeout: the pool stayed exhausted; connectionError; poolClosed).",
		}, []string{"reason"}),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mongodb_pool_connections_created_total", Help: "MongoDB connections the driver opened.",
		}),
		closed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mongodb_pool_connections_closed_total", Help: "MongoDB connections the driver closed.",
		}),
	}
}

func (p *mongoPool) collectors() []prometheus.Collector {
	return []prometheus.Collector{p.checkedOut, p.checkoutWait, p.failures, p.created, p.closed}
}
