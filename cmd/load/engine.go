package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// execute runs one load test as cfg says: setup (users, decks, or
// subscriptions), warmup, then the measured window. It returns the
// partial result, without an error, when ctx ends early.
func execute(ctx context.Context, cfg config) (result, error) {
	if err := cfg.validate(); err != nil {
		return result{}, err
	}
	sc, _ := scenarioByName(cfg.Scenario)
	cl := &gqlClient{http: cfg.Client, timeout: cfg.Timeout, origin: cfg.Origin}
	// Setup is not measured, and bcrypt at a high cost behind a queue of
	// registrations can take longer than -timeout.
	setupCl := &gqlClient{http: cfg.Client, timeout: max(cfg.Timeout, setupTimeout), origin: cfg.Origin}
	res := newResult(cfg)
	var pr *probe
	if sc.name == "sockets" {
		// A wrong -server-pid stops the run before any setup.
		var err error
		if pr, err = newProbe(cfg, cl); err != nil {
			return res, err
		}
	}

	setupStart := time.Now()
	var users []*user
	if sc.users {
		var err error
		if users, err = registerUsers(ctx, cfg, setupCl); err != nil {
			return res, err
		}
		if sc.decks > 0 {
			if err := createDecks(ctx, cfg, setupCl, users); err != nil {
				return res, err
			}
		}
	} else {
		res.Users = 0
	}
	switch sc.name {
	case "ws":
		return driveSubscriptions(ctx, cfg, cl, setupCl, users, res, setupStart)
	case "sockets":
		return driveSockets(ctx, cfg, cl, setupCl, users, pr, res, setupStart)
	}
	res.SetupSeconds = seconds(time.Since(setupStart))
	res = drive(ctx, cfg, sc, cl, users, res)
	if cfg.Verify && ctx.Err() == nil {
		res.Verify = verifyUsers(ctx, cfg, cl, users)
	}
	return res, nil
}

// drive runs cfg.Concurrency workers issuing sc's requests back to back
// through warmup and the measured window. The window is by send time: a
// request sent in it counts once it comes back, however late, and the
// workers stop sending at its end.
func drive(ctx context.Context, cfg config, sc scenario, cl *gqlClient, users []*user, res result) result {
	start := time.Now()
	from := start.Add(cfg.Warmup)
	if cfg.Timeline {
		from = nextWholeSecond(from)
	}
	to := from.Add(cfg.Duration)
	// The start of the window is said precisely: a fault run times its
	// faults from it.
	fmt.Fprintf(cfg.Progress, "warmup %s, then measuring for %s from %s\n", from.Sub(start).Round(time.Millisecond), cfg.Duration, from.Format(time.RFC3339Nano))
	m := &meter{from: from, to: to, timeline: cfg.Timeline}
	metered := *cl
	metered.meter = m
	cl = &metered
	// The meter leaves out what was sent outside the window; every answer
	// to a request sent inside it is recorded, so record's own end is past
	// any request's timeout.
	recordUntil := to.Add(cfg.Timeout + time.Minute)
	var issued atomic.Int64
	workers := make([]*worker, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{
			id:       i,
			client:   cl,
			endpoint: cfg.URLs[i%len(cfg.URLs)].String(),
			users:    users,
			tallies:  map[string]*tally{},
			capacity: maxSamples / cfg.Concurrency,
			from:     from,
			to:       recordUntil,
		}
		if len(users) > 0 {
			w.user = users[i%len(users)]
		}
		workers[i] = w
		wg.Go(func() {
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(to) {
					return
				}
				if cfg.MaxRequests > 0 && !now.Before(from) && issued.Add(1) > cfg.MaxRequests {
					return
				}
				sc.step(ctx, w)
			}
		})
	}
	wg.Wait()
	res.Interrupted = ctx.Err() != nil
	elapsed := min(max(time.Since(from), 0), cfg.Duration)

	perOp := map[string]*tally{}
	for _, w := range workers {
		for op, t := range w.tallies {
			if perOp[op] == nil {
				perOp[op] = newTally(1)
			}
			perOp[op].merge(t)
		}
	}
	for op, t := range perOp {
		if t.requests == 0 {
			delete(perOp, op) // only sent outside the window
		}
	}
	res.fill(perOp, elapsed)
	sent, answered := m.sent.Load(), m.answered.Load()
	res.Delivery = &delivery{Sent: sent, Answered: answered, Lost: sent - answered}
	if cfg.Timeline {
		res.Timeline = timeline(perOp, from, elapsed)
	}
	return res
}

