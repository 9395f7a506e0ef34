// Command load drives a running sessiongql server with concurrent GraphQL
// traffic over real HTTP keep-alive connections (and websockets for the ws
// scenario) and reports throughput, latency percentiles, requests sent
// without an answer, and errors by HTTP status, GraphQL extensions.code and
// transport failure.
//
// It signs its own users up through the API, sends load only to loopback
// addresses unless -allow-remote is given, and always stops by itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// run parses args, runs the load and prints the result to stdout; setup
// progress goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, out, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.Scenario == "list" {
		printScenarios(stdout)
		return nil
	}
	cfg.Progress = stderr
	res, err := execute(ctx, cfg)
	if err != nil {
		return err
	}
	if out.jsonFile != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("encode the result: %w", err)
		}
		if err := os.WriteFile(out.jsonFile, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("-json-file: %w", err)
		}
	}
	if out.json {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	printReport(stdout, res)
	return nil
}

// output is where the result goes besides the report on stdout.
type output struct {
	json     bool   // stdout gets JSON instead of the report
	jsonFile string // also written here as JSON
}

// urlList is a repeatable flag whose values may also be comma-separated.
type urlList []string

func (u *urlList) String() string     { return strings.Join(*u, ",") }
func (u *urlList) Set(s string) error { *u = append(*u, s); return nil }

func parseFlags(args []string, stderr io.Writer) (config, output, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var urls urlList
	var out output
	fs.Var(&urls, "url", "server base `URL`, or its GraphQL endpoint; repeat or comma-separate to spread workers\nround-robin over several instances (a session made on one is used on all) (default http://127.0.0.1:8080)")
	fs.IntVar(&cfg.Concurrency, "c", 32, "concurrent workers, each one keep-alive connection issuing requests back to back\n(ws, sockets: subscriptions, each on its own socket)")
	fs.DurationVar(&cfg.Duration, "d", 10*time.Second, "measured duration (at most 1h); sockets: the longest wait for events and closes")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "load before measuring, not counted")
	fs.StringVar(&cfg.Scenario, "scenario", "me", "what to send; list prints them")
	fs.IntVar(&cfg.Users, "users", 0, "signed-in users to create in setup (default min(c, 32))")
	fs.StringVar(&cfg.Password, "password", "load-password-1", "password of the created users")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow load to addresses outside loopback (127.0.0.0/8, ::1, localhost)")
	fs.StringVar(&cfg.Origin, "origin", "", "Origin header to send on every request and websocket upgrade")
	fs.Int64Var(&cfg.MaxRequests, "max-requests", 0, "stop after about this many operations after warmup (ws: sessions ended); 0: only -d")
	fs.IntVar(&cfg.Decks, "decks", 0, "decks per user created in setup for decks (default 20) and mixed (default 3)")
	fs.IntVar(&cfg.Cards, "cards", 0, "cards per deck for decks (default 50) and mixed (default 20)")
	fs.BoolVar(&cfg.Timeline, "timeline", false, "also report the window second by second, by the second each request was sent:\n"+
		"ok, SERVICE_UNAVAILABLE, failed checks, other failures, lost (no HTTP answer), slowest;\n"+
		"the window then starts on a whole second of the clock (not for ws or sockets)")
	fs.BoolVar(&cfg.Verify, "verify", false, "after the window, ask me with every user's session from setup and sign every\n"+
		"user in again, once each, and report how many answered (not for ws, sockets or anon)")
	fs.IntVar(&cfg.Revoke, "revoke", 0, "sockets: sessions revoked at once (default -c/10)")
	fs.IntVar(&cfg.RevokeConcurrency, "revoke-c", 0, "sockets: revokeSession requests in flight at once (default 64)")
	fs.DurationVar(&cfg.RevokeAt, "revoke-at", 0, "sockets: release the revocations no sooner than this after the first socket opened\n(default: as soon as the server counts every subscription, -warmup and the memory reading are done)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "sockets: the server's `pid`, to read its VmRSS from /proc (default: process_resident_memory_bytes from /metrics)")
	fs.StringVar(&cfg.ServerPIDFile, "server-pid-file", "", "sockets: a `file` holding the server's pid, instead of -server-pid")
	fs.BoolVar(&out.json, "json", false, "print the result as one JSON object")
	fs.StringVar(&out.jsonFile, "json-file", "", "also write the result as JSON to `path`")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprint(out, `Usage: load [flags]

Drives a sessiongql server with concurrent GraphQL requests and reports
requests/s, latency p50/p90/p99/max, requests sent, answered and lost (no HTTP
answer), non-2xx responses by status, GraphQL errors by extensions.code,
transport errors by kind, and the result as JSON with -json. Setup registers
its own users (load-<random>@example.com).

  go run ./cmd/load -url http://127.0.0.1:8080 -c 32 -d 10s -scenario me

The server throttles registrations per client address (REGISTER_LIMIT_PER_IP,
default 10 per hour): start it for load runs with e.g.
  REGISTER_LIMIT_PER_IP=100000 go run .
Load goes only to loopback unless -allow-remote; every run ends after
-warmup plus -d (plus setup), or sooner with -max-requests.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintln(out, "\nScenarios:")
		printScenarios(out)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return cfg, out, err
	}
	if fs.NArg() > 0 {
		return cfg, out, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if len(urls) == 0 {
		urls = urlList{"http://127.0.0.1:8080"}
	}
	var err error
	if cfg.URLs, err = parseURLs(urls); err != nil {
		return cfg, out, err
	}
	return cfg, out, nil
}

func printScenarios(w io.Writer) {
	for _, s := range scenarios {
		fmt.Fprintf(w, "  %-9s %s\n", s.name, strings.ReplaceAll(s.doc, "\n", "\n            "))
	}
}
