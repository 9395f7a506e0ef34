package redistest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// client returns a go-redis client for s that fails fast instead of
// retrying, so a stopped server shows up as an error at once.
func client(t *testing.T, s *Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:        s.Addr(),
		MaxRetries:  -1,
		DialTimeout: time.Second,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestServerStopsAndRestartsOnTheSamePort(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := Start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.URL() != "redis://"+s.Addr() {
		t.Fatalf("Addr() = %q, URL() = %q", s.Addr(), s.URL())
	}
	addr := s.Addr()

	c := client(t, s)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}

	s.Stop(t)
	if err := client(t, s).Ping(ctx).Err(); err == nil {
		t.Fatal("PING succeeded after Stop")
	}
	s.Stop(t) // stopping twice is harmless

	s.Restart(t)
	if s.Addr() != addr {
		t.Fatalf("Addr() after Restart = %q, want %q", s.Addr(), addr)
	}
	c = client(t, s)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if _, err := c.Get(ctx, "k").Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET after Restart: err = %v, want redis.Nil (a fresh server keeps no data)", err)
	}
}

func TestRestartReplacesARunningServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := Start(t)
	if err := client(t, s).Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Restart(t)
	if _, err := client(t, s).Get(ctx, "k").Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET after Restart: err = %v, want redis.Nil", err)
	}
}

func TestEachTestGetsItsOwnServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("two servers on %s", a.Addr())
	}
	if err := client(t, a).Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatalf("SET on a: %v", err)
	}
	if _, err := client(t, b).Get(ctx, "k").Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET on b: err = %v, want redis.Nil", err)
	}
}

func TestCleanupKillsTheServer(t *testing.T) {
	t.Parallel()
	var addr string
	t.Run("owner", func(t *testing.T) {
		addr = Start(t).Addr()
	})
	if addr == "" {
		t.Skip("no server started")
	}
	if _, err := ping(addr); err == nil {
		t.Errorf("redis-server on %s still answers after its test ended", addr)
	}
}

// outcomeTB stands in for a testing.TB to observe whether Start skips or
// fails; like the real one, Skipf and Fatalf end the calling goroutine.
type outcomeTB struct {
	testing.TB
	mu      sync.Mutex
	outcome string
	msg     string
}

func (o *outcomeTB) Helper() {}

func (o *outcomeTB) Skipf(format string, args ...any) { o.end("skip", format, args...) }

func (o *outcomeTB) Fatalf(format string, args ...any) { o.end("fatal", format, args...) }

func (o *outcomeTB) end(outcome, format string, args ...any) {
	o.mu.Lock()
	o.outcome = outcome
	o.msg = fmt.Sprintf(format, args...)
	o.mu.Unlock()
	runtime.Goexit()
}

func TestStartWithoutRedisPrograms(t *testing.T) {
	tests := []struct {
		name    string
		start   func(testing.TB)
		onPath  []string // fake programs put on an otherwise empty PATH
		require string
		want    string
		missing string
	}{
		{"Start", func(t testing.TB) { Start(t) }, nil, "", "skip", "redis-server"},
		{"Start", func(t testing.TB) { Start(t) }, nil, "0", "skip", "redis-server"},
		{"Start", func(t testing.TB) { Start(t) }, nil, "1", "fatal", "redis-server"},
		{"StartCluster", func(t testing.TB) { StartCluster(t, 3, 0) }, nil, "", "skip", "redis-server"},
		{"StartCluster", func(t testing.TB) { StartCluster(t, 3, 0) }, []string{"redis-server"}, "", "skip", "redis-cli"},
		{"StartCluster", func(t testing.TB) { StartCluster(t, 3, 0) }, []string{"redis-server"}, "1", "fatal", "redis-cli"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v/REQUIRE_REDIS_SERVER=%s", tt.name, tt.onPath, tt.require), func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range tt.onPath {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", dir)
			t.Setenv(requireEnv, tt.require)
			o := &outcomeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				tt.start(o)
			}()
			<-done
			if o.outcome != tt.want {
				t.Errorf("outcome = %q, want %q", o.outcome, tt.want)
			}
			if !strings.Contains(o.msg, tt.missing+" is not on PATH") {
				t.Errorf("message %q does not say %s is missing", o.msg, tt.missing)
			}
		})
	}
}

func TestStartFailureShowsTheServerLog(t *testing.T) {
	t.Parallel()
	bin := Start(t).bin // skips like the rest when redis-server is missing
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := startProcess(bin, t.TempDir(), "bad.log", port,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--no-such-option", "x")
	if err == nil {
		p.kill()
		t.Fatal("redis-server with a bad option started")
	}
	if !errors.Is(err, errExited) {
		t.Errorf("err = %v, want errExited", err)
	}
	if !strings.Contains(err.Error(), "no-such-option") {
		t.Errorf("error does not carry the log tail: %v", err)
	}
}

func TestStartProcessIsNotFooledByAnotherServerOnThePort(t *testing.T) {
	t.Parallel()
	other := Start(t)
	p, err := startProcess(other.bin, t.TempDir(), "clash.log", other.port,
		"--port", strconv.Itoa(other.port), "--bind", "127.0.0.1", "--save", "")
	if err == nil {
		p.kill()
		t.Fatal("a second redis-server on a taken port counted as ready")
	}
	if !errors.Is(err, errExited) {
		t.Errorf("err = %v, want errExited", err)
	}
}
