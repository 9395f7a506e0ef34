// Package redistest runs a real redis-server for each test that asks for one,
// on its own free port, so tests never share Redis state and can stop and
// restart the server to exercise outage handling. StartCluster does the same
// for a whole Redis Cluster, whose nodes a test can kill to watch a
// failover. It is for _test.go files only.
//
// Tests are skipped when redis-server (or, for a cluster, redis-cli) is not
// on PATH, unless REQUIRE_REDIS_SERVER=1 is set (as in CI), which turns the
// skip into a failure so a missing binary cannot hide a whole suite.
package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// requireEnv names the environment variable that turns a missing
// redis-server from a skip into a failure.
const requireEnv = "REQUIRE_REDIS_SERVER"

// startAttempts bounds the retries when the free port picked is taken by
// someone else before redis-server binds it.
const startAttempts = 5

// Server is a redis-server process owned by one test. It listens on
// 127.0.0.1 only, keeps nothing on disk, and is killed when the test ends.
type Server struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	proc *process // nil while stopped
	runs int      // processes started so far, to name their log files
}

// Start runs a fresh redis-server for t on a free port and waits until it
// answers commands. It skips t if redis-server is not on PATH, or fails it if
// REQUIRE_REDIS_SERVER=1. The server is killed in t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{bin: lookPath(t, "redis-server"), dir: t.TempDir()}
	// Registered after t.TempDir, so it runs first: the process is gone
	// before its folder is removed.
	t.Cleanup(s.kill)

	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s.port = port
		lastErr = s.start()
		if lastErr == nil {
			return s
		}
		if !errors.Is(lastErr, errExited) {
			break
		}
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

// Addr returns "127.0.0.1:PORT", for clients that take a host:port. It stays
// the same across Stop and Restart.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// URL returns "redis://127.0.0.1:PORT", the form REDIS_URL takes.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Stop kills the server (SIGKILL, as in a crash) and waits for it to exit,
// so clients see connections refused until Restart. The port is not held
// meanwhile: in the rare case another process takes it, Restart fails the
// test. Stopping a stopped server does nothing.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.kill()
}

// Restart starts the server again on the same port, with empty data, and
// waits until it answers. A running server is stopped first.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.kill()
	// The port was ours a moment ago, but a lingering socket can delay the
	// bind; a few attempts cover it.
	var err error
	for range startAttempts {
		err = s.start()
		if err == nil {
			return
		}
		if !errors.Is(err, errExited) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redistest: restart redis-server on %s: %v", s.Addr(), err)
}

// start runs one redis-server on s.port and waits for it to answer.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return fmt.Errorf("redis-server already running on %s", s.Addr())
	}
	s.runs++
	p, err := startProcess(s.bin, s.dir, fmt.Sprintf("redis-%d.%d.log", s.port, s.runs), s.port,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--dir", s.dir,
	)
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// kill stops the running process, if any, and waits for it.
func (s *Server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// lookPath returns the path of the Redis program name, skipping t if it is
// not on PATH, or failing t if REQUIRE_REDIS_SERVER=1.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s is not on PATH and %s=1: %v", name, requireEnv, err)
		}
		t.Skipf("%s is not on PATH (install redis, or set %s=1 to fail instead of skipping): %v", name, requireEnv, err)
	}
	return bin
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process may
// take it before redis-server binds it, hence the retries in Start.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
