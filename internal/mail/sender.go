package mail

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/store"
)

// pollLimit is how many due mails one look at the outbox takes. Workers
// go through them before the next look, so it only needs to exceed what
// the workers send in a poll interval.
const pollLimit = 100

// maxLastError bounds the error text stored with a mail and logged.
const maxLastError = 500

// Outbox is what Sender needs of the outbox; *store.Outbox has it.
type Outbox interface {
	Due(ctx context.Context, now time.Time, limit int) ([]store.Mail, error)
	Get(ctx context.Context, id string) (store.Mail, error)
	Sent(ctx context.Context, id string) error
	Retry(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error
	GiveUp(ctx context.Context, id string, attempts int, lastErr string) error
}

// Counters counts what becomes of mail, by kind (store.Mail.Kind), for
// metrics. Its methods must be safe for concurrent use and quick.
type Counters interface {
	MailSent(kind string)
	MailRetried(kind string)
	MailGaveUp(kind string)
}

// SenderOptions are the dependencies and timings of a Sender. Outbox,
// Compose, Transport and Redis are required; zero timings take the
// defaults given.
type SenderOptions struct {
	Outbox Outbox
	// Compose renders mail m when it is sent, making any token then (so no
	// token waits in the database, and one made for a message delayed by
	// an outage is fresh). ok=false means there is nothing to send (an
	// unknown address, a user deleted since): the mail is removed unsent.
	// An error counts as a failed attempt. The Message's ID is set by the
	// Sender.
	Compose   func(ctx context.Context, m store.Mail) (msg Message, ok bool, err error)
	Transport Transport
	// Redis holds the leases that keep two senders from sending one mail.
	Redis redis.UniversalClient
	// Logger gets one line per mail sent, retried or given up, and one per
	// outage of the outbox or Redis; nil discards them.
	Logger *slog.Logger
	// Counters may be nil.
	Counters Counters
	// PollInterval is how often the outbox is read when nobody calls
	// Wake; default 1s.
	PollInterval time.Duration
	// RetryFirst is the delay after a first failed attempt, doubled after
	// each failure up to RetryMax; defaults 5s and 30s.
	RetryFirst, RetryMax time.Duration
	// GiveUpAfter is how long after queueing a failing mail is still
	// retried; then it is marked Failed and kept for an operator. Default
	// 24h.
	GiveUpAfter time.Duration
	// SendTimeout bounds composing and sending one mail; default 30s. A
	// lease lasts twice as long, covering the outbox calls around it.
	SendTimeout time.Duration
	// RedisTimeout bounds each Redis call; default 2s.
	RedisTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Workers is how many mails are sent at once; default 4.
	Workers int
}

// Sender delivers the outbox's due mail in the background. Every instance
// of the server may run one on the same outbox: each mail is claimed with
// a Redis lease before it is touched, and re-read once claimed, so it is
// sent once. A failed mail is retried with backoff until GiveUpAfter.
type Sender struct {
	o      SenderOptions
	log    *slog.Logger
	leases *leases
	wake   chan struct{}

	mu       sync.Mutex
	inFlight map[string]bool // mails this Sender's workers are on

	outboxState, redisState availability
}

// NewSender returns a Sender; Run starts it. It panics if a required
// dependency is missing, which is a wiring mistake.
func NewSender(o SenderOptions) *Sender {
	if o.Outbox == nil || o.Compose == nil || o.Transport == nil || o.Redis == nil {
		panic("mail: NewSender needs Outbox, Compose, Transport and Redis")
	}
	o.PollInterval = orDefault(o.PollInterval, time.Second)
	o.RetryFirst = orDefault(o.RetryFirst, 5*time.Second)
	o.RetryMax = max(orDefault(o.RetryMax, 30*time.Second), o.RetryFirst)
	o.GiveUpAfter = orDefault(o.GiveUpAfter, 24*time.Hour)
	o.SendTimeout = orDefault(o.SendTimeout, 30*time.Second)
	o.RedisTimeout = orDefault(o.RedisTimeout, 2*time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Counters == nil {
		o.Counters = noCounters{}
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{
		o:           o,
		log:         logger,
		leases:      &leases{rdb: o.Redis, ttl: 2 * o.SendTimeout, timeout: o.RedisTimeout},
		wake:        make(chan struct{}, 1),
		inFlight:    map[string]bool{},
		outboxState: availability{what: "outbox", log: logger},
		redisState:  availability{what: "redis", log: logger},
	}
}

// Wake asks the Sender to look at the outbox now rather than at the next
// poll: the instance that queued a mail calls it, so the mail goes out at
// once. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends, then waits for the sends in flight
// (each bounded by SendTimeout and its outbox calls) so none is cut off
// midway, and returns. A failing outbox or Redis is logged and polled
// again at the next interval. Call it once.
func (s *Sender) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, s.o.Workers)
	ticker := time.NewTicker(s.o.PollInterval)
	defer ticker.Stop()
	for {
		s.poll(ctx, &wg, slots)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-s.wake:
		}
	}
}

