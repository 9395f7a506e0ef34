package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Bounds that keep a run finite whatever the flags say.
const (
	maxConcurrency = 10000
	maxDuration    = time.Hour
	maxWarmup      = 10 * time.Minute
	maxTimeout     = 5 * time.Minute
	maxUsers       = 1000
	maxDecks       = 200
	maxCards       = 1000
	// maxRevokeConcurrency bounds -revoke-c.
	maxRevokeConcurrency = 1000
	// maxSessionsPerUser is the server's cap on one user's sessions
	// (session.Options.MaxPerUser): a login beyond it ends the oldest.
	maxSessionsPerUser = 1000
	// setupConcurrency is how many setup requests (registrations, decks,
	// cards, subscription logins) run at once.
	setupConcurrency = 8
	// setupTimeout is the least per-request timeout of setup requests.
	setupTimeout = time.Minute
)

// config is one load run, read once from the flags.
type config struct {
	URLs        []*url.URL // GraphQL endpoints; workers are spread over them round-robin
	Concurrency int        // workers (HTTP scenarios) or subscriptions (ws)
	Duration    time.Duration
	Warmup      time.Duration
	Scenario    string
	Users       int // signed-in users created in setup; 0: min(Concurrency, 32)
	Password    string
	Timeout     time.Duration // per request
	AllowRemote bool
	Origin      string // sent as Origin when not empty
	MaxRequests int64  // operations after warmup; 0: no cap but the duration
	Decks       int    // per user (decks, mixed); 0: the scenario's default
	Cards       int    // per deck (decks, mixed); 0: the scenario's default
	Timeline    bool   // report the window second by second (HTTP scenarios)
	Verify      bool   // after the window, check every user's session and sign-in

	// The sockets scenario.
	Revoke            int           // sessions revoked at once; 0: Concurrency/10
	RevokeConcurrency int           // revokeSession requests in flight at once; 0: 64
	RevokeAt          time.Duration // release the revocations no sooner than this after the first socket opened
	ServerPID         int           // the server's pid, for its VmRSS; 0: none
	ServerPIDFile     string        // or a file holding it

	Client   *http.Client // every request and websocket goes through it; no Timeout
	Progress io.Writer    // setup progress and notes; never the result
}

// errNotLoopback is returned, also at dial time, for a target outside
// loopback when remote load was not allowed.
var errNotLoopback = errors.New("not a loopback address (127.0.0.0/8, ::1, localhost); pass -allow-remote to send load elsewhere")

// parseURLs turns -url values (each may be a comma-separated list) into
// GraphQL endpoints: a URL without a path gets /graphql.
func parseURLs(values []string) ([]*url.URL, error) {
	var out []*url.URL
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			u, err := url.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("url %q: %w", s, err)
			}
			if u.Scheme != "http" && u.Scheme != "https" {
				return nil, fmt.Errorf("url %q: scheme must be http or https", s)
			}
			if u.Host == "" {
				return nil, fmt.Errorf("url %q: no host", s)
			}
			if u.Path == "" || u.Path == "/" {
				u.Path = "/graphql"
			}
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no -url given")
	}
	return out, nil
}

