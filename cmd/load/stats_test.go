package main

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"1..100 p50", hundred, 50, 50 * time.Millisecond},
		{"1..100 p90", hundred, 90, 90 * time.Millisecond},
		{"1..100 p99", hundred, 99, 99 * time.Millisecond},
		{"1..100 p100", hundred, 100, 100 * time.Millisecond},
		{"four p50", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"four p75", []time.Duration{1, 2, 3, 4}, 75, 3},
		{"four p76", []time.Duration{1, 2, 3, 4}, 76, 4},
		{"ten p99 is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
	}
	for _, tt := range tests {
		if got := percentile(tt.samples, tt.p); got != tt.want {
			t.Errorf("%s: percentile(%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarizeSortsAndReportsMilliseconds(t *testing.T) {
	samples := []time.Duration{4 * time.Millisecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	s := summarize(samples, 4*time.Millisecond, 10*time.Millisecond, 4)
	want := latencySummary{P50: 2, P90: 4, P99: 4, Max: 4, Mean: 2.5}
	if s != want {
		t.Errorf("summary %+v, want %+v", s, want)
	}
}

func TestGraphQLErrorsAreCountedByCode(t *testing.T) {
	body := []byte(`{"errors":[
		{"message":"a","extensions":{"code":"UNAUTHENTICATED"}},
		{"message":"b","extensions":{"code":"RATE_LIMITED","retryAfter":30}},
		{"message":"c","extensions":{"code":"UNAUTHENTICATED"}},
		{"message":"no code"}],"data":null}`)
	data, codes, err := parseResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "null" {
		t.Errorf("data %s", data)
	}
	if want := []string{"UNAUTHENTICATED", "RATE_LIMITED", "UNAUTHENTICATED", "NO_CODE"}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}

	now := time.Now()
	tl := newTally(10)
	tl.add(outcome{status: 200, codes: codes, start: now, done: now.Add(time.Millisecond)})
	tl.add(outcome{status: 200, codes: []string{"RATE_LIMITED"}, start: now, done: now})
	tl.add(outcome{status: 200, data: []byte(`{"me":{"id":"1"}}`), start: now, done: now})
	tl.add(outcome{status: 200, check: "signed-out", start: now, done: now})
	tl.add(outcome{status: 503, start: now, done: now})
	tl.add(outcome{transport: "connection refused", start: now, done: now})
	if tl.requests != 6 || tl.failed != 5 {
		t.Errorf("requests %d failed %d, want 6 and 5", tl.requests, tl.failed)
	}
	checkCounts(t, "codes", tl.codes, map[string]int64{"UNAUTHENTICATED": 2, "RATE_LIMITED": 2, "NO_CODE": 1})
	checkCounts(t, "checks", tl.checks, map[string]int64{"signed-out": 1})
	checkCounts(t, "status", tl.status, map[string]int64{"503": 1})
	checkCounts(t, "transport", tl.transport, map[string]int64{"connection refused": 1})

	total := newTally(1)
	total.merge(tl)
	total.merge(tl)
	checkCounts(t, "merged codes", total.codes, map[string]int64{"UNAUTHENTICATED": 4, "RATE_LIMITED": 4, "NO_CODE": 2})
	if total.requests != 12 || len(total.samples) != 12 || total.max != time.Millisecond {
		t.Errorf("merged: requests %d samples %d max %v", total.requests, len(total.samples), total.max)
	}
}

func TestNullFieldIsASignedOutCheckOnlyWithoutErrors(t *testing.T) {
	o := outcome{status: 200, data: []byte(`{"me":null}`)}
	o.expect("me", "signed-out")
	if o.check != "signed-out" {
		t.Errorf("null me: check %q", o.check)
	}
	o = outcome{status: 200, data: []byte(`{"me":{"id":"1"}}`)}
	o.expect("me", "signed-out")
	if o.failed() {
		t.Errorf("signed-in me failed: %+v", o)
	}
	o = outcome{status: 200, data: []byte(`null`), codes: []string{"UNAUTHENTICATED"}}
	o.expect("sessions", "signed-out")
	if o.check != "" {
		t.Errorf("an error already explains the null; check %q", o.check)
	}
}

func TestTallyKeepsABoundedSample(t *testing.T) {
	tl := newTally(100)
	now := time.Now()
	for i := range 10_000 {
		tl.add(outcome{status: 200, start: now, done: now.Add(time.Duration(i))})
	}
	if len(tl.samples) != 100 || tl.requests != 10_000 || tl.max != 9_999 {
		t.Errorf("samples %d requests %d max %v", len(tl.samples), tl.requests, tl.max)
	}
}

func checkCounts(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s %v, want %v", name, got, want)
	}
}
