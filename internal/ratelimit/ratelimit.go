// Package ratelimit counts events in fixed time windows in Redis, so every
// server instance sees the same counts: failed logins per email and per
// client IP, registrations per client IP.
//
// A counter is one Redis key that expires with its window, so nothing
// outlives the window it serves and Redis needs no sweeper. The key holds a
// truncated SHA-256 of the counted key, never an email address or IP.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
)

// Rule is one limit: at most Limit events per Window for one key.
type Rule struct {
	// Name is short, e.g. "login-email", and part of the Redis key; two
	// rules with the same name share counters.
	Name   string
	Limit  int           // at least 1
	Window time.Duration // rounded up to whole milliseconds
}

// Hit names one counter: a rule and the key it counts for, such as a
// normalised email address or a client IP.
type Hit struct {
	Rule Rule
	Key  string
}

// Count is a counter's state after Add: N events in the current window,
// which ends in RetryAfter.
type Count struct {
	N          int
	RetryAfter time.Duration
	counted    bool // Attempt: this event was counted
}

// Limiter counts events per (rule, key) in Redis. It is safe for concurrent
// use.
type Limiter struct {
	rdb     redis.UniversalClient
	timeout time.Duration
}

// New returns a Limiter keeping its counters in rdb. timeout bounds each
// call to Redis (zero means two seconds); it holds on a stalled connection
// only if rdb was built with ContextTimeoutEnabled, as the server's is.
func New(rdb redis.UniversalClient, timeout time.Duration) *Limiter {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Limiter{rdb: rdb, timeout: timeout}
}

// Each script touches one key, so it runs atomically on a single node or a
// cluster. They return {count, ms left in the window, ...} and give a key
// without a TTL (which should never exist) the full window, so no counter
// can live forever. ARGV[1] is the window in ms, ARGV[2] the limit.
var (
	// addScript counts one event; the first event of a window has no TTL
	// yet and starts the window.
	addScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  t = tonumber(ARGV[1])
end
return {n, t}`)
	// attemptScript counts one event unless the counter has reached the
	// limit (ARGV[2]), and says which (third value 1: counted). Counting
	// and deciding in one step is what keeps a burst within the limit.
	attemptScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local counted = 0
if n < tonumber(ARGV[2]) then
  n = redis.call('INCR', KEYS[1])
  counted = 1
end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  t = tonumber(ARGV[1])
end
return {n, t, counted}`)
	// releaseScript takes one event back (a counter never goes below zero).
	releaseScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if n > 0 then n = redis.call('DECR', KEYS[1]) end
local t = redis.call('PTTL', KEYS[1])
return {n, t}`)
	// checkScript reads a counter; a missing key reads as zero.
	checkScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local t = redis.call('PTTL', KEYS[1])
if t == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  t = tonumber(ARGV[1])
end
return {n, t}`)
)

// Check reports whether key has already used up rule's limit in the current
// window, and if so how long until the window ends (more than zero, whole
// milliseconds). It does not count anything.
func (l *Limiter) Check(ctx context.Context, rule Rule, key string) (retryAfter time.Duration, limited bool, err error) {
	return l.CheckAll(ctx, Hit{Rule: rule, Key: key})
}

// CheckAll is Check for several counters in one round trip: limited if any
// of them is, retryAfter the longest among those that are.
func (l *Limiter) CheckAll(ctx context.Context, hits ...Hit) (retryAfter time.Duration, limited bool, err error) {
	counts, err := l.run(ctx, "check rate limit", checkScript, hits)
	if err != nil {
		return 0, false, err
	}
	for i, c := range counts {
		if c.N >= hits[i].Rule.Limit && c.RetryAfter > 0 {
			limited = true
			retryAfter = max(retryAfter, c.RetryAfter)
		}
	}
	return retryAfter, limited, nil
}

// Add counts one event for each hit, in one round trip, and returns each
// counter's state afterwards, in the order of hits.
func (l *Limiter) Add(ctx context.Context, hits ...Hit) ([]Count, error) {
	return l.run(ctx, "count rate limit event", addScript, hits)
}

