package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/redistest"
)

// startupLimit is how long a server with an unusable setting may take to
// stop (docs/API.md, "Throttling and races").
const startupLimit = 10 * time.Second

func TestStartupRefusesUnusableSettingNamingIt(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		setting string
	}{
		{"redis url of another scheme", map[string]string{"REDIS_URL": "ftp://x"}, "REDIS_URL"},
		{"redis url with a bad port", map[string]string{"REDIS_URL": "redis://127.0.0.1:port"}, "REDIS_URL"},
		{"redis cluster with an empty node", map[string]string{"REDIS_URL": "127.0.0.1:7000,,127.0.0.1:7001"}, "REDIS_URL"},
		{"mongodb uri that is not one", map[string]string{"MONGODB_URI": "notauri"}, "MONGODB_URI"},
		{"mongodb uri with a bad option", map[string]string{"MONGODB_URI": "mongodb://127.0.0.1/?connectTimeoutMS=soon"}, "MONGODB_URI"},
		{"data dir nobody may create", map[string]string{"MONGODB_URI": "", "DATA_DIR": "/proc/nope"}, "DATA_DIR"},
		{"data dir that is a file", map[string]string{"MONGODB_URI": "", "DATA_DIR": file}, "DATA_DIR"},
		{"data dir FerretDB cannot name", map[string]string{"MONGODB_URI": "", "DATA_DIR": filepath.Join(t.TempDir(), "a#b")}, "DATA_DIR"},
		{"mongodb uri without an encryption key", map[string]string{"ENCRYPTION_KEY": ""}, "ENCRYPTION_KEY"},
		{"encryption key of 16 bytes", map[string]string{"ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZg=="}, "ENCRYPTION_KEY"},
		{"encryption key that is not base64", map[string]string{"ENCRYPTION_KEY": "not a key!"}, "ENCRYPTION_KEY"},
		{"data dir where no key can be kept", map[string]string{"MONGODB_URI": "", "ENCRYPTION_KEY": "", "DATA_DIR": file}, "DATA_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"PORT":             strconv.Itoa(freePort(t)),
				"REDIS_URL":        "", // in-process: no server needed to get this far
				"MONGODB_URI":      testMongoURI,
				"MONGODB_DATABASE": "t_" + randomHex(6),
				"BCRYPT_COST":      "4",
				"ENCRYPTION_KEY":   testEncryptionKey,
			}
			for k, v := range tt.env {
				env[k] = v
			}
			stderr := &syncBuffer{}
			err := runUntilItStops(t, env, stderr)
			if err == nil {
				t.Fatal("run returned nil")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.setting+"=") || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error %q, want one line starting with %s=", msg, tt.setting)
			}
			// main prints the error after run returns: nothing may follow it.
			logged := stderr.String()
			time.Sleep(200 * time.Millisecond)
			if after := strings.TrimPrefix(stderr.String(), logged); after != "" {
				t.Errorf("written to stderr after run returned: %q", after)
			}
		})
	}
}

// runUntilItStops runs the server with env and returns what run returned,
// failing t if it takes longer than startupLimit or panics.
func runUntilItStops(t *testing.T, env map[string]string, stderr io.Writer) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		err   error
		panic any
		stack []byte
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{panic: p, stack: debug.Stack()}
			}
		}()
		done <- outcome{err: run(ctx, nil, func(k string) string { return env[k] }, io.Discard, stderr)}
	}()
	select {
	case o := <-done:
		if o.panic != nil {
			t.Fatalf("run panicked: %v\n%s", o.panic, o.stack)
		}
		return o.err
	case <-time.After(startupLimit):
		cancel()
		<-done
		t.Fatalf("run did not stop within %v", startupLimit)
		return nil
	}
}

// A build without the in-process stores cannot start without their
// addresses. The process itself is checked: its exit status and its last
// line, which main writes.
func TestStartupWithoutStoreURLsInANoEmbeddedBuildExitsWithOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server")
	}
	bin := buildServer(t, "noembedded")

	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"neither", nil, "server: REDIS_URL and MONGODB_URI unset: "},
		{"no mongodb", []string{"REDIS_URL=redis://127.0.0.1:1"}, "server: MONGODB_URI unset: "},
		{"no redis", []string{"MONGODB_URI=" + testMongoURI, "ENCRYPTION_KEY=" + testEncryptionKey}, "server: REDIS_URL unset: "},
		{"bad redis url", []string{"REDIS_URL=ftp://x", "MONGODB_URI=" + testMongoURI}, `server: REDIS_URL="ftp://x": `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), startupLimit)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append([]string{"PORT=" + strconv.Itoa(freePort(t))}, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still running after %v\n%s", startupLimit, stderr.String())
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Fatalf("exit: %v, want a non-zero status\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(logMessage(last, "ERROR"), tt.want) {
				t.Errorf("last line on stderr %q, want an ERROR line whose message starts with %q\n%s", last, tt.want, stderr.String())
			}
			if strings.Contains(stderr.String(), "panic") {
				t.Errorf("stderr mentions a panic:\n%s", stderr.String())
			}
		})
	}
}

