package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/redistest"
)

// testEncryptionKey is ENCRYPTION_KEY for servers with MONGODB_URI set
// (32 bytes, base64).
const testEncryptionKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// testMongoURI is the in-process FerretDB that every test in this package
// shares; each test gets a database of its own (MONGODB_DATABASE).
var testMongoURI string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "server-test-mongo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mongo, err := devstack.StartMongo(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, "start FerretDB:", err)
		os.Exit(1)
	}
	testMongoURI = mongo.URI()
	code := m.Run()
	mongo.Close()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// testServer is the whole server, started through run() with its own
// redis-server and database, listening on a free port.
type testServer struct {
	URL   string
	Redis *redistest.Server // nil on a cluster or an outside Redis
	// Cluster is set when the suite runs on a Redis Cluster (TEST_REDIS=cluster).
	Cluster *redistest.Cluster
	Env     map[string]string
	logs    *syncBuffer

	stopOnce sync.Once
	stopErr  error
	cancel   context.CancelFunc
	done     chan error
}

// Stop shuts the server down as SIGTERM would and returns what run returned.
func (ts *testServer) Stop(t testing.TB) error {
	t.Helper()
	ts.stopOnce.Do(func() {
		ts.cancel()
		select {
		case ts.stopErr = <-ts.done:
		case <-time.After(20 * time.Second):
			ts.stopErr = fmt.Errorf("server did not stop within 20s")
		}
	})
	return ts.stopErr
}

// startServer runs the server with test defaults overridden by env.
// Without REDIS_URL in env it starts a redis-server of its own.
func startServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	return startServerWith(t, env)
}