// timeline merges the tallies' seconds into one row per second of the
// window that began at from and lasted elapsed, seconds without requests
// included.
func timeline(perOp map[string]*tally, from time.Time, elapsed time.Duration) []secondResult {
	total := map[int]*secondTally{}
	last := int(math.Ceil(elapsed.Seconds()))
	for _, t := range perOp {
		for n, s := range t.timeline {
			if total[n] == nil {
				total[n] = &secondTally{}
			}
			total[n].merge(s)
			last = max(last, n)
		}
	}
	rows := make([]secondResult, 0, last)
	for n := 1; n <= last; n++ {
		s := total[n]
		if s == nil {
			s = &secondTally{}
		}
		rows = append(rows, secondResult{
			Second:           n - 1,
			At:               from.Add(time.Duration(n-1) * time.Second).Format(time.TimeOnly),
			Sent:             s.requests,
			OK:               s.ok,
			Unavailable:      s.unavailable,
			Checks:           s.checks,
			Other:            s.other,
			Lost:             s.lost,
			MaxMs:            ms(s.max),
			UnavailableMaxMs: ms(s.maxUnavailable),
		})
	}
	return rows
}

// verifyUsers asks me with every user's session from setup and signs
// every user in once more, without retries: what it finds is the state
// right after the window. It is a check after a fault that no session and
// no user was lost.
func verifyUsers(ctx context.Context, cfg config, cl *gqlClient, users []*user) *verifyResult {
	v := &verifyResult{Users: len(users), Failures: map[string]int64{}}
	plain := *cl
	plain.meter = nil
	var mu sync.Mutex
	_ = forEach(ctx, len(users), setupConcurrency, func(ctx context.Context, i int) error {
		u := users[i]
		ep := cfg.URLs[i%len(cfg.URLs)].String()
		me := plain.post(ctx, ep, bodyMe, u.cookie)
		if email := emailOf(me.expect("me", "signed-out")); !me.failed() && email != u.email {
			me.check = "another user"
		}
		login := plain.post(ctx, ep, u.loginBody, "")
		login.expect("login", "null-login")
		if !login.failed() && login.cookie == "" {
			login.check = "no-cookie"
		}
		mu.Lock()
		defer mu.Unlock()
		if me.failed() {
			v.Failures["me: "+me.describe()]++
		} else {
			v.Live++
		}
		if login.failed() {
			v.Failures["login: "+login.describe()]++
		} else {
			v.SignIns++
		}
		return nil
	})
	return v
}

// emailOf reads the email of an object like {"email":"..."}.
func emailOf(raw []byte) string {
	var v struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.Email
}

// fill sets the totals and per-operation figures from perOp.
func (r *result) fill(perOp map[string]*tally, elapsed time.Duration) {
	total := newTally(1)
	for _, op := range sortedKeys(perOp) {
		t := perOp[op]
		r.Ops[op] = opResult{
			Requests:  t.requests,
			Failed:    t.failed,
			PerSecond: perSecond(t.requests, elapsed),
			Latency:   summarize(t.samples, t.max, t.sum, t.requests),
		}
		total.merge(t)
	}
	r.MeasuredSeconds = seconds(elapsed)
	r.Requests = total.requests
	r.Failed = total.failed
	r.OK = total.requests - total.failed
	r.PerSecond = perSecond(total.requests, elapsed)
	r.Latency = summarize(total.samples, total.max, total.sum, total.requests)
	r.HTTPStatus = total.status
	r.GraphQLErrors = total.codes
	r.Checks = total.checks
	r.Transport = total.transport
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/d.Seconds()*100) / 100
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}
