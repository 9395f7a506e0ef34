package main

import (
	"bytes"
	"maps"
	"slices"
	"strings"
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

func TestMeterCountsWhatIsSentInsideTheWindow(t *testing.T) {
	from := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	to := from.Add(10 * time.Second)
	tests := []struct {
		name       string
		start      time.Time
		timeline   bool
		unmeasured bool
		second     int
	}{
		{"before the window", from.Add(-time.Nanosecond), true, true, 0},
		{"at its start", from, true, false, 1},
		{"inside the first second", from.Add(999 * time.Millisecond), true, false, 1},
		{"in the sixth second", from.Add(5500 * time.Millisecond), true, false, 6},
		{"in the last second", to.Add(-time.Nanosecond), true, false, 10},
		{"at its end", to, true, true, 0},
		{"inside, no timeline", from.Add(5500 * time.Millisecond), false, false, 0},
	}
	for _, tt := range tests {
		m := &meter{from: from, to: to, timeline: tt.timeline}
		o := outcome{start: tt.start}
		m.send(&o)
		if o.unmeasured != tt.unmeasured || o.second != tt.second {
			t.Errorf("%s: unmeasured %v second %d, want %v and %d", tt.name, o.unmeasured, o.second, tt.unmeasured, tt.second)
		}
		if counted := m.sent.Load() == 1; counted == tt.unmeasured {
			t.Errorf("%s: sent %d, unmeasured %v", tt.name, m.sent.Load(), tt.unmeasured)
		}
	}
	var none *meter
	o := outcome{start: from}
	none.send(&o)
	none.receive(o)
	if o.unmeasured || o.second != 0 {
		t.Errorf("a nil meter changed the outcome: %+v", o)
	}
}

func TestMeterCountsOnlyCompleteAnswersAsAnswered(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		o        outcome
		answered bool
	}{
		{"200", outcome{status: 200}, true},
		{"200 with SERVICE_UNAVAILABLE", outcome{status: 200, codes: []string{"SERVICE_UNAVAILABLE"}}, true},
		{"500", outcome{status: 500}, true},
		{"a wrong answer is still an answer", outcome{status: 200, check: "signed-out"}, true},
		{"timeout", outcome{transport: "timeout"}, false},
		{"body cut after the status", outcome{status: 200, transport: "connection closed early"}, false},
		{"sent outside the window", outcome{status: 200, unmeasured: true}, false},
	}
	for _, tt := range tests {
		m := &meter{from: now, to: now.Add(time.Second)}
		m.receive(tt.o)
		if got := m.answered.Load() == 1; got != tt.answered {
			t.Errorf("%s: answered %v, want %v", tt.name, got, tt.answered)
		}
	}
}

func TestEveryOutcomeIsOfExactlyOneKind(t *testing.T) {
	tests := []struct {
		o    outcome
		want string
	}{
		{outcome{status: 200}, kindOK},
		{outcome{status: 200, codes: []string{"SERVICE_UNAVAILABLE"}}, kindUnavailable},
		{outcome{status: 503, codes: []string{"UNAUTHENTICATED", "SERVICE_UNAVAILABLE"}}, kindUnavailable},
		{outcome{status: 200, check: "signed-out"}, kindCheck},
		{outcome{status: 502, check: "bad-json"}, kindCheck},
		{outcome{status: 200, codes: []string{"INTERNAL_SERVER_ERROR"}}, kindOther},
		{outcome{status: 500}, kindOther},
		{outcome{status: 503}, kindOther},
		{outcome{transport: "timeout"}, kindLost},
		{outcome{status: 200, transport: "connection reset"}, kindLost},
	}
	for _, tt := range tests {
		if got := kindOf(tt.o); got != tt.want {
			t.Errorf("kindOf(%+v) = %s, want %s", tt.o, got, tt.want)
		}
	}
}

