// Package logging builds the server's slog loggers: one format (text or
// JSON) for every line on stderr, the request's trace id on lines logged
// with a context, and go-redis's own messages routed through slog.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// TraceIDKey is the attribute that carries a request's OpenTelemetry trace
// id, on slog lines and access lines alike.
const TraceIDKey = "trace_id"

// New returns a logger writing to w as JSON (json) or slog's text format,
// from level up. A line logged with a context whose span context is valid
// carries the trace id.
func New(w io.Writer, json bool, level slog.Leveler) *slog.Logger {
	return slog.New(NewHandler(w, json, level))
}

// NewHandler is New's handler, for a caller that wraps it further.
func NewHandler(w io.Writer, json bool, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if json {
		return traceHandler{slog.NewJSONHandler(w, opts)}
	}
	return traceHandler{slog.NewTextHandler(w, opts)}
}

// traceHandler adds the trace id of the record's context. Within a group
// (WithGroup) the id lands in that group, like any attribute added then.
type traceHandler struct{ next slog.Handler }

func (h traceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String(TraceIDKey, sc.TraceID().String()))
	}
	return h.next.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.next.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.next.WithGroup(name)}
}

var routeRedis sync.Once

// RouteRedis makes go-redis log through slog.Default(), at warning level,
// with the trace id of the command's context when it has one.
//
// go-redis has one logger for the whole process (redis.SetLogger), and
// most of its lines (failed dials, say) come from its own goroutines,
// with no context of the caller's; so its lines cannot follow one server's
// logger, and go to the process's default one, which main sets to the
// configured format. It is set once, however many callers.
func RouteRedis() {
	routeRedis.Do(func() { redis.SetLogger(redisLogger{}) })
}

// redisLogger is go-redis's Logging interface over slog.
type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	msg = strings.TrimPrefix(msg, "redis: ")
	slog.Default().WarnContext(ctx, msg, "component", "go-redis")
}
