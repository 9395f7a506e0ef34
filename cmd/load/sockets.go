package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The targets of issue 13 that the sockets scenario reports against.
const (
	targetRSSPerSocket = 64 << 10               // bytes of server RSS per subscribed socket
	targetEventP99     = 250 * time.Millisecond // revoke response to next, p99
	targetCloseWithin  = time.Second            // revoke response to the 4403 close, every revoked socket
)

// quietAfterCloses is how long the sockets scenario keeps watching every
// socket after the last revoked one closed: an event that reached the
// wrong socket would come with the right ones.
const quietAfterCloses = time.Second

// subscribedWait bounds the wait for the server to count every
// subscription as open.
const subscribedWait = time.Minute

// socketsResult is what the sockets scenario measured.
type socketsResult struct {
	Sockets         int              `json:"sockets"`           // asked for (-c)
	SessionsPerUser int              `json:"sessions_per_user"` // at most; each user also keeps its registration session
	SignedIn        int              `json:"signed_in"`         // sessions made for the sockets
	SignInFailures  map[string]int64 `json:"sign_in_failures"`
	Subscribed      int              `json:"subscribed"` // acknowledged sockets with a subscription sent
	OpenFailures    map[string]int64 `json:"open_failures"`
	OpenSeconds     float64          `json:"open_s"` // opening and subscribing them all
	// ServerSubscriptions is the server's graphql_active_subscriptions
	// when the run stopped waiting for it to count every socket's
	// subscription (-1: /metrics could not be read).
	ServerSubscriptions int64       `json:"server_subscriptions"`
	SubscribedSeconds   float64     `json:"subscribed_s"` // from the first dial until the server counted them all
	Server              serverUsage `json:"server"`

	Chosen            int              `json:"chosen"`          // sockets picked for revocation
	LookupFailures    map[string]int64 `json:"lookup_failures"` // public id not found: not revoked
	Revoked           int              `json:"revoked"`         // revokeSession answered true
	RevokeFailed      int              `json:"revoke_failed"`
	RevokeConcurrency int              `json:"revoke_concurrency"`
	RevokeSeconds     float64          `json:"revoke_s"` // from the release to the last response
	// The release's distance from the first and the last socket opened: a
	// server's per-watcher timers (a periodic Redis re-check) started with
	// the sockets fire in a burst that long after.
	ReleaseAfterFirstDial float64 `json:"release_after_first_dial_s"`
	ReleaseAfterLastDial  float64 `json:"release_after_last_dial_s"`

	Events           int              `json:"events"` // next with a reason, on revoked sockets
	Lost             int              `json:"lost"`   // revoked sockets without a next
	Reasons          map[string]int64 `json:"reasons"`
	BeforeResponse   int              `json:"events_before_response"`
	EventLatency     latencySummary   `json:"event_latency"`              // revoke response to next (0 when next came first)
	EventFromRequest latencySummary   `json:"event_latency_from_request"` // revoke request sent to next
	Completes        int              `json:"completes"`
	Closed4403       int              `json:"closed_4403"`
	NotClosed        int              `json:"not_closed"`    // revoked sockets still open when the wait ended
	CloseLatency     latencySummary   `json:"close_latency"` // revoke response to the 4403 close

	Others          int              `json:"others"`           // sockets not revoked
	OthersDisturbed int              `json:"others_disturbed"` // of those, how many got a message (not ping/pong) or closed
	Unexpected      map[string]int64 `json:"unexpected"`
	WatchedSeconds  float64          `json:"watched_s"` // from the release until the run stopped watching

	Targets []target `json:"targets"`
}

// serverUsage is the server's memory and goroutines before the sockets
// opened, once all were subscribed, and at the end (before they closed).
type serverUsage struct {
	// RSSSource says where the RSS came from: "/proc/<pid>/status VmRSS",
	// "/metrics process_resident_memory_bytes", or "" (not measured).
	RSSSource        string  `json:"rss_source"`
	RSSBefore        int64   `json:"rss_before_bytes"`
	RSSAfter         int64   `json:"rss_after_bytes"`
	RSSEnd           int64   `json:"rss_end_bytes"`
	RSSPerSocket     float64 `json:"rss_per_socket_bytes"`
	GoroutinesBefore int64   `json:"goroutines_before"` // go_goroutines, -1 when unknown
	GoroutinesAfter  int64   `json:"goroutines_after"`
	HeapBefore       int64   `json:"heap_inuse_before_bytes"` // go_memstats_heap_inuse_bytes, -1 when unknown
	HeapAfter        int64   `json:"heap_inuse_after_bytes"`
	StackBefore      int64   `json:"stack_inuse_before_bytes"` // go_memstats_stack_inuse_bytes, -1 when unknown
	StackAfter       int64   `json:"stack_inuse_after_bytes"`
}

