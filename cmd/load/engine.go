package main

import (
	"context"
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
	if sc.name == "ws" {
		return driveSubscriptions(ctx, cfg, cl, setupCl, users, res, setupStart)
	}
	res.SetupSeconds = seconds(time.Since(setupStart))
	return drive(ctx, cfg, sc, cl, users, res), nil
}

// drive runs cfg.Concurrency workers issuing sc's requests back to back
// through warmup and the measured window.
func drive(ctx context.Context, cfg config, sc scenario, cl *gqlClient, users []*user, res result) result {
	if cfg.Warmup > 0 {
		fmt.Fprintf(cfg.Progress, "warmup %s, then measuring for %s\n", cfg.Warmup, cfg.Duration)
	}
	start := time.Now()
	from := start.Add(cfg.Warmup)
	to := from.Add(cfg.Duration)
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
			to:       to,
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
	res.fill(perOp, elapsed)
	return res
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
