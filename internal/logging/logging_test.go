package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func traced() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func TestLinesLoggedWithATracedContextCarryTheTraceID(t *testing.T) {
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"traced", traced(), true},
		{"no span", context.Background(), false},
		{"invalid span context", trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}), false},
	} {
		for _, isJSON := range []bool{false, true} {
			var buf bytes.Buffer
			logger := New(&buf, isJSON, slog.LevelInfo).With("component", "test")
			logger.InfoContext(tt.ctx, "hello", "n", 1)
			logger.DebugContext(tt.ctx, "dropped")
			line := buf.String()
			if strings.Count(line, "\n") != 1 {
				t.Fatalf("%s: want one line, got %q", tt.name, line)
			}
			if isJSON {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil || m["msg"] != "hello" || m["component"] != "test" {
					t.Fatalf("%s: %q is not the JSON line (%v)", tt.name, line, err)
				}
				if got := m[TraceIDKey] == traceID; got != tt.want {
					t.Errorf("%s: json line %q has the trace id: %v, want %v", tt.name, line, got, tt.want)
				}
				continue
			}
			if got := strings.Contains(line, " trace_id="+traceID+"\n"); got != tt.want || !strings.Contains(line, "component=test") {
				t.Errorf("%s: text line %q has the trace id: %v, want %v", tt.name, line, got, tt.want)
			}
		}
	}
}

func TestRedisLinesGoThroughTheDefaultLoggerAtWarn(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(New(&buf, true, slog.LevelInfo))
	t.Cleanup(func() { slog.SetDefault(prev) })
	redisLogger{}.Printf(traced(), "redis: connection pool: failed to dial after %d attempts: %v\n", 5, "refused")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	if m["level"] != "WARN" || m["msg"] != "connection pool: failed to dial after 5 attempts: refused" || m["component"] != "go-redis" || m[TraceIDKey] != traceID {
		t.Fatalf("line %q", buf.String())
	}
}