// target is one of issue 13's targets and how the run did.
type target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

// sessionsPerUser is how many of n sessions the busiest of users users gets
// when socket i belongs to user i%users.
func sessionsPerUser(n, users int) int {
	if users <= 0 {
		return 0
	}
	return (n + users - 1) / users
}

// choose returns k distinct indexes of 0..n-1 picked at random (so spread
// over the users), in increasing order; all of them when k >= n.
func choose(n, k int) []int {
	k = min(max(k, 0), n)
	out := rand.Perm(n)[:k]
	slices.Sort(out)
	return out
}

// probe reads the server's memory: VmRSS from /proc when its pid is
// known, and its Prometheus metrics.
type probe struct {
	pid     int
	metrics string // the /metrics URL
	client  *gqlClient
}

// serverSample is one reading of the server; -1 is unknown.
type serverSample struct {
	rss, goroutines, heap, stack, subscriptions int64
}

// newProbe resolves -server-pid or -server-pid-file and checks that the
// pid's VmRSS can be read.
func newProbe(cfg config, cl *gqlClient) (*probe, error) {
	p := &probe{pid: cfg.ServerPID, client: cl}
	if cfg.ServerPIDFile != "" {
		b, err := os.ReadFile(cfg.ServerPIDFile)
		if err != nil {
			return nil, fmt.Errorf("-server-pid-file: %w", err)
		}
		if p.pid, err = parsePID(string(b)); err != nil {
			return nil, fmt.Errorf("-server-pid-file %s: %w", cfg.ServerPIDFile, err)
		}
	}
	if p.pid > 0 {
		if _, err := readVmRSS(p.pid); err != nil {
			return nil, fmt.Errorf("server pid %d: %w", p.pid, err)
		}
	}
	u := *cfg.URLs[0]
	u.Path, u.RawPath, u.RawQuery, u.Fragment = "/metrics", "", "", ""
	p.metrics = u.String()
	return p, nil
}

// rssSource names where sample's rss comes from.
func (p *probe) rssSource() string {
	if p.pid > 0 {
		return fmt.Sprintf("/proc/%d/status VmRSS", p.pid)
	}
	return "/metrics process_resident_memory_bytes"
}

// sample reads the server now.
func (p *probe) sample(ctx context.Context) serverSample {
	s := serverSample{rss: -1, goroutines: -1, heap: -1, stack: -1, subscriptions: -1}
	text, err := p.scrape(ctx)
	if err == nil {
		s.goroutines = metricValue(text, "go_goroutines")
		s.heap = metricValue(text, "go_memstats_heap_inuse_bytes")
		s.stack = metricValue(text, "go_memstats_stack_inuse_bytes")
		s.subscriptions = metricValue(text, "graphql_active_subscriptions")
		s.rss = metricValue(text, "process_resident_memory_bytes")
	}
	if p.pid > 0 {
		s.rss = -1
		if rss, err := readVmRSS(p.pid); err == nil {
			s.rss = rss
		}
	}
	return s
}

// scrape returns the server's /metrics text.
func (p *probe) scrape(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.client.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metrics, nil)
	if err != nil {
		return "", err
	}
	resp, err := p.client.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: HTTP %d", p.metrics, resp.StatusCode)
	}
	return string(b), nil
}

// parsePID reads a pid file's content: a positive number, blanks around it.
func parsePID(s string) (int, error) {
	pid, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%q is not a pid", strings.TrimSpace(s))
	}
	return pid, nil
}

// readVmRSS returns the resident set size of process pid, in bytes.
func readVmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(string(b))
}

// parseVmRSS reads the VmRSS line of a /proc/<pid>/status text, in bytes.
func parseVmRSS(status string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "VmRSS:" {
			continue
		}
		if len(f) != 3 || f[2] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		return n << 10, nil
	}
	return 0, errors.New("no VmRSS line (a kernel thread, or not Linux)")
}

// metricValue returns the value of the unlabelled sample name in a
// Prometheus text exposition, -1 when there is none.
func metricValue(text, name string) int64 {
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != name {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return -1
		}
		return int64(math.Round(v))
	}
	return -1
}

