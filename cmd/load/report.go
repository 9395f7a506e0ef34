package main

import (
	"fmt"
	"io"
	"strings"
)

// result is what a run measured; -json prints it as one object.
type result struct {
	Scenario        string   `json:"scenario"`
	URLs            []string `json:"urls"`
	Concurrency     int      `json:"concurrency"`
	Users           int      `json:"users"`
	WarmupSeconds   float64  `json:"warmup_s"`
	DurationSeconds float64  `json:"duration_s"`
	SetupSeconds    float64  `json:"setup_s"`
	// MeasuredSeconds is the window the rates are over: the duration, or
	// less when -max-requests or an interrupt ended the run early.
	MeasuredSeconds float64 `json:"measured_s"`
	Interrupted     bool    `json:"interrupted,omitempty"`

	// Requests are those sent inside the measured window (HTTP scenarios)
	// or that completed in it (ws), each counted once it came back.
	Requests  int64          `json:"requests"`
	OK        int64          `json:"ok"`
	Failed    int64          `json:"failed"`
	PerSecond float64        `json:"requests_per_s"`
	Latency   latencySummary `json:"latency"`

	HTTPStatus    map[string]int64 `json:"http_status"`      // non-2xx responses by status
	GraphQLErrors map[string]int64 `json:"graphql_errors"`   // by extensions.code
	Checks        map[string]int64 `json:"check_failures"`   // e.g. signed-out
	Transport     map[string]int64 `json:"transport_errors"` // by kind

	// Delivery compares the requests sent with those answered (HTTP
	// scenarios only).
	Delivery *delivery `json:"delivery,omitempty"`
	// Timeline is the window second by second, with -timeline.
	Timeline []secondResult `json:"timeline,omitempty"`
	// Verify is what the users looked like after the window, with -verify.
	Verify *verifyResult `json:"verify,omitempty"`

	Ops map[string]opResult `json:"ops"` // per operation
	WS  *wsResult           `json:"ws,omitempty"`
	// Sockets is the sockets scenario's figures; Requests and the
	// figures with it are then its revokeSession requests.
	Sockets *socketsResult `json:"sockets,omitempty"`
}

// delivery is whether every request sent got an HTTP answer.
type delivery struct {
	Sent     int64 `json:"sent"`     // counted as they went out, inside the measured window
	Answered int64 `json:"answered"` // of those, how many came back with a complete HTTP response
	// Lost is sent minus answered: transport errors (timeouts, resets,
	// refused connections) and any request that never came back.
	Lost int64 `json:"lost"`
}

// secondResult is one second of the measured window: the requests sent in
// it, each under one kind of outcome.
type secondResult struct {
	Second      int     `json:"t_s"` // seconds from the start of the window
	At          string  `json:"at"`  // the wall clock then, 15:04:05
	Sent        int64   `json:"sent"`
	OK          int64   `json:"ok"`
	Unavailable int64   `json:"unavailable"`    // answered SERVICE_UNAVAILABLE
	Checks      int64   `json:"check_failures"` // answered, but wrong (e.g. signed-out)
	Other       int64   `json:"other"`          // any other failed answer
	Lost        int64   `json:"lost"`           // no HTTP answer
	MaxMs       float64 `json:"max_ms"`         // slowest request sent in this second
	// UnavailableMaxMs is the slowest SERVICE_UNAVAILABLE answer: how long
	// a client waited to learn that a store was down.
	UnavailableMaxMs float64 `json:"unavailable_max_ms"`
}

// verifyResult is the state of the run's users after the window.
type verifyResult struct {
	Users int `json:"users"`
	// Live counts users whose session from setup still answers me as
	// themselves (same email).
	Live int `json:"sessions_live"`
	// SignIns counts users who could sign in with their password again.
	SignIns  int              `json:"sign_ins"`
	Failures map[string]int64 `json:"failures"` // "me: signed-out", "login: SERVICE_UNAVAILABLE", ...
}

// opResult is one operation's share of a run.
type opResult struct {
	Requests  int64          `json:"requests"`
	Failed    int64          `json:"failed"`
	PerSecond float64        `json:"per_s"`
	Latency   latencySummary `json:"latency"`
}

func newResult(cfg config) result {
	urls := make([]string, len(cfg.URLs))
	for i, u := range cfg.URLs {
		urls[i] = u.String()
	}
	return result{
		Scenario:        cfg.Scenario,
		URLs:            urls,
		Concurrency:     cfg.Concurrency,
		Users:           cfg.Users,
		WarmupSeconds:   seconds(cfg.Warmup),
		DurationSeconds: seconds(cfg.Duration),
		HTTPStatus:      map[string]int64{},
		GraphQLErrors:   map[string]int64{},
		Checks:          map[string]int64{},
		Transport:       map[string]int64{},
		Ops:             map[string]opResult{},
	}
}

