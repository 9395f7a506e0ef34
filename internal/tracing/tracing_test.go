package tracing

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSetupIsOffWithoutAnEndpoint(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		on   bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tp, shutdown, err := Setup(context.Background(), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := Enabled(tp); got != tt.on {
				t.Errorf("Enabled = %v, want %v (%T)", got, tt.on, tp)
			}
			if err := shutdown(context.Background()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}

func TestSetupRefusesSettingsThatCannotWork(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		env        map[string]string
	}{
		{"header without a value", "OTEL_EXPORTER_OTLP_HEADERS", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_HEADERS": "api-key"}},
		{"endpoint without a scheme", "OTEL_EXPORTER_OTLP_ENDPOINT", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}},
		{"traces endpoint not http", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://collector:4317"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Setup(context.Background(), env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Setup = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestParseHeadersUnescapesValues(t *testing.T) {
	got, err := parseHeaders("api-key=a%20b, x-tenant = t1")
	if err != nil {
		t.Fatal(err)
	}
	if got["api-key"] != "a b" || got["x-tenant"] != "t1" || len(got) != 2 {
		t.Errorf("parseHeaders = %v", got)
	}
}

func TestMongoMonitorOffReturnsTheMonitorItWasGiven(t *testing.T) {
	next := &event.CommandMonitor{}
	if got := MongoMonitor(noop.NewTracerProvider(), next); got != next {
		t.Error("MongoMonitor with tracing off did not return its argument")
	}
	if got := MongoMonitor(nil, next); got != next {
		t.Error("MongoMonitor with a nil provider did not return its argument")
	}
}

func TestMongoMonitorMakesASpanPerCommand(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var passed []string
	m := MongoMonitor(tp, &event.CommandMonitor{
		Started:   func(context.Context, *event.CommandStartedEvent) { passed = append(passed, "started") },
		Succeeded: func(context.Context, *event.CommandSucceededEvent) { passed = append(passed, "succeeded") },
		Failed:    func(context.Context, *event.CommandFailedEvent) { passed = append(passed, "failed") },
	})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	cmd, _ := bson.Marshal(bson.D{{Key: "find", Value: "decks"}, {Key: "filter", Value: bson.D{{Key: "email", Value: "a@example.com"}}}})
	const conn = "localhost:27017[-3]"
	m.Started(ctx, &event.CommandStartedEvent{Command: cmd, DatabaseName: "app", CommandName: "find", RequestID: 1, ConnectionID: conn})
	m.Started(ctx, &event.CommandStartedEvent{Command: cmd, DatabaseName: "app", CommandName: "insert", RequestID: 2, ConnectionID: conn})
	m.Succeeded(ctx, &event.CommandSucceededEvent{CommandFinishedEvent: event.CommandFinishedEvent{CommandName: "find", RequestID: 1, ConnectionID: conn}})
	m.Failed(ctx, &event.CommandFailedEvent{
		CommandFinishedEvent: event.CommandFinishedEvent{CommandName: "insert", RequestID: 2, ConnectionID: conn},
		Failure:              errors.New(`E11000 duplicate key error dup key: { email: "a@example.com" }`),
	})
	parent.End()

	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	find, insert := spans[0], spans[1]
	if find.Name != "find decks" || find.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("first span %q under %v, want \"find decks\" under the parent", find.Name, find.Parent.SpanID())
	}
	attrs := attribute.NewSet(find.Attributes...)
	for k, want := range map[attribute.Key]string{"db.system.name": "mongodb", "db.namespace": "app", "db.collection.name": "decks", "server.address": "localhost"} {
		if v, _ := attrs.Value(k); v.String() != want {
			t.Errorf("find span %s = %q, want %q", k, v.String(), want)
		}
	}
	if insert.Status.Code != codes.Error {
		t.Errorf("failed insert span status = %v, want error", insert.Status)
	}
	for _, s := range spans {
		for _, kv := range s.Attributes {
			if v := kv.Value.String(); v == "a@example.com" {
				t.Errorf("span %q carries the command's text in %s", s.Name, kv.Key)
			}
		}
		if len(s.Events) > 0 || s.Status.Description != "command failed" && s.Status.Code == codes.Error {
			t.Errorf("span %q records the failure's text: %+v %+v", s.Name, s.Events, s.Status)
		}
	}
	if got, want := strings.Join(passed, " "), "started started succeeded failed"; got != want {
		t.Errorf("events passed on = %q, want %q", got, want)
	}
}

func TestHandlerPutsTheRequestSpanInTheContext(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var seen trace.SpanContext
	h := Handler(tp, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if !seen.IsValid() {
		t.Fatal("the handler's request context carries no span")
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "POST /graphql" || spans[0].SpanContext.TraceID() != seen.TraceID() {
		t.Errorf("spans = %v, want one \"POST /graphql\" span in the handler's trace", spans)
	}
}