// series collects durations for summarize.
type series struct {
	samples  []time.Duration
	sum, max time.Duration
}

func (s *series) add(d time.Duration) {
	s.samples = append(s.samples, d)
	s.sum += d
	s.max = max(s.max, d)
}

func (s *series) summary() latencySummary {
	return summarize(s.samples, s.max, s.sum, int64(len(s.samples)))
}

// driveSockets is the sockets scenario: sign in cfg.Concurrency sessions,
// read the server, open and subscribe a socket per session, wait until the
// server counts them, read the server again, then revoke cfg.Revoke of the
// sessions at once and watch every socket.
func driveSockets(ctx context.Context, cfg config, cl, setupCl *gqlClient, users []*user, pr *probe, res result, setupStart time.Time) (result, error) {
	sr := &socketsResult{
		Sockets: cfg.Concurrency, SessionsPerUser: sessionsPerUser(cfg.Concurrency, len(users)),
		SignInFailures: map[string]int64{}, OpenFailures: map[string]int64{}, LookupFailures: map[string]int64{},
		Reasons: map[string]int64{}, Unexpected: map[string]int64{}, RevokeConcurrency: cfg.RevokeConcurrency,
		ServerSubscriptions: -1,
	}
	res.Sockets = sr
	var mu sync.Mutex
	count := func(m map[string]int64, err error) {
		mu.Lock()
		m[err.Error()]++
		mu.Unlock()
	}
	interrupted := func() (result, error) {
		res.SetupSeconds = seconds(time.Since(setupStart))
		res.Interrupted = true
		return res, nil
	}

	// Sessions first, so that the memory read next is the server's
	// before any socket. The sessions to revoke get their public ids now
	// too (a sessions query, its answer marks the caller's own), so that
	// the release can follow the memory reading at once.
	picked := make([]bool, cfg.Concurrency)
	for _, i := range choose(cfg.Concurrency, cfg.Revoke) {
		picked[i] = true
	}
	sr.Chosen = cfg.Revoke
	subs := make([]*subscriber, cfg.Concurrency)
	var done, found atomic.Int64
	stop := every(cfg.Progress, func() string {
		return fmt.Sprintf("setup: signed in %d/%d sessions for the sockets, %d/%d to revoke looked up",
			done.Load(), cfg.Concurrency, found.Load(), cfg.Revoke)
	})
	_ = forEach(ctx, cfg.Concurrency, setupConcurrency, func(ctx context.Context, i int) error {
		s, err := signInSubscriber(ctx, cfg, setupCl, users, i)
		if err != nil {
			count(sr.SignInFailures, err)
			return nil
		}
		if picked[i] {
			if err := s.lookupSessionID(ctx, setupCl); err != nil {
				count(sr.LookupFailures, err) // its socket opens all the same, as one of the others
			} else {
				s.revoke = true
				found.Add(1)
			}
		}
		subs[i] = s
		done.Add(1)
		return nil
	})
	stop()
	subs = slices.DeleteFunc(subs, func(s *subscriber) bool { return s == nil })
	sr.SignedIn = len(subs)
	if ctx.Err() != nil {
		return interrupted()
	}
	if len(subs) == 0 {
		return res, fmt.Errorf("no session signed in: %s", countsText(sr.SignInFailures))
	}

	before := pr.sample(ctx)
	if before.rss >= 0 {
		sr.Server.RSSSource = pr.rssSource()
	}
	fmt.Fprintf(cfg.Progress, "server before the sockets: RSS %s, %s goroutines, %s subscriptions\n",
		mib(before.rss), known(before.goroutines), known(before.subscriptions))

	// One socket per session, each subscribed to sessionEnded.
	runCtx := ctx // the readers outlive forEach's context
	opened := make([]*subscriber, len(subs))
	done.Store(0)
	stop = every(cfg.Progress, func() string {
		return fmt.Sprintf("setup: opened %d/%d sockets", done.Load(), len(subs))
	})
	openStart := time.Now()
	_ = forEach(ctx, len(subs), setupConcurrency, func(ctx context.Context, i int) error {
		s := subs[i]
		if err := s.subscribe(ctx, cfg, setupCl); err != nil {
			count(sr.OpenFailures, err)
			return nil
		}
		go s.read(runCtx)
		opened[i] = s
		done.Add(1)
		return nil
	})
	stop()
	openEnd := time.Now()
	sr.OpenSeconds = seconds(openEnd.Sub(openStart))
	subs = slices.DeleteFunc(opened, func(s *subscriber) bool { return s == nil })
	sr.Subscribed = len(subs)
	defer closeAll(subs)
	if ctx.Err() != nil {
		return interrupted()
	}
	if len(subs) == 0 {
		return res, fmt.Errorf("no socket opened: %s", countsText(sr.OpenFailures))
	}

	// A subscription has no acknowledgement in graphql-transport-ws: the
	// server's gauge says when it has registered them all.
	if before.subscriptions >= 0 {
		want := before.subscriptions + int64(len(subs))
		waitUntil := time.Now().Add(subscribedWait)
		for {
			s := pr.sample(ctx)
			sr.ServerSubscriptions = s.subscriptions
			if s.subscriptions >= want || s.subscriptions < 0 || !time.Now().Before(waitUntil) || !sleep(ctx, 200*time.Millisecond) {
				break
			}
		}
		sr.SubscribedSeconds = seconds(time.Since(openStart))
		fmt.Fprintf(cfg.Progress, "server counts %d subscriptions (want %d) %.1fs after the first dial\n", sr.ServerSubscriptions, want, sr.SubscribedSeconds)
	} else {
		fmt.Fprintln(cfg.Progress, "server /metrics not readable: relying on -warmup for the subscriptions to register")
	}
	if cfg.Warmup > 0 {
		fmt.Fprintf(cfg.Progress, "warmup %s before reading the server again\n", cfg.Warmup)
		sleep(ctx, cfg.Warmup)
	}
	if ctx.Err() != nil {
		return interrupted()
	}
	after := pr.sample(ctx)
	sr.Server.fill(before, after, len(subs))
	fmt.Fprintf(cfg.Progress, "server with %d sockets: RSS %s, %s goroutines\n", len(subs), mib(after.rss), known(after.goroutines))
	targets := slices.DeleteFunc(slices.Clone(subs), func(s *subscriber) bool { return !s.revoke })
	res.SetupSeconds = seconds(time.Since(setupStart))
	if cfg.RevokeAt > 0 {
		if wait := time.Until(openStart.Add(cfg.RevokeAt)); wait > 0 {
			fmt.Fprintf(cfg.Progress, "waiting %s to release the revocations %s after the first dial (-revoke-at)\n", wait.Round(time.Millisecond), cfg.RevokeAt)
			sleep(ctx, wait)
		} else {
			fmt.Fprintf(cfg.Progress, "-revoke-at %s: already %s after the first dial\n", cfg.RevokeAt, time.Since(openStart).Round(time.Millisecond))
		}
	}
	if ctx.Err() != nil {
		res.Interrupted = true
		return res, nil
	}

	// Released at once, at most RevokeConcurrency in flight.
	fmt.Fprintf(cfg.Progress, "revoking %d sessions at once (%d in flight), then watching every socket for up to %s\n",
		len(targets), cfg.RevokeConcurrency, cfg.Duration)
	tallies := map[string]*tally{}
	release := time.Now()
	sr.ReleaseAfterFirstDial = seconds(release.Sub(openStart))
	sr.ReleaseAfterLastDial = seconds(release.Sub(openEnd))
	_ = forEach(ctx, len(targets), cfg.RevokeConcurrency, func(ctx context.Context, j int) error {
		op, o := endSession(ctx, cfg, cl, targets[j], 0)
		mu.Lock()
		defer mu.Unlock()
		if tallies[op] == nil {
			tallies[op] = newTally(len(targets))
		}
		tallies[op].add(o)
		return nil
	})
	revokeTime := time.Since(release)
	sr.RevokeSeconds = seconds(revokeTime)
	res.fill(tallies, revokeTime)

	// Until every revoked socket has closed and a quiet second more, or -d.
	deadline := time.NewTimer(time.Until(release.Add(cfg.Duration)))
	defer deadline.Stop()
	allClosed := true
wait:
	for _, s := range targets {
		if !s.ended {
			continue
		}
		select {
		case <-s.done:
		case <-deadline.C:
			allClosed = false
			break wait
		case <-ctx.Done():
			allClosed = false
			break wait
		}
	}
	if allClosed {
		sleep(ctx, min(quietAfterCloses, time.Until(release.Add(cfg.Duration))))
	}
	sr.WatchedSeconds = seconds(time.Since(release))
	sr.Server.RSSEnd = pr.sample(ctx).rss
	closeAll(subs)
	res.Interrupted = ctx.Err() != nil
	sr.tally(subs)
	sr.Targets = sr.targets()
	return res, nil
}