// checkTarget refuses a URL whose host is not loopback unless allowRemote.
// Only literal loopback addresses and the name localhost pass: a name that
// merely resolves to loopback today is refused.
func checkTarget(u *url.URL, allowRemote bool) error {
	if allowRemote {
		return nil
	}
	if isLoopbackHost(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("refusing to send load to %s: %w", u.Host, errNotLoopback)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validate checks the bounds and fills in defaults.
func (c *config) validate() error {
	if len(c.URLs) == 0 {
		return errors.New("no -url given")
	}
	for _, u := range c.URLs {
		if err := checkTarget(u, c.AllowRemote); err != nil {
			return err
		}
	}
	sc, ok := scenarioByName(c.Scenario)
	if !ok {
		return fmt.Errorf("unknown scenario %q (-scenario list shows them)", c.Scenario)
	}
	switch {
	case c.Concurrency < 1 || c.Concurrency > maxConcurrency:
		return fmt.Errorf("-c must be 1 to %d", maxConcurrency)
	case c.Duration <= 0 || c.Duration > maxDuration:
		return fmt.Errorf("-d must be more than 0 and at most %s", maxDuration)
	case c.Warmup < 0 || c.Warmup > maxWarmup:
		return fmt.Errorf("-warmup must be 0 to %s", maxWarmup)
	case c.Timeout <= 0 || c.Timeout > maxTimeout:
		return fmt.Errorf("-timeout must be more than 0 and at most %s", maxTimeout)
	case c.Users < 0 || c.Users > maxUsers:
		return fmt.Errorf("-users must be 1 to %d", maxUsers)
	case len(c.Password) < 8 || len(c.Password) > 72:
		return errors.New("-password must be 8 to 72 bytes (the server's rule)")
	case c.MaxRequests < 0:
		return errors.New("-max-requests must not be negative")
	case c.Decks < 0 || c.Decks > maxDecks:
		return fmt.Errorf("-decks must be 0 to %d", maxDecks)
	case c.Cards < 0 || c.Cards > maxCards:
		return fmt.Errorf("-cards must be 0 to %d", maxCards)
	case c.Timeline && sc.sockets:
		return fmt.Errorf("-timeline is for the HTTP scenarios, not %s", c.Scenario)
	case c.Verify && (sc.sockets || !sc.users):
		return fmt.Errorf("-verify needs a scenario whose users keep their sessions; %s has none", c.Scenario)
	case c.Revoke < 0 || c.Revoke > c.Concurrency:
		return errors.New("-revoke must be 0 to -c")
	case c.RevokeConcurrency < 0 || c.RevokeConcurrency > maxRevokeConcurrency:
		return fmt.Errorf("-revoke-c must be 0 to %d", maxRevokeConcurrency)
	case c.RevokeAt < 0 || c.RevokeAt > maxDuration:
		return fmt.Errorf("-revoke-at must be 0 to %s", maxDuration)
	case c.ServerPID < 0:
		return errors.New("-server-pid must not be negative")
	case c.ServerPID > 0 && c.ServerPIDFile != "":
		return errors.New("give -server-pid or -server-pid-file, not both")
	case c.Scenario == "sockets" && len(c.URLs) != 1:
		return errors.New("sockets measures one server instance: give one -url")
	}
	if c.Users == 0 {
		c.Users = min(c.Concurrency, 32)
	}
	if c.Scenario == "sockets" {
		if c.Revoke == 0 {
			c.Revoke = max(c.Concurrency/10, 1)
		}
		if c.RevokeConcurrency == 0 {
			c.RevokeConcurrency = 64
		}
		// Each user keeps the session it registered with, to revoke from.
		if per := sessionsPerUser(c.Concurrency, c.Users); per+1 > maxSessionsPerUser {
			return fmt.Errorf("-c %d over -users %d is %d sessions per user, and the server keeps at most %d per user "+
				"(one of them the session that revokes): give more -users", c.Concurrency, c.Users, per, maxSessionsPerUser)
		}
	}
	if c.Decks == 0 {
		c.Decks = sc.decks
	}
	if c.Cards == 0 {
		c.Cards = sc.cards
	}
	if c.Client == nil {
		c.Client = newClient(c.Concurrency*len(c.URLs), c.Timeout, c.AllowRemote)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

// newClient returns a client whose keep-alive pool holds conns idle
// connections per host and whose dialer, unless allowRemote, refuses any
// address outside loopback (whatever a name resolved to).
func newClient(conns int, timeout time.Duration, allowRemote bool) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowRemote {
		d.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("dial %s: %w", address, errNotLoopback)
			}
			return nil
		}
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // load goes straight to the target, never through HTTP_PROXY
			DialContext:         d.DialContext,
			MaxIdleConns:        conns + 16,
			MaxIdleConnsPerHost: conns + 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: timeout,
			DisableCompression:  true,
		},
		// Redirects are not followed: a GraphQL endpoint never redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
