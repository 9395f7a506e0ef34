package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSocketsFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{"load", "-scenario", "sockets", "-c", "10000", "-users", "20",
		"-revoke", "1000", "-revoke-c", "32", "-revoke-at", "20s", "-server-pid", "1234", "-d", "15s"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Concurrency != 10000 || cfg.Users != 20 || cfg.Revoke != 1000 || cfg.RevokeConcurrency != 32 ||
		cfg.RevokeAt != 20*time.Second || cfg.ServerPID != 1234 || cfg.Duration != 15*time.Second {
		t.Errorf("parsed %+v", cfg)
	}
	cfg, _, err = parseFlags([]string{"load", "-scenario", "sockets", "-server-pid-file", "/tmp/x.pid"}, &bytes.Buffer{})
	if err != nil || cfg.ServerPIDFile != "/tmp/x.pid" {
		t.Errorf("-server-pid-file: %q, %v", cfg.ServerPIDFile, err)
	}
}

func TestSocketsConfigDefaultsAndBounds(t *testing.T) {
	one, _ := parseURLs([]string{"http://127.0.0.1:1"})
	two, _ := parseURLs([]string{"http://127.0.0.1:1,http://127.0.0.1:2"})
	base := func() config {
		return config{URLs: one, Concurrency: 10000, Users: 20, Duration: time.Second, Scenario: "sockets",
			Password: "long enough", Timeout: time.Second}
	}
	tests := []struct {
		name   string
		mutate func(*config)
		err    string // "" when valid
		revoke int    // defaults once valid
		inFly  int
	}{
		{name: "issue 13's run", mutate: func(c *config) { c.Revoke, c.RevokeConcurrency = 1000, 64 }, revoke: 1000, inFly: 64},
		{name: "defaults: a tenth, 64 in flight", mutate: func(*config) {}, revoke: 1000, inFly: 64},
		{name: "a tenth of 5 is at least 1", mutate: func(c *config) { c.Concurrency, c.Users = 5, 1 }, revoke: 1, inFly: 64},
		{name: "revoke every socket", mutate: func(c *config) { c.Revoke = 10000 }, revoke: 10000, inFly: 64},
		{name: "999 sessions per user and the revoker's fit", mutate: func(c *config) { c.Concurrency, c.Users = 999, 1 }, revoke: 99, inFly: 64},
		{name: "1000 per user do not", mutate: func(c *config) { c.Concurrency, c.Users = 1000, 1 }, err: "sessions per user"},
		{name: "10,000 over 10 users do not", mutate: func(c *config) { c.Users = 10 }, err: "sessions per user"},
		{name: "default users (32) fit 10,000", mutate: func(c *config) { c.Users = 0 }, revoke: 1000, inFly: 64},
		{name: "more revoked than sockets", mutate: func(c *config) { c.Revoke = 10001 }, err: "-revoke"},
		{name: "negative revoke", mutate: func(c *config) { c.Revoke = -1 }, err: "-revoke"},
		{name: "too many in flight", mutate: func(c *config) { c.RevokeConcurrency = maxRevokeConcurrency + 1 }, err: "-revoke-c"},
		{name: "release at 32s", mutate: func(c *config) { c.RevokeAt = 32 * time.Second }, revoke: 1000, inFly: 64},
		{name: "negative release time", mutate: func(c *config) { c.RevokeAt = -time.Second }, err: "-revoke-at"},
		{name: "negative pid", mutate: func(c *config) { c.ServerPID = -1 }, err: "-server-pid"},
		{name: "pid and pid file", mutate: func(c *config) { c.ServerPID, c.ServerPIDFile = 1, "x" }, err: "not both"},
		{name: "two instances", mutate: func(c *config) { c.URLs = two }, err: "one -url"},
		{name: "timeline", mutate: func(c *config) { c.Timeline = true }, err: "-timeline"},
		{name: "verify", mutate: func(c *config) { c.Verify = true }, err: "-verify"},
		{name: "over 10,000 sockets", mutate: func(c *config) { c.Concurrency = 10001 }, err: "-c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mutate(&cfg)
			err := cfg.validate()
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err %v, want one about %s", err, tt.err)
			case tt.err == "" && (cfg.Revoke != tt.revoke || cfg.RevokeConcurrency != tt.inFly):
				t.Errorf("revoke %d, %d in flight; want %d and %d", cfg.Revoke, cfg.RevokeConcurrency, tt.revoke, tt.inFly)
			}
		})
	}
}