func TestTallySkipsUnmeasuredAndKeepsSeconds(t *testing.T) {
	now := time.Now()
	tl := newTally(10)
	for _, o := range []outcome{
		{status: 200, unmeasured: true},
		{status: 200, second: 1},
		{status: 200, second: 1, codes: []string{"SERVICE_UNAVAILABLE"}},
		{transport: "timeout", second: 3},
		{status: 200, second: 3, check: "signed-out"},
		{status: 500, second: 3},
		{status: 200}, // no timeline kept for it
	} {
		o.start, o.done = now, now.Add(time.Duration(o.second)*time.Millisecond)
		tl.add(o)
	}
	if tl.requests != 6 {
		t.Errorf("requests %d, want 6 (the unmeasured one skipped)", tl.requests)
	}
	total := newTally(1)
	total.merge(tl)
	total.merge(tl)
	want := map[int]secondTally{
		1: {requests: 4, ok: 2, unavailable: 2, max: time.Millisecond, maxUnavailable: time.Millisecond},
		3: {requests: 6, lost: 2, checks: 2, other: 2, max: 3 * time.Millisecond},
	}
	if len(total.timeline) != len(want) {
		t.Fatalf("seconds %v, want 1 and 3", slices.Sorted(maps.Keys(total.timeline)))
	}
	for n, w := range want {
		if got := *total.timeline[n]; got != w {
			t.Errorf("second %d: %+v, want %+v", n, got, w)
		}
	}
}

func TestTimelineHasARowForEverySecondOfTheWindow(t *testing.T) {
	from := time.Date(2026, 11, 23, 12, 0, 7, 0, time.Local)
	a, b := newTally(1), newTally(1)
	a.second(1).merge(&secondTally{requests: 5, ok: 5, max: 2 * time.Millisecond})
	b.second(1).merge(&secondTally{requests: 1, unavailable: 1, max: 2 * time.Second, maxUnavailable: 2 * time.Second})
	b.second(3).merge(&secondTally{requests: 2, lost: 2, max: 10 * time.Second})
	rows := timeline(map[string]*tally{"me": a, "login": b}, from, 4*time.Second)
	want := []secondResult{
		{Second: 0, At: "12:00:07", Sent: 6, OK: 5, Unavailable: 1, MaxMs: 2000, UnavailableMaxMs: 2000},
		{Second: 1, At: "12:00:08"},
		{Second: 2, At: "12:00:09", Sent: 2, Lost: 2, MaxMs: 10000},
		{Second: 3, At: "12:00:10"},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows\n%+v\nwant\n%+v", rows, want)
	}
	if rows := timeline(map[string]*tally{}, from, 2500*time.Millisecond); len(rows) != 3 {
		t.Errorf("2.5s: %d rows, want 3", len(rows))
	}
}

func TestNextWholeSecond(t *testing.T) {
	base := time.Date(2026, 11, 23, 12, 0, 7, 0, time.UTC)
	tests := []struct {
		in, want time.Time
	}{
		{base, base},
		{base.Add(time.Nanosecond), base.Add(time.Second)},
		{base.Add(999_999_999), base.Add(time.Second)},
		{base.Add(-300 * time.Millisecond), base},
	}
	for _, tt := range tests {
		if got := nextWholeSecond(tt.in); !got.Equal(tt.want) {
			t.Errorf("nextWholeSecond(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestReportShowsDeliveryVerifyAndTimeline(t *testing.T) {
	r := newResult(config{Scenario: "me", Concurrency: 2, Users: 2, Duration: 2 * time.Second})
	r.Delivery = &delivery{Sent: 10, Answered: 9, Lost: 1}
	r.Verify = &verifyResult{Users: 2, Live: 2, SignIns: 1, Failures: map[string]int64{"login: GraphQL errors: SERVICE_UNAVAILABLE": 1}}
	r.Timeline = []secondResult{{Second: 0, At: "12:00:00", Sent: 6, OK: 6, MaxMs: 1.5}, {Second: 1, At: "12:00:01", Sent: 4, OK: 2, Unavailable: 1, Lost: 1, MaxMs: 10000, UnavailableMaxMs: 2001}}
	var out bytes.Buffer
	printReport(&out, r)
	for _, want := range []string{
		"delivery     sent 10, answered 9, lost 1",
		"after        2/2 sessions answer me as their user, 1/2 users sign in; failures login: GraphQL errors: SERVICE_UNAVAILABLE: 1",
		"   0s  12:00:00        6        6        0        0        0        0        1.5          0.0",
		"   1s  12:00:01        4        2        1        0        0        1    10000.0       2001.0",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
