package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServer builds the real server from the module root and runs it on a
// free loopback port with in-process stores; it is stopped at cleanup. It
// returns the base URL and the server's pid.
func startServer(t *testing.T) (string, int) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the server: %v\n%s", err, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	var logs syncBuffer
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(withoutStoreURLs(os.Environ()),
		"PORT="+strconv.Itoa(port), "BCRYPT_COST=4", "REGISTER_LIMIT_PER_IP=100000", "DATA_DIR="+filepath.Join(dir, "data"),
		// A busy machine must not fail the run: store timeouts are not what this tests.
		"STORE_TIMEOUT=10s")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log (tail):\n%s", logs.tail(4000))
		}
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, cmd.Process.Pid
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("server exited: %v\n%s", err, logs.tail(4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy after 30s\n%s", logs.tail(4000))
		}
	}
}

func withoutStoreURLs(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "REDIS_URL", "MONGODB_URI", "PORT", "DATA_DIR", "BCRYPT_COST", "REGISTER_LIMIT_PER_IP", "STORE_TIMEOUT":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func TestScenariosAgainstTheRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	base, pid := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("anon through run, -json and -json-file", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		file := filepath.Join(t.TempDir(), "result.json")
		err := run(ctx, []string{"load", "-url", base, "-c", "4", "-d", "1s", "-warmup", "100ms", "-scenario", "anon", "-json", "-json-file", file}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
		var res, saved result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("-json output: %v\n%s", err, stdout.String())
		}
		checkClean(t, res)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &saved); err != nil || saved.Requests != res.Requests || saved.Delivery == nil || *saved.Delivery != *res.Delivery {
			t.Errorf("-json-file holds %+v (%v), stdout %+v", saved, err, res)
		}
	})

	for _, sc := range []string{"me", "ws"} {
		t.Run(sc, func(t *testing.T) {
			// Two names for one server: workers alternate between them.
			urls, err := parseURLs([]string{base, strings.Replace(base, "127.0.0.1", "localhost", 1)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := execute(ctx, config{
				URLs: urls, Concurrency: 4, Duration: time.Second, Warmup: 200 * time.Millisecond,
				Scenario: sc, Password: "load-password-1", Timeout: 10 * time.Second,
				Timeline: sc != "ws", Verify: sc != "ws",
				Progress: testWriter{t},
			})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			printReport(&out, res)
			t.Logf("\n%s", out.String())
			checkClean(t, res)
			if sc != "ws" {
				checkDelivered(t, res)
				return
			}
			ws := res.WS
			if ws.Subscriptions != 4 || ws.Revocations != 4 || ws.Events != ws.Revocations || ws.Lost != 0 {
				t.Errorf("subscriptions %d, ended %d, events %d, lost %d; want 4 of each and none lost",
					ws.Subscriptions, ws.Revocations, ws.Events, ws.Lost)
			}
			if ws.Completes != 4 || ws.Closed4403 != 4 || len(ws.Unexpected) > 0 {
				t.Errorf("complete %d, closed 4403 %d, unexpected %v", ws.Completes, ws.Closed4403, ws.Unexpected)
			}
			if ws.Reasons["REVOKED"] != 2 || ws.Reasons["LOGOUT"] != 2 {
				t.Errorf("reasons %v, want 2 REVOKED and 2 LOGOUT", ws.Reasons)
			}
		})
	}

	// Issue 13's run at a small scale: 50 sockets of 5 users, 10 revoked at
	// once, the server's RSS read from /proc through a pid file.
	t.Run("sockets", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "server.pid")
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		err := run(ctx, []string{"load", "-url", base, "-scenario", "sockets", "-c", "50", "-users", "5", "-revoke", "10",
			"-revoke-c", "4", "-server-pid-file", pidFile, "-d", "10s", "-warmup", "100ms", "-json"}, &stdout, &stderr)
		t.Logf("setup:\n%s", stderr.String())
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		var res result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Sockets == nil {
			t.Fatalf("-json output: %v\n%s", err, stdout.String())
		}
		var out bytes.Buffer
		printReport(&out, res)
		t.Logf("\n%s", out.String())
		checkClean(t, res)
		sr := res.Sockets
		if sr.SignedIn != 50 || sr.Subscribed != 50 || sr.SessionsPerUser != 10 || sr.ServerSubscriptions < 50 {
			t.Errorf("signed in %d, subscribed %d, %d per user, server counts %d; want 50, 50, 10, at least 50",
				sr.SignedIn, sr.Subscribed, sr.SessionsPerUser, sr.ServerSubscriptions)
		}
		u := sr.Server
		if u.RSSSource != fmt.Sprintf("/proc/%d/status VmRSS", pid) || u.RSSBefore <= 0 || u.RSSAfter <= 0 || u.RSSEnd <= 0 ||
			u.GoroutinesAfter <= u.GoroutinesBefore {
			t.Errorf("server %+v", u)
		}
		if res.Requests != 10 || sr.Chosen != 10 || sr.Revoked != 10 || sr.Events != 10 || sr.Lost != 0 || sr.Reasons["REVOKED"] != 10 {
			t.Errorf("requests %d, chosen %d, revoked %d, events %d, lost %d, reasons %v; want 10 each, none lost",
				res.Requests, sr.Chosen, sr.Revoked, sr.Events, sr.Lost, sr.Reasons)
		}
		if sr.Completes != 10 || sr.Closed4403 != 10 || sr.NotClosed != 0 {
			t.Errorf("complete %d, closed 4403 %d, still open %d", sr.Completes, sr.Closed4403, sr.NotClosed)
		}
		if sr.Others != 40 || sr.OthersDisturbed != 0 || len(sr.Unexpected) > 0 {
			t.Errorf("others %d, disturbed %d, unexpected %v", sr.Others, sr.OthersDisturbed, sr.Unexpected)
		}
		// (From the response, an event or close may come first and count 0.)
		if sr.EventFromRequest.Max <= 0 || sr.CloseLatency.Max < sr.CloseLatency.P50 || len(sr.Targets) != 4 {
			t.Errorf("event %+v, close %+v, targets %+v", sr.EventFromRequest, sr.CloseLatency, sr.Targets)
		}
	})
}