// printReport writes r for people.
func printReport(w io.Writer, r result) {
	fmt.Fprintf(w, "scenario %s  c=%d  users=%d  warmup %gs  duration %gs  %s\n",
		r.Scenario, r.Concurrency, r.Users, r.WarmupSeconds, r.DurationSeconds, strings.Join(r.URLs, ","))
	if r.SetupSeconds > 0 {
		fmt.Fprintf(w, "  setup        %.1fs\n", r.SetupSeconds)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "  INTERRUPTED: partial figures")
	}
	unit := "req/s"
	if r.Scenario == "login" {
		unit = "logins/s"
	}
	label := "requests"
	if r.WS != nil {
		label = "ending reqs"
	}
	if r.Sockets != nil {
		label = "revocations"
	}
	fmt.Fprintf(w, "  %-12s %d in %.2fs = %.1f %s (ok %d, failed %d)\n", label, r.Requests, r.MeasuredSeconds, r.PerSecond, unit, r.OK, r.Failed)
	if d := r.Delivery; d != nil {
		fmt.Fprintf(w, "  %-12s sent %d, answered %d, lost %d (no HTTP answer)\n", "delivery", d.Sent, d.Answered, d.Lost)
	}
	fmt.Fprintf(w, "  %-12s %s\n", "latency", latencyText(r.Latency))
	if len(r.Ops) > 1 {
		for _, op := range sortedKeys(r.Ops) {
			o := r.Ops[op]
			fmt.Fprintf(w, "    %-14s %8d  %9.1f/s  failed %d  %s\n", op, o.Requests, o.PerSecond, o.Failed, latencyText(o.Latency))
		}
	}
	fmt.Fprintf(w, "  %-12s %s\n", "non-2xx", countsText(r.HTTPStatus))
	fmt.Fprintf(w, "  %-12s %s\n", "gql errors", countsText(r.GraphQLErrors))
	fmt.Fprintf(w, "  %-12s %s\n", "checks", countsText(r.Checks))
	fmt.Fprintf(w, "  %-12s %s\n", "transport", countsText(r.Transport))
	if ws := r.WS; ws != nil {
		fmt.Fprintf(w, "  %-12s opened %d (failed %d: %s)\n", "subscribe", ws.Subscriptions, ws.OpenFailed, countsText(ws.OpenFailures))
		fmt.Fprintf(w, "  %-12s %d ended (%d failed)\n", "sessions", ws.Revocations, ws.RevocationsFailed)
		fmt.Fprintf(w, "  %-12s received %d, lost %d, reasons %s\n", "events", ws.Events, ws.Lost, countsText(ws.Reasons))
		fmt.Fprintf(w, "  %-12s complete %d, closed 4403 %d, unexpected %s\n", "after event", ws.Completes, ws.Closed4403, countsText(ws.Unexpected))
		fmt.Fprintf(w, "  %-12s %s (from the ending response; %d came before it)\n", "event delay", latencyText(ws.Latency), ws.BeforeResponse)
		fmt.Fprintf(w, "  %-12s %s (from sending the ending request)\n", "", latencyText(ws.FromRequest))
	}
	if r.Sockets != nil {
		printSockets(w, r.Sockets)
	}
	if v := r.Verify; v != nil {
		fmt.Fprintf(w, "  %-12s %d/%d sessions answer me as their user, %d/%d users sign in; failures %s\n",
			"after", v.Live, v.Users, v.SignIns, v.Users, countsText(v.Failures))
	}
	if len(r.Timeline) > 0 {
		printTimeline(w, r.Timeline)
	}
}

// printTimeline writes the window second by second.
func printTimeline(w io.Writer, tl []secondResult) {
	fmt.Fprintln(w, "  timeline     by the second a request was sent")
	fmt.Fprintf(w, "    %5s  %-8s  %7s  %7s  %7s  %7s  %7s  %7s  %9s  %11s\n",
		"t", "at", "sent", "ok", "unavail", "checks", "other", "lost", "max ms", "unavail max")
	for _, s := range tl {
		fmt.Fprintf(w, "    %4ds  %-8s  %7d  %7d  %7d  %7d  %7d  %7d  %9.1f  %11.1f\n",
			s.Second, s.At, s.Sent, s.OK, s.Unavailable, s.Checks, s.Other, s.Lost, s.MaxMs, s.UnavailableMaxMs)
	}
}

func latencyText(l latencySummary) string {
	return fmt.Sprintf("p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms", l.P50, l.P90, l.P99, l.Max)
}

func countsText(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