// Attempt counts an attempt against every hit's limit before the attempt
// is made: it is allowed only if each counter was below its limit, and
// then counted in each. A refused attempt counts nowhere (what one
// counter took is given back) and retryAfter is the longest wait among
// the counters at their limit. However many attempts arrive at once, each
// counter allows at most its limit per window.
func (l *Limiter) Attempt(ctx context.Context, hits ...Hit) (retryAfter time.Duration, limited bool, err error) {
	counts, err := l.run(ctx, "count attempt", attemptScript, hits)
	if err != nil {
		return 0, false, err
	}
	var taken []Hit
	for i, c := range counts {
		if c.counted {
			taken = append(taken, hits[i])
		} else {
			limited = true
			retryAfter = max(retryAfter, c.RetryAfter)
		}
	}
	if limited && len(taken) > 0 {
		if err := l.Release(ctx, taken...); err != nil {
			return 0, false, err
		}
	}
	return retryAfter, limited, nil
}

// Release takes back one event from each hit's counter, as when an
// attempt counted by Attempt turns out not to be a failure.
func (l *Limiter) Release(ctx context.Context, hits ...Hit) error {
	_, err := l.run(ctx, "release attempt", releaseScript, hits)
	return err
}

// Reset forgets key's events for rule, as when a successful login clears
// its email's failures.
func (l *Limiter) Reset(ctx context.Context, rule Rule, key string) error {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	if err := l.rdb.Del(ctx, counterKey(rule, key)).Err(); err != nil {
		return unavailable("reset rate limit", err)
	}
	return nil
}

// run runs script once per hit in a pipeline. A script inside a pipeline
// cannot fall back from EVALSHA to EVAL as Script.Run does, because its
// NOSCRIPT error arrives only with the whole pipeline's replies. So run
// sends EVALSHA and, in the rare case a node has not cached the script yet
// (first use, restart, SCRIPT FLUSH), sends EVAL for just those hits: a
// NOSCRIPT reply means the script did not run, so nothing is counted twice.
// Every command names one key, so a cluster client splits the pipeline by
// node without any cross-slot command.
func (l *Limiter) run(ctx context.Context, op string, script *redis.Script, hits []Hit) ([]Count, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	keys := make([][]string, len(hits))
	args := make([][]any, len(hits))
	for i, h := range hits {
		if h.Rule.Window <= 0 {
			return nil, fmt.Errorf("%s: rule %q: window must be positive", op, h.Rule.Name)
		}
		keys[i] = []string{counterKey(h.Rule, h.Key)}
		args[i] = []any{ceilMS(h.Rule.Window), h.Rule.Limit}
	}

	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	cmds := make([]*redis.Cmd, len(hits))
	pipe := l.rdb.Pipeline()
	for i := range hits {
		cmds[i] = script.EvalSha(ctx, pipe, keys[i], args[i]...)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command below

	var retry []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	if len(retry) > 0 {
		pipe := l.rdb.Pipeline()
		for _, i := range retry {
			cmds[i] = script.Eval(ctx, pipe, keys[i], args[i]...)
		}
		_, _ = pipe.Exec(ctx)
	}

	counts := make([]Count, len(hits))
	for i, cmd := range cmds {
		vals, err := cmd.Int64Slice()
		if err != nil {
			return nil, unavailable(op, err)
		}
		if len(vals) < 2 {
			return nil, unavailable(op, fmt.Errorf("script returned %d values, want 2 or more", len(vals)))
		}
		counts[i] = Count{N: int(vals[0]), counted: len(vals) > 2 && vals[2] == 1}
		if vals[1] >= 0 {
			// PTTL truncates; a window about to end still has time left.
			counts[i].RetryAfter = time.Duration(max(vals[1], 1)) * time.Millisecond
		}
	}
	return counts, nil
}

// counterKey is rl:{<rule>:<hash>}. The hash hides the counted key (an
// email address, an IP) from anyone reading Redis; the braces make the whole
// identifying part the cluster hash tag, so any key added beside a counter
// later lands in its slot.
func counterKey(rule Rule, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "rl:{" + rule.Name + ":" + hex.EncodeToString(sum[:])[:32] + "}"
}

// ceilMS is d in whole milliseconds, rounded up.
func ceilMS(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, apperr.ErrUnavailable, err)
}
