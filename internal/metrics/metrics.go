// Package metrics holds the server's Prometheus collectors on a registry of
// its own (never the global default) and serves them at /metrics.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/event"
)

// Metrics are the server's collectors.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	signIns       prometheus.Counter
	failedLogins  prometheus.Counter
	rateLimited   *prometheus.CounterVec
	subscriptions prometheus.Gauge
	storeErrors   *prometheus.CounterVec
	mongoCommands *prometheus.CounterVec

	// ops caches the children of requests and duration per opKey, so that
	// an operation costs a map read instead of building and hashing label
	// values. It stays small: kinds and root fields come from the schema,
	// outcomes from the error codes.
	ops sync.Map // opKey -> *opCollectors

	mongoPool *mongoPool // fed by MongoPoolMonitor
	mail      *mail
}

type opKey struct{ kind, field, outcome string }

type opCollectors struct {
	requests prometheus.Counter
	duration prometheus.Observer
	// derived counts this operation also adds to (sign-ins, failed logins,
	// rate limits), or nil.
	derived prometheus.Counter
}

// New registers every collector, plus the Go runtime and process ones.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphql_operations_total",
			Help: "GraphQL operations by operation (type:first root field) and outcome (ok or the first error code).",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "graphql_operation_duration_seconds",
			Help:    "Time from the start of a GraphQL operation to its response.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		signIns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "auth_sign_ins_total", Help: "Successful logins and registrations.",
		}),
		failedLogins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "auth_failed_logins_total", Help: "Logins refused with INVALID_CREDENTIALS.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auth_rate_limited_total", Help: "Logins and registrations refused with RATE_LIMITED.",
		}, []string{"action"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "graphql_active_subscriptions", Help: "Open GraphQL subscriptions (sessionEnded).",
		}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "store_errors_total", Help: "Failed Redis commands and MongoDB commands.",
		}, []string{"store"}),
		mongoCommands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mongodb_commands_total", Help: "MongoDB commands sent (round trips), by command name and origin: request, or background (the mail sender, the security log's sweeper).",
		}, []string{"command", "origin"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.signIns, m.failedLogins, m.rateLimited, m.subscriptions, m.storeErrors, m.mongoCommands,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.mongoPool = newMongoPool()
	m.reg.MustRegister(m.mongoPool.collectors()...)
	m.mail = newMail()
	m.reg.MustRegister(m.mail.collectors()...)
	return m
}

type backgroundKey struct{}

// Background marks ctx as background work's (the mail sender's, say):
// MongoDB commands under it count with origin="background", apart from
// the requests'.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Subscriptions is the open-subscriptions gauge.
func (m *Metrics) Subscriptions() prometheus.Gauge { return m.subscriptions }

// Operation records one GraphQL operation: kind is "query", "mutation",
// "subscription" or "invalid", field its first root field, outcome "ok" or
// an error code. Sign-ins, failed logins and rate-limited attempts are
// derived from them, so they are counted in one place.
func (m *Metrics) Operation(kind, field, outcome string, d time.Duration) {
	key := opKey{kind, field, outcome}
	c, ok := m.ops.Load(key)
	if !ok {
		c, _ = m.ops.LoadOrStore(key, m.opCollectors(key))
	}
	oc := c.(*opCollectors)
	oc.requests.Inc()
	oc.duration.Observe(d.Seconds())
	if oc.derived != nil {
		oc.derived.Inc()
	}
}

func (m *Metrics) opCollectors(k opKey) *opCollectors {
	op := k.kind
	if k.kind != "invalid" {
		op += ":" + k.field
	}
	c := &opCollectors{
		requests: m.requests.WithLabelValues(op, k.outcome),
		duration: m.duration.WithLabelValues(op),
	}
	switch {
	case k.outcome == "ok" && (op == "mutation:login" || op == "mutation:register"):
		c.derived = m.signIns
	case k.outcome == "INVALID_CREDENTIALS" && op == "mutation:login":
		c.derived = m.failedLogins
	case k.outcome == "RATE_LIMITED":
		c.derived = m.rateLimited.WithLabelValues(op)
	}
	return c
}

// RedisHook counts failed Redis commands (a missing key is not a failure).
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m.storeErrors.WithLabelValues("redis")} }

type redisHook struct{ errs prometheus.Counter }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			h.errs.Inc()
		}
		return c, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && !errors.Is(err, redis.Nil) {
			h.errs.Inc()
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && !errors.Is(err, redis.Nil) {
			h.errs.Inc()
		}
		return err
	}
}

// MongoMonitor counts MongoDB commands sent and those that failed.
func (m *Metrics) MongoMonitor() *event.CommandMonitor {
	errs := m.storeErrors.WithLabelValues("mongodb")
	return &event.CommandMonitor{
		Started: func(ctx context.Context, e *event.CommandStartedEvent) {
			origin := "request"
			if ctx.Value(backgroundKey{}) != nil {
				origin = "background"
			}
			m.mongoCommands.WithLabelValues(e.CommandName, origin).Inc()
		},
		Failed: func(context.Context, *event.CommandFailedEvent) { errs.Inc() },
	}
}
