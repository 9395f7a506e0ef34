package main

import (
	"context"
	"testing"
	"time"

	"github.com/sessiongql/server/internal/netfault"
)

func TestRedisOutageAnswersServiceUnavailableThenRecovers(t *testing.T) {
	ts := startServer(t, map[string]string{"STORE_TIMEOUT": "500ms"})
	c := ts.client(t)
	u, pw := ts.register(t, c)

	ts.needSingleRedis(t)
	ts.Redis.Stop(t)
	for _, op := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"me", meQuery, nil},
		{"login", loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}}},
		{"logout", logoutMutation, nil},
	} {
		start := time.Now()
		r := ts.gql(t, c, op.query, op.vars)
		if r.code() != "SERVICE_UNAVAILABLE" {
			t.Fatalf("%s with Redis down: %+v, want SERVICE_UNAVAILABLE", op.name, r.Errors)
		}
		if r.HTTP.StatusCode >= 500 {
			t.Fatalf("%s: HTTP %d", op.name, r.HTTP.StatusCode)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%s took %v with Redis down: not bounded by STORE_TIMEOUT", op.name, d)
		}
	}

	ts.Redis.Restart(t) // a fresh, empty redis-server: sessions are gone, users are not
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := ts.gql(t, c, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
		if len(r.Errors) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 10s after Redis came back: %+v", r.Errors)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if me := ts.me(t, c); me == nil || me.ID != u.ID {
		t.Fatalf("me after recovery = %+v", me)
	}
}

func TestMongoOutageAnswersServiceUnavailableThenRecovers(t *testing.T) {
	proxy := netfault.Start(t, hostPort(t, testMongoURI))
	ts := startServer(t, map[string]string{"STORE_TIMEOUT": "500ms", "MONGODB_URI": "mongodb://" + proxy.Addr() + "/"})
	c := ts.client(t)
	u, pw := ts.register(t, c)

	proxy.Cut()
	start := time.Now()
	r := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
	if r.code() != "SERVICE_UNAVAILABLE" {
		t.Fatalf("login with MongoDB down: %+v, want SERVICE_UNAVAILABLE", r.Errors)
	}
	r = ts.gql(t, c, `{ decks { id } }`, nil)
	if r.code() != "SERVICE_UNAVAILABLE" {
		t.Fatalf("decks with MongoDB down: %+v, want SERVICE_UNAVAILABLE", r.Errors)
	}
	// What the session can answer keeps working.
	if me := ts.me(t, c); me == nil || me.ID != u.ID || me.Email != u.Email {
		t.Fatalf("me with MongoDB down = %+v, want the user from the session", me)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("three requests took %v with MongoDB down", d)
	}

	proxy.Restore()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if r := ts.gql(t, c, `{ decks { id } }`, nil); len(r.Errors) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no recovery 15s after MongoDB came back")
}

func TestIdleTimeoutExtendsWithUseAndLifetimeIsAbsolute(t *testing.T) {
	ts := startServer(t, map[string]string{"SESSION_IDLE_TIMEOUT": "2s", "SESSION_LIFETIME": "5s"})
	c := ts.client(t)
	ts.register(t, c)

	// Active use keeps the session past its idle timeout...
	for range 6 {
		time.Sleep(700 * time.Millisecond)
		if ts.me(t, c) == nil {
			t.Fatal("an active session expired before its idle timeout")
		}
	}
	// ...but not past its absolute lifetime, however active.
	deadline := time.Now().Add(4 * time.Second)
	for ts.me(t, c) != nil {
		if time.Now().After(deadline) {
			t.Fatal("session outlived SESSION_LIFETIME")
		}
		time.Sleep(300 * time.Millisecond)
	}

	// Idle expiry: a new session left alone for longer than the idle timeout ends.
	c2 := ts.client(t)
	ts.register(t, c2)
	time.Sleep(2500 * time.Millisecond)
	if me := ts.me(t, c2); me != nil {
		t.Fatal("session survived its idle timeout")
	}
	rdb := redisClient(t, ts)
	if keys := rdb.keys(t, "s:*"); len(keys) != 0 {
		t.Fatalf("keys outlived their sessions: %v", keys)
	}
}
