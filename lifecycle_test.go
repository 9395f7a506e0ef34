package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestEmbeddedStoresStartWithNothingConfiguredAndKeepUsers(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"REDIS_URL": "", "MONGODB_URI": "", "DATA_DIR": dataDir, "MONGODB_DATABASE": "embedded"}
	ts := startServer(t, env)
	u, pw := ts.register(t, ts.client(t))
	logs := ts.logs.String()
	if !strings.Contains(logs, "redis: in-process") || !strings.Contains(logs, "mongodb: in-process") {
		t.Fatalf("log does not say which stores are in-process:\n%s", logs)
	}
	if err := ts.Stop(t); err != nil {
		t.Fatal(err)
	}

	again := startServer(t, env) // same DATA_DIR: the user is still there
	c := again.client(t)
	r := again.gql(t, c, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
	if len(r.Errors) > 0 {
		t.Fatalf("login after restart: %+v", r.Errors)
	}
	if me := again.me(t, c); me == nil || me.ID != u.ID {
		t.Fatalf("me after restart = %+v, want %s", me, u.ID)
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	// A registration at cost 12 takes a while (longer still under -race).
	ts := startServer(t, map[string]string{"BCRYPT_COST": "12", "SHUTDOWN_TIMEOUT": "60s"})
	type result struct {
		r   gqlResponse
		err error
	}
	body := mustJSON(t, map[string]any{
		"query": registerMutation, "variables": map[string]any{"i": map[string]any{"email": "slow-" + randomHex(4) + "@example.com", "password": "password-123", "name": "Slow"}},
	})
	got := make(chan result, 1)
	go func() { // reports through got: t.Fatal belongs to the test's goroutine
		c := &http.Client{Timeout: 30 * time.Second}
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
		if err != nil {
			got <- result{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var r gqlResponse
		r.HTTP = resp
		err = jsonDecode(resp, &r)
		got <- result{r: r, err: err}
	}()
	time.Sleep(150 * time.Millisecond) // the request is inside bcrypt now
	if err := ts.Stop(t); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	res := <-got
	if res.err != nil {
		t.Fatalf("in-flight request failed during shutdown: %v", res.err)
	}
	if len(res.r.Errors) > 0 || res.r.Data["register"] == nil {
		t.Fatalf("in-flight register during shutdown: %+v", res.r.Errors)
	}
	if _, err := http.Get(ts.URL + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

func TestShutdownClosesWebsocketsCleanly(t *testing.T) {
	ts := startServer(t, map[string]string{"SHUTDOWN_TIMEOUT": "10s"})
	c := ts.client(t)
	ts.register(t, c)
	ws := ts.subscribeSessionEnded(t, ts.sessionCookie(t, c), "1")

	// The client keeps reading, as a real one does, so it answers the
	// server's close frame.
	closed := make(chan error, 1)
	go func() {
		_, _, err := ws.conn.Read(context.Background())
		closed <- err
	}()
	start := time.Now()
	if err := ts.Stop(t); err != nil {
		t.Fatalf("shutdown with an open subscription: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	err := <-closed
	if code := websocket.CloseStatus(err); code != websocket.StatusNormalClosure {
		t.Fatalf("subscriber saw %v (close code %d), want a clean close (1000)", err, code)
	}
}