// fill sets the memory figures from the readings before the sockets and
// with n sockets subscribed.
func (u *serverUsage) fill(before, after serverSample, n int) {
	u.RSSBefore, u.RSSAfter = before.rss, after.rss
	u.GoroutinesBefore, u.GoroutinesAfter = before.goroutines, after.goroutines
	u.HeapBefore, u.HeapAfter = before.heap, after.heap
	u.StackBefore, u.StackAfter = before.stack, after.stack
	if before.rss >= 0 && after.rss >= 0 && n > 0 {
		u.RSSPerSocket = math.Round(float64(after.rss-before.rss)/float64(n)*10) / 10
	} else {
		u.RSSSource = ""
	}
}

// tally reads what every socket saw; the readers have returned.
func (sr *socketsResult) tally(subs []*subscriber) {
	var event, fromReq, closing series
	for _, s := range subs {
		if s.want == "" {
			sr.Others++
			if s.disturbed() {
				sr.OthersDisturbed++
			}
			for _, u := range s.unexpected {
				sr.Unexpected["other socket: "+u]++
			}
			if !s.eventAt.IsZero() {
				sr.Unexpected["other socket: next "+s.reason]++
			}
			if s.completed {
				sr.Unexpected["other socket: complete"]++
			}
			if s.closed4403 {
				sr.Unexpected["other socket: closed 4403"]++
			}
			continue
		}
		for _, u := range s.unexpected {
			sr.Unexpected["revoked socket: "+u]++
		}
		if !s.ended {
			sr.RevokeFailed++
			continue
		}
		sr.Revoked++
		if s.completed {
			sr.Completes++
		}
		if s.closed4403 {
			sr.Closed4403++
			closing.add(max(s.closedAt.Sub(s.endedAt), 0))
		}
		if s.closedAt.IsZero() {
			sr.NotClosed++
		}
		if s.eventAt.IsZero() {
			sr.Lost++
			continue
		}
		sr.Events++
		sr.Reasons[s.reason]++
		if s.reason != s.want {
			sr.Unexpected["revoked socket: reason "+s.reason+", want "+s.want]++
		}
		fromReq.add(s.eventAt.Sub(s.endSentAt))
		d := s.eventAt.Sub(s.endedAt)
		if d < 0 {
			sr.BeforeResponse++
			d = 0
		}
		event.add(d)
	}
	sr.EventLatency = event.summary()
	sr.EventFromRequest = fromReq.summary()
	sr.CloseLatency = closing.summary()
}

