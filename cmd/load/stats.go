package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// maxSamples bounds the latencies kept for percentiles across all workers;
// past it each worker keeps a uniform random sample (reservoir sampling),
// so a long run's memory stays flat. Count and max stay exact.
const maxSamples = 4_000_000

// tally counts one worker's requests for one operation. It is not safe for
// concurrent use: each worker has its own, merged at the end.
type tally struct {
	requests, failed int64
	sum, max         time.Duration
	samples          []time.Duration
	capacity         int
	status           map[string]int64     // non-2xx HTTP status
	codes            map[string]int64     // GraphQL extensions.code
	checks           map[string]int64     // failed response checks
	transport        map[string]int64     // transport errors by kind
	timeline         map[int]*secondTally // by outcome.second, when the run keeps a timeline
}

// secondTally is one second of a timeline: the requests sent in it, each
// counted once under what came of it (see kindOf).
type secondTally struct {
	requests, ok, unavailable, other, checks, lost int64
	max                                            time.Duration
	maxUnavailable                                 time.Duration // slowest SERVICE_UNAVAILABLE answer
}

// What came of a request, for the timeline: each request is exactly one.
const (
	kindOK          = "ok"          // a 2xx answer without errors that passed its check
	kindUnavailable = "unavailable" // an answer carrying SERVICE_UNAVAILABLE
	kindCheck       = "check"       // an answer that failed its check: a wrong answer
	kindOther       = "other"       // any other failed answer (non-2xx, other codes)
	kindLost        = "lost"        // no complete HTTP answer
)

// kindOf sorts o into one of the kinds above.
func kindOf(o outcome) string {
	switch {
	case !o.answered():
		return kindLost
	case slices.Contains(o.codes, unavailableCode):
		return kindUnavailable
	case o.check != "":
		return kindCheck
	case o.failed():
		return kindOther
	}
	return kindOK
}

// unavailableCode is the extensions.code the server answers when Redis or
// MongoDB did not answer in time.
const unavailableCode = "SERVICE_UNAVAILABLE"

func newTally(capacity int) *tally {
	return &tally{
		capacity:  max(capacity, 1),
		status:    map[string]int64{},
		codes:     map[string]int64{},
		checks:    map[string]int64{},
		transport: map[string]int64{},
		timeline:  map[int]*secondTally{},
	}
}

// add records one request, unless it was sent outside the measured window.
func (t *tally) add(o outcome) {
	if o.unmeasured {
		return
	}
	t.requests++
	lat := o.latency()
	t.sum += lat
	t.max = max(t.max, lat)
	if len(t.samples) < t.capacity {
		t.samples = append(t.samples, lat)
	} else if j := rand.Int64N(t.requests); j < int64(t.capacity) {
		t.samples[j] = lat
	}
	if o.second > 0 {
		t.second(o.second).add(o)
	}
	if !o.failed() {
		return
	}
	t.failed++
	switch {
	case o.transport != "":
		t.transport[o.transport]++
	case o.status < 200 || o.status > 299:
		t.status[strconv.Itoa(o.status)]++
	}
	for _, c := range o.codes {
		t.codes[c]++
	}
	if o.check != "" {
		t.checks[o.check]++
	}
}

// merge adds u's counts to t.
func (t *tally) merge(u *tally) {
	t.requests += u.requests
	t.failed += u.failed
	t.sum += u.sum
	t.max = max(t.max, u.max)
	t.samples = append(t.samples, u.samples...)
	for _, p := range [][2]map[string]int64{{t.status, u.status}, {t.codes, u.codes}, {t.checks, u.checks}, {t.transport, u.transport}} {
		for k, v := range p[1] {
			p[0][k] += v
		}
	}
	for n, s := range u.timeline {
		t.second(n).merge(s)
	}
}

// second returns the timeline entry of second n, creating it.
func (t *tally) second(n int) *secondTally {
	s := t.timeline[n]
	if s == nil {
		s = &secondTally{}
		t.timeline[n] = s
	}
	return s
}

func (s *secondTally) add(o outcome) {
	s.requests++
	s.max = max(s.max, o.latency())
	switch kindOf(o) {
	case kindOK:
		s.ok++
	case kindUnavailable:
		s.unavailable++
		s.maxUnavailable = max(s.maxUnavailable, o.latency())
	case kindCheck:
		s.checks++
	case kindOther:
		s.other++
	case kindLost:
		s.lost++
	}
}

func (s *secondTally) merge(u *secondTally) {
	s.requests += u.requests
	s.ok += u.ok
	s.unavailable += u.unavailable
	s.checks += u.checks
	s.other += u.other
	s.lost += u.lost
	s.max = max(s.max, u.max)
	s.maxUnavailable = max(s.maxUnavailable, u.maxUnavailable)
}

// meter counts the requests of one run's measured window, which is by
// the time a request is sent: [from, to). A request is counted as sent
// before it goes out and as answered once its response has been read, so
// one that never comes back shows as lost instead of going uncounted. It
// is safe for concurrent use.
type meter struct {
	from, to time.Time
	timeline bool // number each request's second for the timeline
	sent     atomic.Int64
	answered atomic.Int64
}

// send counts o, about to go out at o.start, as sent when it is inside
// the window, and marks it unmeasured when it is not. A nil meter does
// nothing.
func (m *meter) send(o *outcome) {
	if m == nil {
		return
	}
	if o.start.Before(m.from) || !o.start.Before(m.to) {
		o.unmeasured = true
		return
	}
	m.sent.Add(1)
	if m.timeline {
		o.second = int(o.start.Sub(m.from)/time.Second) + 1
	}
}

// receive counts o as answered when it was sent inside the window and a
// complete response came back. A nil meter does nothing.
func (m *meter) receive(o outcome) {
	if m == nil || o.unmeasured || !o.answered() {
		return
	}
	m.answered.Add(1)
}

// nextWholeSecond returns the first instant at or after t that is a whole
// second of the wall clock, so that a timeline's seconds are the clock's.
func nextWholeSecond(t time.Time) time.Time {
	if frac := time.Duration(t.Nanosecond()); frac > 0 {
		return t.Add(time.Second - frac)
	}
	return t
}

// latencySummary is a latency distribution in milliseconds.
type latencySummary struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// summarize sorts samples in place and reads the percentiles off them;
// max and mean come from the exact figures.
func summarize(samples []time.Duration, maxLat, sum time.Duration, n int64) latencySummary {
	slices.Sort(samples)
	s := latencySummary{
		P50: ms(percentile(samples, 50)),
		P90: ms(percentile(samples, 90)),
		P99: ms(percentile(samples, 99)),
		Max: ms(maxLat),
	}
	if n > 0 {
		s.Mean = ms(sum / time.Duration(n))
	}
	return s
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest sample with at least p% of the samples at or below
// it. It is 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// randN is a uniform int in [0, n), safe for concurrent use.
func randN(n int) int { return rand.IntN(n) }

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