// poll reads the due mail and hands each to a worker, waiting for a free
// one as needed.
func (s *Sender) poll(ctx context.Context, wg *sync.WaitGroup, slots chan struct{}) {
	due, err := s.o.Outbox.Due(ctx, s.o.Now(), pollLimit)
	if err != nil {
		if ctx.Err() == nil {
			s.outboxState.failed(ctx, err)
		}
		return
	}
	s.outboxState.ok(ctx)
	// A send must not stop halfway when Run's ctx ends: a message the
	// server took but the outbox still holds would go out twice.
	jobCtx := context.WithoutCancel(ctx)
	for _, m := range due {
		if s.busy(m.ID) {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		s.setBusy(m.ID, true)
		wg.Go(func() {
			defer func() {
				s.setBusy(m.ID, false)
				<-slots
			}()
			s.deliver(jobCtx, m.ID)
		})
	}
}

func (s *Sender) busy(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight[id]
}

func (s *Sender) setBusy(id string, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if busy {
		s.inFlight[id] = true
	} else {
		delete(s.inFlight, id)
	}
}

// deliver claims mail id and, if it is still due, composes and sends it
// and records the outcome.
func (s *Sender) deliver(ctx context.Context, id string) {
	token := rand.Text()
	state, err := s.leases.claim(ctx, id, token)
	if err != nil {
		s.redisState.failed(ctx, err)
		return
	}
	s.redisState.ok(ctx)
	if state == leaseHeld {
		return
	}
	removed := false
	defer func() {
		if err := s.leases.release(ctx, id, token, removed); err != nil {
			// The lease expires by itself; until then nobody sends it.
			s.log.WarnContext(ctx, "mail lease not released", "mail", id, "err", err)
		}
	}()
	step := s.o.SendTimeout / 4 // for each outbox call: the lease covers them

	if state == leaseGotSent {
		// Delivered by an earlier attempt that could not remove it.
		removed = s.remove(ctx, id, step)
		return
	}

	getCtx, cancel := context.WithTimeout(ctx, step)
	m, err := s.o.Outbox.Get(getCtx, id)
	cancel()
	if errors.Is(err, store.ErrNotFound) {
		return // sent by the lease's previous holder
	}
	if err != nil {
		s.outboxState.failed(ctx, err)
		return
	}
	if m.Failed || m.DueAt.After(s.o.Now()) {
		return // given up on, or rescheduled, by the previous holder
	}

	sendCtx, cancel := context.WithTimeout(ctx, s.o.SendTimeout)
	msg, ok, err := s.o.Compose(sendCtx, m)
	if err == nil && !ok {
		cancel()
		if removed = s.remove(ctx, id, step); removed {
			s.log.InfoContext(ctx, "mail dropped: nothing to send", "mail", id, "kind", m.Kind)
		}
		return
	}
	if err == nil {
		msg.ID = m.ID
		err = s.o.Transport.Send(sendCtx, msg)
	}
	cancel()
	if err != nil {
		s.failed(ctx, m, err, step)
		return
	}

	if err := s.leases.markSent(ctx, id); err != nil {
		s.log.WarnContext(ctx, "mail sent but not marked sent in redis", "mail", id, "err", err)
	}
	removed = s.remove(ctx, id, step)
	s.o.Counters.MailSent(m.Kind)
	s.log.InfoContext(ctx, "mail sent", "mail", id, "kind", m.Kind, "attempts", m.Attempts+1)
}

// remove takes mail id out of the outbox, saying whether it did.
func (s *Sender) remove(ctx context.Context, id string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.o.Outbox.Sent(ctx, id); err != nil {
		// The delivery marker in Redis keeps it from going out again.
		s.log.WarnContext(ctx, "mail not removed from the outbox; will be later", "mail", id, "err", err)
		return false
	}
	return true
}

// failed records a failed attempt at m: a retry after backoff, or, once
// GiveUpAfter has passed since it was queued, the end of trying.
func (s *Sender) failed(ctx context.Context, m store.Mail, sendErr error, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	attempts := m.Attempts + 1
	lastErr := redact(sendErr.Error(), m.To)
	if len(lastErr) > maxLastError {
		lastErr = lastErr[:maxLastError]
	}
	now := s.o.Now()
	if now.Sub(m.CreatedAt) >= s.o.GiveUpAfter {
		if err := s.o.Outbox.GiveUp(ctx, m.ID, attempts, lastErr); err != nil {
			s.log.WarnContext(ctx, "mail failed; giving up not recorded", "mail", m.ID, "err", err)
			return
		}
		s.o.Counters.MailGaveUp(m.Kind)
		s.log.ErrorContext(ctx, "mail given up", "mail", m.ID, "kind", m.Kind, "attempts", attempts, "err", lastErr)
		return
	}
	delay := backoff(attempts, s.o.RetryFirst, s.o.RetryMax)
	if err := s.o.Outbox.Retry(ctx, m.ID, attempts, now.Add(delay), lastErr); err != nil {
		s.log.WarnContext(ctx, "mail failed; retry not recorded", "mail", m.ID, "err", err)
		return
	}
	s.o.Counters.MailRetried(m.Kind)
	s.log.WarnContext(ctx, "mail not sent; will retry", "mail", m.ID, "kind", m.Kind,
		"attempts", attempts, "retry_in", delay, "err", lastErr)
}

// backoff is the wait after the attempts-th failure: first, doubled after
// each further failure, at most limit.
func backoff(attempts int, first, limit time.Duration) time.Duration {
	d := first
	for i := 1; i < attempts && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// availability logs a dependency failing once per outage, not once per
// attempt, and its return.
type availability struct {
	what string
	log  *slog.Logger
	mu   sync.Mutex
	down bool
}

func (a *availability) failed(ctx context.Context, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.down {
		a.down = true
		a.log.WarnContext(ctx, "mail sender: "+a.what+" unavailable; polling on", "err", err)
	}
}

func (a *availability) ok(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		a.down = false
		a.log.InfoContext(ctx, "mail sender: "+a.what+" available again")
	}
}

type noCounters struct{}

func (noCounters) MailSent(string)    {}
func (noCounters) MailRetried(string) {}
func (noCounters) MailGaveUp(string)  {}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
