package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
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
	status           map[string]int64 // non-2xx HTTP status
	codes            map[string]int64 // GraphQL extensions.code
	checks           map[string]int64 // failed response checks
	transport        map[string]int64 // transport errors by kind
}

func newTally(capacity int) *tally {
	return &tally{
		capacity:  max(capacity, 1),
		status:    map[string]int64{},
		codes:     map[string]int64{},
		checks:    map[string]int64{},
		transport: map[string]int64{},
	}
}

// add records one request.
func (t *tally) add(o outcome) {
	t.requests++
	lat := o.latency()
	t.sum += lat
	t.max = max(t.max, lat)
	if len(t.samples) < t.capacity {
		t.samples = append(t.samples, lat)
	} else if j := rand.Int64N(t.requests); j < int64(t.capacity) {
		t.samples[j] = lat
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
