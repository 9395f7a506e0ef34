package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/sessiongql/server/graph"
)

// spanTree is the ended spans of one trace.
type spanTree []tracetest.SpanStub

func (st spanTree) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range st {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func (st spanTree) byID(id trace.SpanID) (tracetest.SpanStub, bool) {
	for _, s := range st {
		if s.SpanContext.SpanID() == id {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

// path lists the names of s's ancestors in the trace, root first, then s.
func (st spanTree) path(s tracetest.SpanStub) []string {
	names := []string{s.Name}
	for s.Parent.IsValid() {
		p, ok := st.byID(s.Parent.SpanID())
		if !ok {
			break
		}
		names = append([]string{p.Name}, names...)
		s = p
	}
	return names
}

// traceOf waits until the exporter holds an ended span named op and the
// request span above it, and returns that span's whole trace.
func traceOf(t *testing.T, exp *tracetest.InMemoryExporter, op string) spanTree {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		all := spanTree(exp.GetSpans())
		for _, s := range all.named(op) {
			var tree spanTree
			for _, o := range all {
				if o.SpanContext.TraceID() == s.SpanContext.TraceID() {
					tree = append(tree, o)
				}
			}
			if p := tree.path(s); len(p) > 1 && tree.isRoot(p[0]) {
				return tree
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range all {
				names = append(names, s.Name)
			}
			t.Fatalf("no complete trace with a %q span within 5s; spans: %q", op, names)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (st spanTree) isRoot(name string) bool {
	for _, s := range st.named(name) {
		if !s.Parent.IsValid() && s.SpanKind == trace.SpanKindServer {
			return true
		}
	}
	return false
}

func TestTracingSpanTreeOfMeAndDecks(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ts := startServerWith(t, nil, withTracerProvider(tp))
	c := ts.client(t)
	ts.register(t, c)
	ts.awaitMailSent(t)

	t.Run("me", func(t *testing.T) {
		exp.Reset()
		if u := ts.me(t, c); u == nil {
			t.Fatal("me = null after register")
		}
		tree := traceOf(t, exp, "query:me")
		op := tree.named("query:me")[0]
		if got := strings.Join(tree.path(op), " > "); got != "POST /graphql > query:me" {
			t.Errorf("operation span path = %q, want the request span > query:me", got)
		}
		// The session middleware loads the session (one HMGET) before the
		// operation starts: the Redis span is the operation's sibling.
		hmget := tree.named("hmget")
		if len(hmget) != 1 {
			t.Fatalf("trace of me has %d hmget spans, want 1 (spans: %v)", len(hmget), tree.names())
		}
		if got := strings.Join(tree.path(hmget[0]), " > "); got != "POST /graphql > hmget" {
			t.Errorf("redis span path = %q, want the request span > hmget", got)
		}
		if hmget[0].SpanKind != trace.SpanKindClient {
			t.Errorf("hmget span kind = %v, want client", hmget[0].SpanKind)
		}
		for _, kv := range hmget[0].Attributes {
			if kv.Key == "db.statement" || kv.Key == "db.query.text" {
				t.Errorf("redis span carries %s (session keys): %q", kv.Key, kv.Value.String())
			}
		}
		if n := len(tree); n != 3 {
			t.Errorf("trace of me has %d spans (%v), want 3: request, operation, hmget", n, tree.names())
		}
		// The request's access line carries its trace id.
		want := "trace_id=" + op.SpanContext.TraceID().String()
		deadline := time.Now().Add(2 * time.Second) // access lines are batched (100 ms)
		for !strings.Contains(ts.logs.String(), want) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(ts.logs.String(), want) {
			t.Errorf("no log line with %s:\n%s", want, ts.logs.String())
		}
	})

	t.Run("decks", func(t *testing.T) {
		ts.createDeck(t, c, "Traced")
		exp.Reset()
		var decks []deck
		ts.must(t, c, `{ decks { id title cardCount } }`, nil, "decks", &decks)
		if len(decks) != 1 {
			t.Fatalf("decks = %v, want the one created", decks)
		}
		tree := traceOf(t, exp, "query:decks")
		var finds []tracetest.SpanStub
		for _, s := range tree {
			if strings.HasPrefix(s.Name, "find ") || strings.HasPrefix(s.Name, "aggregate ") {
				finds = append(finds, s)
			}
		}
		if len(finds) == 0 {
			t.Fatalf("trace of decks has no MongoDB span (spans: %v)", tree.names())
		}
		for _, f := range finds {
			path := tree.path(f)
			if len(path) < 3 || path[0] != "POST /graphql" || path[1] != "query:decks" {
				t.Errorf("mongodb span path = %q, want under the request span > query:decks", strings.Join(path, " > "))
			}
			if f.SpanKind != trace.SpanKindClient {
				t.Errorf("%s span kind = %v, want client", f.Name, f.SpanKind)
			}
		}
	})
}

func (st spanTree) names() []string {
	var out []string
	for _, s := range st {
		out = append(out, s.Name)
	}
	return out
}

// otlpReceiver is an OTLP/HTTP collector: it keeps the names of the spans
// POSTed to /v1/traces and when each first arrived.
type otlpReceiver struct {
	mu      sync.Mutex
	arrived map[string]time.Time
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				if _, ok := o.arrived[s.Name]; !ok {
					o.arrived[s.Name] = now
				}
			}
		}
	}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func (o *otlpReceiver) arrivedAt(name string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at, ok := o.arrived[name]
	return at, ok
}

func TestTracingExportsSpansOverOTLPWithin10s(t *testing.T) {
	recv := &otlpReceiver{arrived: map[string]time.Time{}}
	collector := httptest.NewServer(recv)
	t.Cleanup(collector.Close)
	ts := startServer(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL})
	c := ts.client(t)
	ts.register(t, c)
	sent := time.Now()
	ts.me(t, c)
	for _, name := range []string{"query:me", "hmget", "POST /graphql"} {
		for {
			if at, ok := recv.arrivedAt(name); ok {
				t.Logf("%s span arrived %v after the request", name, at.Sub(sent).Round(time.Millisecond))
				break
			}
			if time.Since(sent) > 10*time.Second {
				t.Fatalf("no %q span at the collector within 10s of the request", name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// countingHandler is a comparable handler, to see whether a middleware
// returned it unwrapped.
type countingHandler struct{ n int }

func (h *countingHandler) ServeHTTP(http.ResponseWriter, *http.Request) { h.n++ }

func TestTracingOffAddsNothingToTheRequestPath(t *testing.T) {
	tp := noop.NewTracerProvider()
	h := &countingHandler{}
	if got := traceRequests(tp)(h); got != http.Handler(h) {
		t.Errorf("traceRequests with tracing off wrapped the handler in %T", got)
	}
	exts := operationExtensions(nil, tp)
	if len(exts) != 1 {
		t.Errorf("operation extensions with tracing off = %d, want 1 (metrics only)", len(exts))
	}
	for _, e := range exts {
		if _, ok := e.(graph.TraceOperations); ok {
			t.Errorf("operation extensions with tracing off include %s", e.ExtensionName())
		}
	}

	// And on, they are there.
	on := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = on.Shutdown(context.Background()) })
	if got := traceRequests(on)(h); got == http.Handler(h) {
		t.Error("traceRequests with tracing on did not wrap the handler")
	}
	if n := len(operationExtensions(nil, on)); n != 2 {
		t.Errorf("operation extensions with tracing on = %d, want 2", n)
	}
}

func TestPoolMetricsAfterRequests(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	ts.me(t, c)
	ts.createDeck(t, c, "Pools")
	var decks []deck
	ts.must(t, c, `{ decks { id } }`, nil, "decks", &decks)

	series := regexp.MustCompile(`(?m)^([a-z_]+(?:\{[^}]*\})?) (\S+)$`)
	scrape := func() map[string]float64 {
		resp, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		out := map[string]float64{}
		for _, m := range series.FindAllSubmatch(body, -1) {
			v, err := strconv.ParseFloat(string(m[2]), 64)
			if err == nil {
				out[string(m[1])] = v
			}
		}
		return out
	}
	checks := []struct {
		series string
		ok     func(float64) bool
		want   string
	}{
		{`redis_pool_connections{pool="main"}`, func(v float64) bool { return v >= 1 }, ">= 1"},
		{`redis_pool_idle_connections{pool="main"}`, func(v float64) bool { return v >= 1 }, ">= 1 when idle"},
		{`redis_pool_hits_total{pool="main"}`, func(v float64) bool { return v >= 1 }, ">= 1"},
		{`redis_pool_timeouts_total{pool="main"}`, func(v float64) bool { return v == 0 }, "0"},
		{`redis_pool_waits_total{pool="main"}`, func(v float64) bool { return v >= 0 }, "present"},
		{`mongodb_pool_checked_out_connections`, func(v float64) bool { return v == 0 }, "0 when idle"},
		{`mongodb_pool_connections_created_total`, func(v float64) bool { return v >= 1 }, ">= 1"},
		{`mongodb_pool_connections_closed_total`, func(v float64) bool { return v >= 0 }, "present"},
		{`mongodb_pool_checkout_duration_seconds_count`, func(v float64) bool { return v >= 4 }, ">= 4 (register, createDeck, decks)"},
	}
	// Connections go back to the pools just after the answers are sent.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := scrape()
		var bad []string
		for _, c := range checks {
			if v, ok := got[c.series]; !ok || !c.ok(v) {
				bad = append(bad, c.series+" = "+strconv.FormatFloat(v, 'g', -1, 64)+", want "+c.want)
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after requests, /metrics has:\n%s", strings.Join(bad, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkMeOverHTTPTraced is BenchmarkMeOverHTTP with tracing on,
// exporting to an OTLP receiver in the test: the cost of tracing.
func BenchmarkMeOverHTTPTraced(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(collector.Close)
	benchmarkMe(b, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL})
}
