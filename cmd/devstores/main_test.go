//go:build !noembedded

package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestMain runs the command itself when the test binary is started by
// startDevstores, so the test sends a real SIGTERM to a real process.
func TestMain(m *testing.M) {
	if os.Getenv("DEVSTORES_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// freeAddr returns a 127.0.0.1 address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// syncBuffer is a bytes.Buffer the process's output goroutine and the test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServesRedisAndMongoOnGivenPortsUntilSIGTERM(t *testing.T) {
	redisAddr, mongoAddr := freeAddr(t), freeAddr(t)
	dataDir := filepath.Join(t.TempDir(), "data")

	cmd := exec.Command(os.Args[0], "-redis", redisAddr, "-mongo", mongoAddr, "-data", dataDir)
	cmd.Env = append(os.Environ(), "DEVSTORES_RUN_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "msg=\"serving") {
		select {
		case err := <-exited:
			t.Fatalf("devstores exited before serving: %v\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no serving line after 30 s:\n%s", stderr.String())
		}
	}
	for _, want := range []string{"redis_url=redis://" + redisAddr, "mongodb_uri=mongodb://" + mongoAddr + "/"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serving line lacks %q:\n%s", want, stderr.String())
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Errorf("redis PING = %q, %v; want PONG", got, err)
	}
	if err := rdb.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Errorf("redis SET: %v", err)
	}
	_ = rdb.Close()

	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + mongoAddr + "/"))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Errorf("mongo ping: %v", err)
	}
	if _, err := client.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Errorf("mongo insert: %v", err)
	}
	_ = client.Disconnect(ctx)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM:\n%s", stderr.String())
	}
	if entries, err := os.ReadDir(dataDir); err != nil || len(entries) == 0 {
		t.Errorf("data folder %s: %d entries, %v; want FerretDB's files", dataDir, len(entries), err)
	}
	for _, addr := range []string{redisAddr, mongoAddr} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			t.Errorf("%s still accepts connections after exit", addr)
		}
	}
}

func TestRefusesBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing to serve", []string{"-redis", "", "-mongo", ""}, "nothing to serve"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"unknown flag", []string{"-port", "1"}, "flag provided but not defined"},
		{"bad redis address", []string{"-redis", "127.0.0.1:notaport", "-mongo", ""}, `-redis "127.0.0.1:notaport"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v; want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