// startServerWith is startServer with run's options (withTracerProvider).
func startServerWith(t testing.TB, env map[string]string, opts ...runOption) *testServer {
	t.Helper()
	ts := &testServer{logs: &syncBuffer{}, Env: map[string]string{
		"PORT":             strconv.Itoa(freePort(t)),
		"MONGODB_URI":      testMongoURI,
		"MONGODB_DATABASE": "t_" + randomHex(6),
		"BCRYPT_COST":      "4",
		"STORE_TIMEOUT":    "5s",
		"CORS_ORIGINS":     "http://app.test:5173",
		"SHUTDOWN_TIMEOUT": "5s",
		"ENCRYPTION_KEY":   testEncryptionKey,
	}}
	for k, v := range env {
		ts.Env[k] = v
	}
	if _, ok := env["REDIS_URL"]; !ok {
		if onCluster() {
			ts.Cluster = redistest.StartCluster(t, 3, 0)
			ts.Env["REDIS_URL"] = ts.Cluster.URL()
		} else {
			ts.Redis = redistest.Start(t)
			ts.Env["REDIS_URL"] = ts.Redis.URL()
		}
	}
	ts.URL = "http://127.0.0.1:" + ts.Env["PORT"]

	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel, ts.done = cancel, make(chan error, 1)
	go func() {
		ts.done <- run(ctx, nil, func(k string) string { return ts.Env[k] }, io.Discard, ts.logs, opts...)
	}()
	done := ts.done
	t.Cleanup(func() {
		if err := ts.Stop(t); err != nil {
			t.Errorf("run returned: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-done:
			ts.stopOnce.Do(func() { ts.stopErr = err })
			t.Fatalf("server exited at start: %v\n%s", err, ts.logs.String())
		default:
		}
		resp, err := http.Get(ts.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return ts
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer /healthz within 20s\n%s", ts.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client is a browser-like client with its own cookie jar.
func (ts *testServer) client(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// gqlResponse is a GraphQL answer with the HTTP response it came in.
type gqlResponse struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
	HTTP   *http.Response             `json:"-"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// code returns the first error's extensions.code, or "".
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// decode unmarshals data[field] into v.
func (r gqlResponse) decode(t testing.TB, field string, v any) {
	t.Helper()
	raw, ok := r.Data[field]
	if !ok {
		t.Fatalf("no data.%s in response (errors: %+v)", field, r.Errors)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode data.%s: %v", field, err)
	}
}

// gql POSTs a GraphQL operation as JSON.
func (ts *testServer) gql(t testing.TB, c *http.Client, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return ts.do(t, c, req)
}

func (ts *testServer) do(t testing.TB, c *http.Client, req *http.Request) gqlResponse {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := gqlResponse{HTTP: resp}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON (status %d): %q", resp.StatusCode, raw)
	}
	return out
}

// sessionCookie returns the cookie the jar holds for the server, or "".
func (ts *testServer) sessionCookie(t testing.TB, c *http.Client) string {
	t.Helper()
	name := ts.Env["SESSION_COOKIE_NAME"]
	if name == "" {
		name = "sid"
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL, nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

const (
	registerMutation = `mutation($i: RegisterInput!) { register(input: $i) { id email name createdAt } }`
	loginMutation    = `mutation($i: LoginInput!) { login(input: $i) { id email name } }`
	logoutMutation   = `mutation { logout }`
	meQuery          = `{ me { id email name createdAt } }`
)

type user struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
}

// register signs up a fresh user with c and returns it and its password.
func (ts *testServer) register(t testing.TB, c *http.Client) (user, string) {
	t.Helper()
	email := "u-" + randomHex(6) + "@example.com"
	password := "correct horse " + randomHex(4)
	r := ts.gql(t, c, registerMutation, map[string]any{"i": map[string]any{"email": email, "password": password, "name": "Test User"}})
	if len(r.Errors) > 0 {
		t.Fatalf("register: %+v", r.Errors)
	}
	var u user
	r.decode(t, "register", &u)
	return u, password
}

// me returns the signed-in user, or nil.
func (ts *testServer) me(t testing.TB, c *http.Client) *user {
	t.Helper()
	r := ts.gql(t, c, meQuery, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("me: %+v", r.Errors)
	}
	var u *user
	r.decode(t, "me", &u)
	return u
}

// withCookie is a client that sends exactly the given cookie, no jar.
func (ts *testServer) withCookie(t testing.TB, name, value string) *http.Client {
	t.Helper()
	return &http.Client{Timeout: 20 * time.Second, Transport: cookieTransport{name: name, value: value}}
}

type cookieTransport struct{ name, value string }

func (c cookieTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Cookie", c.name+"="+c.value)
	return http.DefaultTransport.RoundTrip(r)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// syncBuffer collects the server's log lines from several goroutines.
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

// setCookies returns the response's Set-Cookie headers for name.
func setCookies(resp *http.Response, name string) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

func rawSetCookie(resp *http.Response, name string) string {
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}

func hostPort(t testing.TB, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}

// onCluster reports whether this run puts every server on a real
// three-master Redis Cluster (TEST_REDIS=cluster; CI runs the suite both
// ways).
func onCluster() bool { return os.Getenv("TEST_REDIS") == "cluster" }

// needSingleRedis skips the rest of a test that stops and restarts one
// redis-server; on a cluster, TestClusterFailover covers losing a node.
func (ts *testServer) needSingleRedis(t testing.TB) {
	t.Helper()
	if ts.Redis == nil {
		t.Skip("stops a single redis-server; not on a cluster")
	}
}

// redisView is the test's own client of the server's Redis, single or
// cluster, with the few whole-database looks the tests need.
type redisView struct {
	redis.UniversalClient
	cluster bool
}

func redisClient(t testing.TB, ts *testServer) *redisView {
	t.Helper()
	var addrs []string
	for _, u := range strings.Split(ts.Env["REDIS_URL"], ",") {
		opt, err := redis.ParseURL(strings.TrimSpace(u))
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, opt.Addr)
	}
	v := &redisView{cluster: len(addrs) > 1}
	if v.cluster {
		v.UniversalClient = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	} else {
		v.UniversalClient = redis.NewClient(&redis.Options{Addr: addrs[0]})
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// eachNode runs f on the single server or on every cluster master.
func (v *redisView) eachNode(t testing.TB, f func(c *redis.Client) error) {
	t.Helper()
	ctx := context.Background()
	var err error
	if cc, ok := v.UniversalClient.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return f(c) })
	} else {
		err = f(v.UniversalClient.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// keys lists the keys matching pattern on every node.
func (v *redisView) keys(t testing.TB, pattern string) []string {
	t.Helper()
	var mu sync.Mutex
	var out []string
	v.eachNode(t, func(c *redis.Client) error {
		ks, err := c.Keys(context.Background(), pattern).Result()
		mu.Lock()
		out = append(out, ks...)
		mu.Unlock()
		return err
	})
	return out
}

// dataCommands counts the commands Redis has run on data, summed over the
// nodes: everything in INFO commandstats but the clients' own bookkeeping
// (INFO, PING, CLUSTER, HELLO, CLIENT, COMMAND, READONLY).
func (v *redisView) dataCommands(t testing.TB) int64 {
	t.Helper()
	var mu sync.Mutex
	var total int64
	v.eachNode(t, func(c *redis.Client) error {
		info, err := c.Info(context.Background(), "commandstats").Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(info, "\r\n") {
			name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
			if !ok || !strings.HasPrefix(line, "cmdstat_") {
				continue
			}
			switch strings.SplitN(name, "|", 2)[0] {
			case "info", "ping", "cluster", "hello", "client", "command", "readonly", "select":
				continue
			}
			for _, f := range strings.Split(rest, ",") {
				if n, ok := strings.CutPrefix(f, "calls="); ok {
					calls, _ := strconv.ParseInt(n, 10, 64)
					mu.Lock()
					total += calls
					mu.Unlock()
				}
			}
		}
		return nil
	})
	return total
}

// awaitMailSent waits until the server's outbox is empty and no mail is
// being sent (no lease left in Redis): the mail a registration queued has
// gone out, so the requests a test counts afterwards are alone on the
// stores.
func (ts *testServer) awaitMailSent(t testing.TB) {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(ts.Env["MONGODB_URI"]))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	outbox := client.Database(ts.Env["MONGODB_DATABASE"]).Collection("outbox")
	rdb := redisClient(t, ts)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := outbox.CountDocuments(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && len(rdb.keys(t, "mail-lease:*")) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox still holds %d mails after 10s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