// disturbed reports whether the socket got anything but ping and pong, or
// was closed by the server or the network.
func (s *subscriber) disturbed() bool {
	return !s.eventAt.IsZero() || s.completed || s.closed4403 || !s.closedAt.IsZero() || len(s.unexpected) > 0
}

// targets judges the run against issue 13's targets.
func (sr *socketsResult) targets() []target {
	rss := target{Name: "server RSS per socket", Want: fmt.Sprintf("<= %d bytes (64 KiB)", targetRSSPerSocket), Got: "not measured"}
	if sr.Server.RSSSource != "" {
		rss.Got = fmt.Sprintf("%.0f bytes (%.1f KiB) over %d sockets", sr.Server.RSSPerSocket, sr.Server.RSSPerSocket/1024, sr.Subscribed)
		rss.Met = sr.Server.RSSPerSocket <= targetRSSPerSocket && sr.Subscribed == sr.Sockets
	}
	p99 := time.Duration(sr.EventLatency.P99 * float64(time.Millisecond))
	other := int64(sr.Events) - sr.Reasons["REVOKED"]
	event := target{Name: "revoke to sessionEnded REVOKED, p99", Want: fmt.Sprintf("< %s, none lost, none with another reason", targetEventP99),
		Got: fmt.Sprintf("p99 %.1f ms over %d events, %d lost, %d with another reason", sr.EventLatency.P99, sr.Events, sr.Lost, other),
		Met: sr.Events > 0 && sr.Lost == 0 && other == 0 && p99 < targetEventP99}
	maxClose := time.Duration(sr.CloseLatency.Max * float64(time.Millisecond))
	closing := target{Name: "revoke to close 4403", Want: fmt.Sprintf("every revoked socket within %s", targetCloseWithin),
		Got: fmt.Sprintf("%d/%d closed with 4403, max %.1f ms", sr.Closed4403, sr.Revoked, sr.CloseLatency.Max),
		Met: sr.Revoked > 0 && sr.Closed4403 == sr.Revoked && maxClose <= targetCloseWithin}
	others := target{Name: "other sockets get nothing", Want: "0 disturbed",
		Got: fmt.Sprintf("%d of %d disturbed", sr.OthersDisturbed, sr.Others), Met: sr.OthersDisturbed == 0}
	return []target{rss, event, closing, others}
}