func TestStartupWithRedisUnreachableServesAndConnectsWhenItAppears(t *testing.T) {
	rs := redistest.Start(t)
	rs.Stop(t) // its port now has nothing listening
	ts := startServer(t, map[string]string{"REDIS_URL": rs.URL(), "STORE_TIMEOUT": "500ms"})

	ts.wantReadiness(t, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "redis": "unavailable", "mongodb": "ok"})
	c := ts.client(t)
	r := ts.gql(t, c, registerMutation, map[string]any{"i": map[string]any{"email": "u-" + randomHex(6) + "@example.com", "password": "correct horse battery", "name": "Early"}})
	if r.code() != "SERVICE_UNAVAILABLE" {
		t.Fatalf("register with Redis unreachable: %+v, want SERVICE_UNAVAILABLE", r.Errors)
	}

	rs.Restart(t)
	ts.awaitReady(t, 10*time.Second)
	ts.registerLoginAndRefuseTheEmailAgain(t)
}

func TestStartupWithMongoUnreachableServesAndCreatesIndexesWhenItAppears(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t)) // nothing listening yet
	uri := "mongodb://" + addr + "/"
	// Registered before the server's cleanup, so it runs after the server
	// has stopped: FerretDB's Close waits for open connections.
	var db *devstack.Mongo
	t.Cleanup(func() {
		if db != nil {
			db.Close()
		}
	})
	ts := startServer(t, map[string]string{"MONGODB_URI": uri, "STORE_TIMEOUT": "500ms"})

	ts.wantReadiness(t, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "redis": "ok", "mongodb": "unavailable"})
	c := ts.client(t)
	r := ts.gql(t, c, registerMutation, map[string]any{"i": map[string]any{"email": "u-" + randomHex(6) + "@example.com", "password": "correct horse battery", "name": "Early"}})
	if r.code() != "SERVICE_UNAVAILABLE" {
		t.Fatalf("register with MongoDB unreachable: %+v, want SERVICE_UNAVAILABLE", r.Errors)
	}

	var err error
	db, err = devstack.StartMongoAt(t.Context(), addr, t.TempDir(), nil)
	if err != nil {
		t.Fatalf("start FerretDB on %s: %v", addr, err)
	}
	ts.awaitReady(t, 10*time.Second)

	// Ready means indexed, not just answering.
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	database := client.Database(ts.Env["MONGODB_DATABASE"])
	for coll, want := range map[string][]string{
		"users":    {"email_unique"},
		"decks":    {"owner_created"},
		"cards":    {"owner_deck_id", "owner_deck_due", "owner_due"},
		"outbox":   {"failed_dueAt"},
		"passkeys": {"user_created"},
	} {
		have := indexNames(t, database.Collection(coll))
		for _, name := range want {
			if !slices.Contains(have, name) {
				t.Errorf("%s has indexes %v, want %s among them", coll, have, name)
			}
		}
	}
	ts.registerLoginAndRefuseTheEmailAgain(t)
}

// wantReadiness checks /readyz's status and body once.
func (ts *testServer) wantReadiness(t *testing.T, status int, body map[string]string) {
	t.Helper()
	gotStatus, gotBody := ts.readiness(t)
	if gotStatus != status || fmt.Sprint(gotBody) != fmt.Sprint(body) {
		t.Fatalf("/readyz: %d %v, want %d %v", gotStatus, gotBody, status, body)
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d, want 200 whatever the stores", resp.StatusCode)
	}
}

// awaitReady waits for /readyz to answer 200 with every store ok.
func (ts *testServer) awaitReady(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, body := ts.readiness(t)
		if status == http.StatusOK && body["status"] == "ok" && body["redis"] == "ok" && body["mongodb"] == "ok" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %v %v after the store appeared", status, body, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (ts *testServer) readiness(t *testing.T) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	return resp.StatusCode, body
}

// registerLoginAndRefuseTheEmailAgain is what a server needs both stores
// and the unique email index for.
func (ts *testServer) registerLoginAndRefuseTheEmailAgain(t *testing.T) {
	t.Helper()
	u, pw := ts.register(t, ts.client(t))
	c := ts.client(t)
	if r := ts.gql(t, c, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}}); len(r.Errors) > 0 {
		t.Fatalf("login: %+v", r.Errors)
	}
	if me := ts.me(t, c); me == nil || me.ID != u.ID {
		t.Fatalf("me after login = %+v, want %s", me, u.ID)
	}
	r := ts.gql(t, ts.client(t), registerMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": "another good password", "name": "Again"}})
	if r.code() != "EMAIL_TAKEN" {
		t.Fatalf("second register of %s: %+v, want EMAIL_TAKEN", u.Email, r.Errors)
	}
}

func indexNames(t *testing.T, coll *mongo.Collection) []string {
	t.Helper()
	cur, err := coll.Indexes().List(t.Context())
	if err != nil {
		t.Fatalf("list indexes of %s: %v", coll.Name(), err)
	}
	var specs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(t.Context(), &specs); err != nil {
		t.Fatalf("list indexes of %s: %v", coll.Name(), err)
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}
