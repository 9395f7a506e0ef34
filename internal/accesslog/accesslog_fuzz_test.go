package accesslog

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sessiongql/server/internal/logging"
)

// viaSlog is the line the server's slog logger (internal/logging) writes
// for the same request, in JSON or text, with ctx's trace id if any.
func viaSlog(ctx context.Context, json bool, t time.Time, method, path string, status int, d time.Duration) string {
	var buf bytes.Buffer
	h := logging.NewHandler(&buf, json, slog.LevelInfo)
	r := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", method), slog.String("path", path), slog.Int("status", status), slog.Duration("duration", d))
	_ = h.Handle(ctx, r)
	return buf.String()
}

// viaAccesslog is the line WriteContext writes to a Buffer for json or text.
func viaAccesslog(ctx context.Context, json bool, t time.Time, method, path string, status int, d time.Duration) string {
	w := &writes{}
	b := NewBuffer(w, time.Hour, json)
	WriteContext(ctx, b, t, method, path, status, d)
	_ = b.Close()
	got, _ := w.all()
	return got
}

// traced is a context carrying a sampled span context, as a tracing
// middleware's would.
func traced() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func TestLineReadsExactlyLikeSlog(t *testing.T) {
	at := time.Date(2026, 11, 23, 15, 20, 13, 123456789, time.UTC)
	tests := []struct {
		name, method, path string
		status             int
		d                  time.Duration
	}{
		{"graphql", "POST", "/graphql", 200, 1234567 * time.Nanosecond},
		{"microseconds", "GET", "/healthz", 200, 32169 * time.Nanosecond},
		{"space in path", "GET", "/a b", 404, time.Second},
		{"equals and quote", "GET", `/x=1"y`, 404, 0},
		{"backslash stays bare", "GET", `/a\b`, 404, 0},
		{"control byte", "GET", "/a\x01", 400, 0},
		{"DEL stays bare", "GET", "/a\x7f", 400, 0},
		{"unicode", "GET", "/café", 404, time.Millisecond},
		{"unicode space", "GET", "/a\u00a0b", 404, 0},
		{"invalid UTF-8", "GET", "/\xff", 404, 0},
		{"JSON escapes", "GET", "/a\\b\t\n\r\x1f<&>\u2028\u2029", 400, 0},
		{"empty method", "", "/", 405, 0},
		{"other zone", "PUT", "/graphql", 405, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			when := at
			if tt.name == "other zone" {
				when = at.In(time.FixedZone("CET", 3600))
			}
			var buf bytes.Buffer
			Write(&buf, when, tt.method, tt.path, tt.status, tt.d)
			if want := viaSlog(context.Background(), false, when, tt.method, tt.path, tt.status, tt.d); buf.String() != want {
				t.Fatalf("line\n%q\nwant (slog)\n%q", buf.String(), want)
			}
			for _, c := range []struct {
				name string
				ctx  context.Context
				json bool
			}{
				{"text", context.Background(), false},
				{"json", context.Background(), true},
				{"text traced", traced(), false},
				{"json traced", traced(), true},
				// A span context without ids (no tracing) adds nothing.
				{"json untraced span", trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}), true},
			} {
				got := viaAccesslog(c.ctx, c.json, when, tt.method, tt.path, tt.status, tt.d)
				if want := viaSlog(c.ctx, c.json, when, tt.method, tt.path, tt.status, tt.d); got != want {
					t.Fatalf("%s line\n%q\nwant (slog)\n%q", c.name, got, want)
				}
			}
		})
	}
}

// FuzzLineReadsExactlyLikeSlog holds the line to slog's output for any
// method and path a client can send.
func FuzzLineReadsExactlyLikeSlog(f *testing.F) {
	for _, s := range []string{"/graphql", "/a b", `/x="`, "/\xff", "/\u2028", ""} {
		f.Add("POST", s, 200, int64(1500))
	}
	at := time.Date(2026, 11, 23, 15, 20, 13, 0, time.UTC)
	f.Fuzz(func(t *testing.T, method, path string, status int, d int64) {
		for _, json := range []bool{false, true} {
			got := viaAccesslog(traced(), json, at, method, path, status, time.Duration(d))
			if want := viaSlog(traced(), json, at, method, path, status, time.Duration(d)); got != want {
				t.Fatalf("line\n%q\nwant (slog)\n%q", got, want)
			}
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	var buf bytes.Buffer
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		Write(&buf, at, "POST", "/graphql", 200, 1234567)
	}
}

func BenchmarkWriteJSONTraced(b *testing.B) {
	buf := NewBuffer(io.Discard, time.Hour, true)
	defer buf.Close()
	ctx := traced()
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		WriteContext(ctx, buf, at, "POST", "/graphql", 200, 1234567)
	}
}