// printSockets writes the sockets scenario's figures for people.
func printSockets(w io.Writer, sr *socketsResult) {
	fmt.Fprintf(w, "  %-12s %d signed in, %d per user at most (failed: %s)\n", "sessions", sr.SignedIn, sr.SessionsPerUser, countsText(sr.SignInFailures))
	fmt.Fprintf(w, "  %-12s %d of %d opened and subscribed in %.1fs (failed: %s); server counts %s subscriptions\n",
		"sockets", sr.Subscribed, sr.Sockets, sr.OpenSeconds, countsText(sr.OpenFailures), known(sr.ServerSubscriptions))
	u := sr.Server
	if u.RSSSource != "" {
		fmt.Fprintf(w, "  %-12s before %s, with the sockets %s: %.0f bytes per socket; at the end %s (%s)\n",
			"server RSS", mib(u.RSSBefore), mib(u.RSSAfter), u.RSSPerSocket, mib(u.RSSEnd), u.RSSSource)
	} else {
		fmt.Fprintf(w, "  %-12s not measured (give -server-pid)\n", "server RSS")
	}
	if u.GoroutinesBefore >= 0 && u.GoroutinesAfter >= 0 {
		fmt.Fprintf(w, "  %-12s goroutines %d -> %d (%s per socket), heap in use %s -> %s (%s), stacks %s -> %s (%s)\n", "server",
			u.GoroutinesBefore, u.GoroutinesAfter, perSocket(u.GoroutinesBefore, u.GoroutinesAfter, sr.Subscribed, 1, ""),
			mib(u.HeapBefore), mib(u.HeapAfter), perSocket(u.HeapBefore, u.HeapAfter, sr.Subscribed, 1024, " KiB"),
			mib(u.StackBefore), mib(u.StackAfter), perSocket(u.StackBefore, u.StackAfter, sr.Subscribed, 1024, " KiB"))
	}
	fmt.Fprintf(w, "  %-12s %d chosen, %d revoked (failed %d, no id %s) in %.2fs, %d in flight, released %.1fs after the first socket opened (%.1fs after the last)\n",
		"revoked", sr.Chosen, sr.Revoked, sr.RevokeFailed, countsText(sr.LookupFailures), sr.RevokeSeconds, sr.RevokeConcurrency,
		sr.ReleaseAfterFirstDial, sr.ReleaseAfterLastDial)
	fmt.Fprintf(w, "  %-12s received %d, lost %d, reasons %s; complete %d\n", "events", sr.Events, sr.Lost, countsText(sr.Reasons), sr.Completes)
	fmt.Fprintf(w, "  %-12s %s (from the revoke response; %d came before it)\n", "event delay", latencyText(sr.EventLatency), sr.BeforeResponse)
	fmt.Fprintf(w, "  %-12s %s (from sending the revoke request)\n", "", latencyText(sr.EventFromRequest))
	fmt.Fprintf(w, "  %-12s %d closed with 4403, %d still open after %.1fs\n", "close", sr.Closed4403, sr.NotClosed, sr.WatchedSeconds)
	fmt.Fprintf(w, "  %-12s %s (from the revoke response)\n", "close delay", latencyText(sr.CloseLatency))
	fmt.Fprintf(w, "  %-12s %d not revoked, %d got a message or closed; unexpected %s\n", "others", sr.Others, sr.OthersDisturbed, countsText(sr.Unexpected))
	for _, t := range sr.Targets {
		met := "met"
		if !t.Met {
			met = "NOT MET"
		}
		fmt.Fprintf(w, "  %-12s %s: %s (target %s): %s\n", "target", t.Name, t.Got, t.Want, met)
	}
}

// mib shows a byte count in MiB, "?" when unknown (negative).
func mib(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// perSocket shows (after-before)/n/unit with one decimal, "?" when either
// reading is unknown (negative) or there are no sockets.
func perSocket(before, after int64, n int, unit float64, suffix string) string {
	if before < 0 || after < 0 || n <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f%s", float64(after-before)/float64(n)/unit, suffix)
}

// known shows n, "?" when unknown (negative).
func known(n int64) string {
	if n < 0 {
		return "?"
	}
	return strconv.FormatInt(n, 10)
}