// checkClean fails unless res has requests and no errors of any kind.
func checkClean(t *testing.T, res result) {
	t.Helper()
	if res.Requests == 0 || res.PerSecond <= 0 {
		t.Errorf("no requests measured: %+v", res)
	}
	if res.Failed != 0 || len(res.HTTPStatus)+len(res.GraphQLErrors)+len(res.Checks)+len(res.Transport) > 0 {
		t.Errorf("failed %d: status %v, codes %v, checks %v, transport %v",
			res.Failed, res.HTTPStatus, res.GraphQLErrors, res.Checks, res.Transport)
	}
	if res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
		t.Errorf("latency %+v", res.Latency)
	}
}

// checkDelivered fails unless every request sent was answered, the
// timeline adds up to the totals, and every user was intact afterwards.
func checkDelivered(t *testing.T, res result) {
	t.Helper()
	d := res.Delivery
	if d == nil || d.Sent != res.Requests || d.Answered != d.Sent || d.Lost != 0 {
		t.Errorf("delivery %+v with %d requests recorded", d, res.Requests)
	}
	var sent, ok int64
	for _, s := range res.Timeline {
		sent += s.Sent
		ok += s.OK
	}
	if len(res.Timeline) != int(res.DurationSeconds) || sent != res.Requests || ok != res.OK {
		t.Errorf("timeline of %d seconds: sent %d ok %d, totals %d and %d", len(res.Timeline), sent, ok, res.Requests, res.OK)
	}
	if v := res.Verify; v == nil || v.Live != v.Users || v.SignIns != v.Users || v.Users != res.Users || len(v.Failures) > 0 {
		t.Errorf("after the run: %+v", v)
	}
}

// testWriter sends setup progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// syncBuffer collects the server's output from its two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	return string(b[max(len(b)-n, 0):])
}
