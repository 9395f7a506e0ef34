package securitylog

import (
	"context"
	"log/slog"
	"time"

	"github.com/sessiongql/server/internal/store"
)

// recordTimeout bounds one write of an event, on top of the store's own
// timeout: a sign-in waits for it, so it must be short.
const recordTimeout = 2 * time.Second

// Writer is what a Recorder needs of the security log;
// *store.SecurityEvents has it.
type Writer interface {
	Insert(ctx context.Context, e store.SecurityEvent) (store.SecurityEvent, error)
}

// Counter counts events that could not be recorded; a
// prometheus.Counter is one.
type Counter interface {
	Inc()
}

// Recorder writes security events for the requests that cause them.
type Recorder struct {
	events   Writer
	log      *slog.Logger
	failures Counter
	timeout  time.Duration
}

// NewRecorder returns a Recorder writing to events. Failed writes are
// logged to logger and counted by failures; either may be nil.
func NewRecorder(events Writer, logger *slog.Logger, failures Counter) *Recorder {
	if events == nil {
		panic("securitylog: NewRecorder without a store")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{events: events, log: logger, failures: failures, timeout: recordTimeout}
}

// Record writes e before it returns, so the event is listed once the
// request that caused it has answered. It goes on when ctx is cancelled
// (a client that hung up still signed in), for a couple of seconds at
// most. It never fails: a write it could not make is logged at warn and
// counted, and the caller carries on, since a sign-in must not fail for
// want of its log entry.
func (r *Recorder) Record(ctx context.Context, e store.SecurityEvent) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	if _, err := r.events.Insert(ctx, e); err != nil {
		if r.failures != nil {
			r.failures.Inc()
		}
		r.log.WarnContext(ctx, "security event not recorded", "kind", e.Kind, "user", e.UserID, "err", err)
	}
}
