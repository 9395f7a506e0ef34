package accesslog

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"
)

// viaSlog is the line slog's TextHandler writes for the same request.
func viaSlog(t time.Time, method, path string, status int, d time.Duration) string {
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, nil)
	r := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", method), slog.String("path", path), slog.Int("status", status), slog.Duration("duration", d))
	_ = h.Handle(context.Background(), r)
	return buf.String()
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
			if want := viaSlog(when, tt.method, tt.path, tt.status, tt.d); buf.String() != want {
				t.Fatalf("line\n%q\nwant (slog)\n%q", buf.String(), want)
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
		var buf bytes.Buffer
		Write(&buf, at, method, path, status, time.Duration(d))
		if want := viaSlog(at, method, path, status, time.Duration(d)); buf.String() != want {
			t.Fatalf("line\n%q\nwant (slog)\n%q", buf.String(), want)
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