func TestSessionsPerUserIsTheBusiestUsersShare(t *testing.T) {
	tests := []struct{ n, users, want int }{
		{10000, 20, 500},
		{10000, 32, 313},
		{50, 5, 10},
		{51, 5, 11},
		{3, 5, 1},
		{0, 5, 0},
		{10, 0, 0},
	}
	for _, tt := range tests {
		if got := sessionsPerUser(tt.n, tt.users); got != tt.want {
			t.Errorf("sessionsPerUser(%d, %d) = %d, want %d", tt.n, tt.users, got, tt.want)
		}
	}
}

func TestChoosePicksDistinctIndexesSpreadOverUsers(t *testing.T) {
	tests := []struct{ n, k, want int }{
		{10000, 1000, 1000},
		{50, 10, 10},
		{5, 5, 5},
		{5, 9, 5},
		{5, 0, 0},
		{0, 3, 0},
	}
	for _, tt := range tests {
		got := choose(tt.n, tt.k)
		if len(got) != tt.want || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("choose(%d, %d) = %d indexes (sorted %v), want %d distinct", tt.n, tt.k, len(got), slices.IsSorted(got), tt.want)
		}
		for _, i := range got {
			if i < 0 || i >= tt.n {
				t.Errorf("choose(%d, %d): index %d out of range", tt.n, tt.k, i)
			}
		}
	}
	// Socket i belongs to user i%20: a thousand picks reach every user.
	users := map[int]bool{}
	for _, i := range choose(10000, 1000) {
		users[i%20] = true
	}
	if len(users) != 20 {
		t.Errorf("1000 of 10000 sockets picked reach %d of 20 users", len(users))
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tserver\nVmPeak:\t 1300000 kB\nVmHWM:\t  600000 kB\nVmRSS:\t  512000 kB\nRssAnon:\t  500000 kB\n"
	tests := []struct {
		name   string
		status string
		want   int64
		err    bool
	}{
		{"a server's status", status, 512000 << 10, false},
		{"zero", "VmRSS:\t0 kB\n", 0, false},
		{"no VmRSS (kernel thread)", "Name:\tkthreadd\nState:\tS\n", 0, true},
		{"another unit", "VmRSS:\t5 MB\n", 0, true},
		{"not a number", "VmRSS:\tlots kB\n", 0, true},
		{"negative", "VmRSS:\t-5 kB\n", 0, true},
		{"VmRSSx is not VmRSS", "VmRSSx:\t5 kB\nVmRSS:\t7 kB\n", 7 << 10, false},
	}
	for _, tt := range tests {
		got, err := parseVmRSS(tt.status)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%s: %d, %v; want %d (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
	// This process's own.
	if rss, err := readVmRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("readVmRSS(self) = %d, %v", rss, err)
	}
}

func TestParsePID(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"1234\n", 1234, false},
		{"  42  ", 42, false},
		{"", 0, true},
		{"0", 0, true},
		{"-3", 0, true},
		{"12 34", 0, true},
		{"pid", 0, true},
	}
	for _, tt := range tests {
		got, err := parsePID(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parsePID(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestMetricValueReadsUnlabelledSamples(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 30042
# HELP graphql_active_subscriptions Open GraphQL subscriptions (sessionEnded).
graphql_active_subscriptions 10000
graphql_operations_total{operation="login",outcome="ok"} 10020
go_memstats_heap_inuse_bytes 1.2345678e+08
process_resident_memory_bytes 5.36870912e+08
weird_value NaN
`
	tests := []struct {
		name string
		want int64
	}{
		{"go_goroutines", 30042},
		{"graphql_active_subscriptions", 10000},
		{"go_memstats_heap_inuse_bytes", 123456780},
		{"process_resident_memory_bytes", 536870912},
		{"graphql_operations_total", -1}, // labelled only
		{"go_gorout", -1},                // a prefix is not the name
		{"weird_value", -1},
		{"absent", -1},
	}
	for _, tt := range tests {
		if got := metricValue(text, tt.name); got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestNewProbeResolvesThePID(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pid")
	bad := filepath.Join(dir, "bad.pid")
	if err := os.WriteFile(good, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	urls, _ := parseURLs([]string{"http://127.0.0.1:1/graphql?x=1"})
	tests := []struct {
		name   string
		pid    int
		file   string
		want   int
		source string
		err    bool
	}{
		{name: "no pid: the metrics' RSS", source: "/metrics process_resident_memory_bytes"},
		{name: "-server-pid", pid: os.Getpid(), want: os.Getpid(), source: fmt.Sprintf("/proc/%d/status VmRSS", os.Getpid())},
		{name: "-server-pid-file", file: good, want: os.Getpid(), source: fmt.Sprintf("/proc/%d/status VmRSS", os.Getpid())},
		{name: "a file without a pid", file: bad, err: true},
		{name: "a missing file", file: filepath.Join(dir, "missing"), err: true},
		{name: "no such process", pid: 1 << 30, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newProbe(config{URLs: urls, ServerPID: tt.pid, ServerPIDFile: tt.file}, &gqlClient{})
			if tt.err {
				if err == nil {
					t.Fatalf("accepted, pid %d", p.pid)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.pid != tt.want || p.rssSource() != tt.source || p.metrics != "http://127.0.0.1:1/metrics" {
				t.Errorf("pid %d, source %q, metrics %s", p.pid, p.rssSource(), p.metrics)
			}
		})
	}
}

func TestProbeSample(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "go_goroutines 12\ngraphql_active_subscriptions 3\nprocess_resident_memory_bytes 4096\n")
	}))
	defer srv.Close()
	urls, _ := parseURLs([]string{srv.URL})
	cl := &gqlClient{http: srv.Client(), timeout: 5 * time.Second}
	tests := []struct {
		name string
		pid  int
		url  string
		want func(serverSample) bool
	}{
		{name: "metrics only", url: srv.URL, want: func(s serverSample) bool {
			return s == serverSample{rss: 4096, goroutines: 12, heap: -1, stack: -1, subscriptions: 3}
		}},
		{name: "pid: VmRSS, not the metrics' RSS", pid: os.Getpid(), url: srv.URL, want: func(s serverSample) bool {
			return s.rss > 4096 && s.goroutines == 12 && s.subscriptions == 3
		}},
		{name: "no metrics, no pid", url: "http://127.0.0.1:1", want: func(s serverSample) bool {
			return s == serverSample{rss: -1, goroutines: -1, heap: -1, stack: -1, subscriptions: -1}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			urls, _ = parseURLs([]string{tt.url})
			p, err := newProbe(config{URLs: urls, ServerPID: tt.pid}, cl)
			if err != nil {
				t.Fatal(err)
			}
			if s := p.sample(context.Background()); !tt.want(s) {
				t.Errorf("sample %+v", s)
			}
		})
	}
}

func TestSocketsTallyAndTargets(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// revoked: sent at 0, answered at 10 ms.
	revoked := func(eventMs, closeMs int) *subscriber {
		s := &subscriber{want: "REVOKED", ended: true, endSentAt: at(0), endedAt: at(10)}
		if eventMs >= 0 {
			s.eventAt, s.reason, s.completed = at(eventMs), "REVOKED", true
		}
		if closeMs >= 0 {
			s.closed4403, s.closedAt = true, at(closeMs)
		}
		return s
	}
	quiet := &subscriber{}
	tests := []struct {
		name  string
		subs  []*subscriber
		check func(t *testing.T, sr *socketsResult)
		met   []bool // rss, event p99, close, others
	}{
		{
			name: "all well",
			subs: []*subscriber{revoked(20, 30), revoked(5, 40), quiet, quiet},
			check: func(t *testing.T, sr *socketsResult) {
				if sr.Revoked != 2 || sr.Events != 2 || sr.Lost != 0 || sr.Closed4403 != 2 || sr.NotClosed != 0 || sr.Others != 2 || sr.OthersDisturbed != 0 {
					t.Errorf("%+v", sr)
				}
				if sr.BeforeResponse != 1 || sr.EventLatency.Max != 10 || sr.EventLatency.P50 != 0 || sr.EventFromRequest.Max != 20 || sr.CloseLatency.Max != 30 {
					t.Errorf("event %+v from request %+v close %+v, %d before the response", sr.EventLatency, sr.EventFromRequest, sr.CloseLatency, sr.BeforeResponse)
				}
			},
			met: []bool{true, true, true, true},
		},
		{
			name: "a lost event, a late close, an event on another socket",
			subs: []*subscriber{revoked(-1, -1), revoked(300, 1500), {eventAt: at(20), reason: "REVOKED"}, quiet},
			check: func(t *testing.T, sr *socketsResult) {
				if sr.Lost != 1 || sr.NotClosed != 1 || sr.OthersDisturbed != 1 || sr.Unexpected["other socket: next REVOKED"] != 1 {
					t.Errorf("%+v", sr)
				}
			},
			met: []bool{true, false, false, false},
		},
		{
			name: "an event with another reason counts, but misses the target",
			subs: []*subscriber{revoked(20, 30), {want: "REVOKED", ended: true, endSentAt: at(0), endedAt: at(10), eventAt: at(12), reason: "EXPIRED", completed: true, closed4403: true, closedAt: at(13)}},
			check: func(t *testing.T, sr *socketsResult) {
				if sr.Events != 2 || sr.Lost != 0 || sr.Reasons["EXPIRED"] != 1 || sr.Unexpected["revoked socket: reason EXPIRED, want REVOKED"] != 1 {
					t.Errorf("%+v", sr)
				}
			},
			met: []bool{true, false, true, true},
		},
		{
			name: "a failed revocation is neither revoked nor another socket",
			subs: []*subscriber{{want: "REVOKED"}, revoked(20, 30), {unexpected: []string{"closed: close 1001 "}, closedAt: at(5)}},
			check: func(t *testing.T, sr *socketsResult) {
				if sr.RevokeFailed != 1 || sr.Revoked != 1 || sr.Others != 1 || sr.OthersDisturbed != 1 ||
					sr.Unexpected["other socket: closed: close 1001 "] != 1 {
					t.Errorf("%+v", sr)
				}
			},
			met: []bool{true, true, true, false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr := &socketsResult{Sockets: len(tt.subs), Subscribed: len(tt.subs), Reasons: map[string]int64{}, Unexpected: map[string]int64{}}
			sr.Server.RSSSource = "test"
			sr.Server.fill(serverSample{rss: 100 << 20}, serverSample{rss: 100<<20 + int64(len(tt.subs))*40000}, len(tt.subs))
			sr.tally(tt.subs)
			tt.check(t, sr)
			if sr.Server.RSSPerSocket != 40000 {
				t.Errorf("RSS per socket %v", sr.Server.RSSPerSocket)
			}
			var met []bool
			for _, tg := range sr.targets() {
				met = append(met, tg.Met)
			}
			if !slices.Equal(met, tt.met) {
				t.Errorf("targets met %v, want %v: %+v", met, tt.met, sr.targets())
			}
		})
	}
}

func TestPerSocket(t *testing.T) {
	tests := []struct {
		before, after int64
		n             int
		unit          float64
		suffix, want  string
	}{
		{22, 60024, 10000, 1, "", "6.0"},
		{9 << 20, 9<<20 + 10000*30*1024, 10000, 1024, " KiB", "30.0 KiB"},
		{-1, 5, 10, 1, "", "?"},
		{5, -1, 10, 1, "", "?"},
		{5, 7, 0, 1, "", "?"},
		{10, 5, 5, 1, "", "-1.0"},
	}
	for _, tt := range tests {
		if got := perSocket(tt.before, tt.after, tt.n, tt.unit, tt.suffix); got != tt.want {
			t.Errorf("perSocket(%d, %d, %d) = %q, want %q", tt.before, tt.after, tt.n, got, tt.want)
		}
	}
}

func TestServerUsageWithoutRSS(t *testing.T) {
	tests := []struct {
		name          string
		before, after serverSample
		source        string
		perSocket     float64
	}{
		{"both read", serverSample{rss: 1000}, serverSample{rss: 1000 + 3*65536}, "x", 65536},
		{"shrank", serverSample{rss: 2000}, serverSample{rss: 1000}, "x", -333.3},
		{"before unknown", serverSample{rss: -1}, serverSample{rss: 1000}, "", 0},
		{"after unknown", serverSample{rss: 1000}, serverSample{rss: -1}, "", 0},
	}
	for _, tt := range tests {
		u := serverUsage{RSSSource: "x"}
		u.fill(tt.before, tt.after, 3)
		if u.RSSSource != tt.source || u.RSSPerSocket != tt.perSocket {
			t.Errorf("%s: source %q, per socket %v; want %q, %v", tt.name, u.RSSSource, u.RSSPerSocket, tt.source, tt.perSocket)
		}
	}
	sr := &socketsResult{Server: serverUsage{}}
	if tg := sr.targets()[0]; tg.Met || tg.Got != "not measured" {
		t.Errorf("unmeasured RSS: %+v", tg)
	}
}

func TestSocketsRunRefusesABadPIDBeforeSetup(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"load", "-url", "http://127.0.0.1:1", "-scenario", "sockets", "-c", "10", "-server-pid", fmt.Sprint(1 << 30)}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "server pid") {
		t.Fatalf("run = %v, want the pid refused", err)
	}
	if errors.Is(err, errNotLoopback) || strings.Contains(stderr.String(), "setup") {
		t.Errorf("stderr %q", stderr.String())
	}
}
