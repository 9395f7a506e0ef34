package tracing

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// MongoMonitor returns a command monitor that makes a client span of each
// MongoDB command (named "find decks": command and collection) under the
// span in the command's context, and passes every event on to next (which
// may be nil). The command's text and a failure's message are left out:
// they hold emails and password hashes. With tracing off it returns next itself.
//
// mongo-driver v2 has no maintained OpenTelemetry instrumentation (the
// contrib otelmongo is for v1), hence this one.
func MongoMonitor(tp trace.TracerProvider, next *event.CommandMonitor) *event.CommandMonitor {
	if !Enabled(tp) {
		return next
	}
	if next == nil {
		next = &event.CommandMonitor{}
	}
	m := &mongoSpans{tracer: tp.Tracer(ScopeName), next: next}
	return &event.CommandMonitor{Started: m.started, Succeeded: m.succeeded, Failed: m.failed}
}

// mongoSpans holds each command's span from its started event to its
// finished one, which the driver matches by connection and request id.
type mongoSpans struct {
	tracer trace.Tracer
	next   *event.CommandMonitor
	spans  sync.Map // commandKey -> trace.Span
}

type commandKey struct {
	conn string
	id   int64
}

func (m *mongoSpans) started(ctx context.Context, e *event.CommandStartedEvent) {
	name := e.CommandName
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, semconv.DBSystemNameMongoDB, semconv.DBNamespace(e.DatabaseName), semconv.DBOperationName(e.CommandName))
	if coll, ok := e.Command.Lookup(e.CommandName).StringValueOK(); ok && coll != "" {
		name += " " + coll
		attrs = append(attrs, semconv.DBCollectionName(coll))
	}
	if host, port, ok := serverAddress(e.ConnectionID); ok {
		attrs = append(attrs, semconv.ServerAddress(host), semconv.ServerPort(port))
	}
	_, span := m.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	m.spans.Store(commandKey{e.ConnectionID, e.RequestID}, span)
	if m.next.Started != nil {
		m.next.Started(ctx, e)
	}
}

func (m *mongoSpans) succeeded(ctx context.Context, e *event.CommandSucceededEvent) {
	if s, ok := m.spans.LoadAndDelete(commandKey{e.ConnectionID, e.RequestID}); ok {
		s.(trace.Span).End()
	}
	if m.next.Succeeded != nil {
		m.next.Succeeded(ctx, e)
	}
}

func (m *mongoSpans) failed(ctx context.Context, e *event.CommandFailedEvent) {
	if s, ok := m.spans.LoadAndDelete(commandKey{e.ConnectionID, e.RequestID}); ok {
		// Not the failure's text: a duplicate key error quotes the email.
		span := s.(trace.Span)
		span.SetStatus(codes.Error, "command failed")
		span.End()
	}
	if m.next.Failed != nil {
		m.next.Failed(ctx, e)
	}
}

// serverAddress reads host and port from a driver connection id
// ("host:27017[-12]").
func serverAddress(connID string) (string, int, bool) {
	addr, _, _ := strings.Cut(connID, "[")
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, false
	}
	return host, port, true
}
