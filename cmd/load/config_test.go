package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLoadGoesOnlyToLoopbackWithoutAllowRemote(t *testing.T) {
	tests := []struct {
		url     string
		allowed bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.5.5.5:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://LOCALHOST.:8080/graphql", true},
		{"https://127.0.0.1", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.168.1.1:8080", false},
		{"http://example.com", false},
		{"http://8.8.8.8", false},
		{"http://[::ffff:8.8.8.8]:80", false},
		{"http://[fe80::1]:80", false},
		{"http://0.0.0.0:8080", false},
		{"http://localhost.example.com", false},
		{"http://127.0.0.1.nip.io", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			urls, err := parseURLs([]string{tt.url})
			if err != nil {
				t.Fatal(err)
			}
			err = checkTarget(urls[0], false)
			if tt.allowed && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.allowed && !errors.Is(err, errNotLoopback) {
				t.Errorf("allowed without -allow-remote (err %v)", err)
			}
			if err := checkTarget(urls[0], true); err != nil {
				t.Errorf("refused with -allow-remote: %v", err)
			}
		})
	}
}

func TestRunRefusesRemoteURLBeforeSendingAnything(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"load", "-url", "http://127.0.0.1:1,http://10.0.0.1:8080", "-d", "1s"}, &stdout, &stderr)
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("run = %v, want the loopback refusal", err)
	}
	if stdout.Len() != 0 || strings.Contains(stderr.String(), "setup") {
		t.Errorf("something ran: stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// A name may resolve anywhere; the dialer checks the address it connects to.
func TestDialerRefusesNonLoopbackAddress(t *testing.T) {
	c := newClient(1, time.Second, false)
	// 192.0.2.1 is TEST-NET-1: the refusal comes before any packet is sent.
	_, err := c.Get("http://192.0.2.1:9/")
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("Get = %v, want the loopback refusal", err)
	}
	if kind := transportKind(err); kind != "non-loopback address refused" {
		t.Errorf("kind %q", kind)
	}
}

func TestURLFlagIsRepeatableAndCommaSeparated(t *testing.T) {
	cfg, _, err := parseFlags([]string{"load", "-url", "http://127.0.0.1:1, http://127.0.0.1:2/", "-url", "http://localhost:3/api"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range cfg.URLs {
		got = append(got, u.String())
	}
	want := "http://127.0.0.1:1/graphql http://127.0.0.1:2/graphql http://localhost:3/api"
	if strings.Join(got, " ") != want {
		t.Errorf("urls %v, want %s", got, want)
	}
}

func TestConfigDefaultsAndBounds(t *testing.T) {
	urls, _ := parseURLs([]string{"http://127.0.0.1:1"})
	base := func() config {
		return config{URLs: urls, Concurrency: 64, Duration: time.Second, Scenario: "decks", Password: "long enough", Timeout: time.Second}
	}
	cfg := base()
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Users != 32 || cfg.Decks != 20 || cfg.Cards != 50 || cfg.Client == nil {
		t.Errorf("defaults: users %d decks %d cards %d", cfg.Users, cfg.Decks, cfg.Cards)
	}
	if tr := cfg.Client.Transport.(*http.Transport); tr.MaxIdleConnsPerHost < cfg.Concurrency {
		t.Errorf("MaxIdleConnsPerHost %d < c %d", tr.MaxIdleConnsPerHost, cfg.Concurrency)
	}
	for name, mutate := range map[string]func(*config){
		"no duration":      func(c *config) { c.Duration = 0 },
		"over an hour":     func(c *config) { c.Duration = 2 * time.Hour },
		"no workers":       func(c *config) { c.Concurrency = 0 },
		"short password":   func(c *config) { c.Password = "short" },
		"unknown scenario": func(c *config) { c.Scenario = "nope" },
		"negative cap":     func(c *config) { c.MaxRequests = -1 },
		"timeline for ws":  func(c *config) { c.Scenario, c.Timeline = "ws", true },
		"verify for ws":    func(c *config) { c.Scenario, c.Verify = "ws", true },
		"verify for anon":  func(c *config) { c.Scenario, c.Verify = "anon", true },
	} {
		cfg := base()
		mutate(&cfg)
		if err := cfg.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestScenarioListPrintsEveryScenario(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"load", "-scenario", "list"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"anon", "me", "sessions", "decks", "login", "mixed", "ws", "sockets"} {
		if !strings.Contains(out.String(), "  "+name+" ") {
			t.Errorf("list lacks %s:\n%s", name, out.String())
		}
	}
}
