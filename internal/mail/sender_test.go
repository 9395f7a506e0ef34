package mail

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/redistest"
	"github.com/sessiongql/server/internal/smtptest"
	"github.com/sessiongql/server/internal/store"
)

const kindReset = "password_reset"

// senderFixture is one test's outbox (own database), redis-server and SMTP
// server, and what its senders count and log.
type senderFixture struct {
	outbox   *store.Outbox
	redis    *redistest.Server
	smtp     *smtptest.Server
	tpl      *Templates
	counters *counters
	logs     *logBuffer
}

func newSenderFixture(t *testing.T) *senderFixture {
	t.Helper()
	return newSenderFixtureOn(t, mongoURI(t))
}

// newSenderFixtureOn is newSenderFixture with the outbox on the MongoDB at
// uri.
func newSenderFixtureOn(t *testing.T, uri string) *senderFixture {
	t.Helper()
	return &senderFixture{
		outbox:   newOutbox(t, uri),
		redis:    redistest.Start(t),
		smtp:     smtptest.Start(t),
		tpl:      newTemplates(t, "https://app.example.com"),
		counters: newCounters(),
		logs:     &logBuffer{},
	}
}

// compose renders a reset message with the token "tok-ID", or nothing to
// send for a mail whose data says unknown=yes.
func (f *senderFixture) compose(_ context.Context, m store.Mail) (Message, bool, error) {
	if m.Data["unknown"] == "yes" {
		return Message{}, false, nil
	}
	msg, err := f.tpl.PasswordReset(m.To, m.Data["name"], "tok-"+m.ID, 30*time.Minute)
	if err != nil {
		return Message{}, false, err
	}
	return msg, true, nil
}

// start runs a Sender on the fixture, with quick timings that edit may
// change, until the test ends.
func (f *senderFixture) start(t *testing.T, edit func(*SenderOptions)) *Sender {
	t.Helper()
	tr, err := NewSMTP(SMTPOptions{Host: "127.0.0.1", Port: f.smtp.Port(), From: "no-reply@example.com", FromName: "Flashcards", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	o := SenderOptions{
		Outbox:       f.outbox,
		Compose:      f.compose,
		Transport:    tr,
		Redis:        newRedisClient(t, f.redis.Addr()),
		Logger:       f.logs.logger(),
		Counters:     f.counters,
		PollInterval: 50 * time.Millisecond,
		RetryFirst:   100 * time.Millisecond,
		RetryMax:     300 * time.Millisecond,
		SendTimeout:  5 * time.Second,
		RedisTimeout: 300 * time.Millisecond,
	}
	if edit != nil {
		edit(&o)
	}
	s := NewSender(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return s
}

func (f *senderFixture) enqueue(t *testing.T, data map[string]string) store.Mail {
	t.Helper()
	m, err := f.outbox.Enqueue(t.Context(), store.Mail{Kind: kindReset, To: uniqueEmail("user"), Data: data})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return m
}

// get returns the mail with id, or ok=false once it left the outbox.
func (f *senderFixture) get(t *testing.T, id string) (store.Mail, bool) {
	t.Helper()
	m, err := f.outbox.Get(t.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Mail{}, false
	}
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return m, true
}

// checkLogsHideMail fails t if the logs hold any of the mails' addresses
// or tokens.
func (f *senderFixture) checkLogsHideMail(t *testing.T, mails ...store.Mail) {
	t.Helper()
	logs := f.logs.String()
	for _, m := range mails {
		if strings.Contains(logs, m.To) || strings.Contains(logs, "tok-"+m.ID) {
			t.Errorf("logs contain the address or token of mail %s:\n%s", m.ID, logs)
		}
	}
}

func TestSenderDeliversAQueuedMailWithinASecondOfWake(t *testing.T) {
	t.Parallel()
	f := newSenderFixture(t)
	// Polling alone would take an hour: only Wake explains a quick send.
	s := f.start(t, func(o *SenderOptions) { o.PollInterval = time.Hour })

	first := f.enqueue(t, map[string]string{"name": "Ann"})
	s.Wake()
	f.smtp.Wait(t, 1, 5*time.Second) // the first poll has run

	second := f.enqueue(t, map[string]string{"name": "Ben"})
	began := time.Now()
	s.Wake()
	msgs := f.smtp.Wait(t, 2, time.Second)
	t.Logf("delivered %v after Wake", time.Since(began))

	for i, m := range []store.Mail{first, second} {
		got := msgs[i]
		if want := "<" + m.ID + "@example.com>"; got.MessageID != want {
			t.Errorf("message %d: Message-ID %q, want %q", i, got.MessageID, want)
		}
		if len(got.To) != 1 || got.To[0] != m.To {
			t.Errorf("message %d: To %q, want %q", i, got.To, m.To)
		}
		if link := got.Link(t, "https://app.example.com/reset-password?"); link != "https://app.example.com/reset-password?token=tok-"+m.ID {
			t.Errorf("message %d: link %q", i, link)
		}
		eventually(t, 2*time.Second, "mail removed from the outbox", func() bool {
			_, ok := f.get(t, m.ID)
			return !ok
		})
	}
	eventually(t, time.Second, "counted", func() bool {
		sent, _, _ := f.counters.get(kindReset)
		return sent == 2
	})
	if recs := f.logs.records(t, "mail sent"); len(recs) != 2 {
		t.Errorf("%d 'mail sent' lines, want 2", len(recs))
	}
	f.checkLogsHideMail(t, first, second)
}

func TestSenderRemovesMailWithNothingToSend(t *testing.T) {
	t.Parallel()
	f := newSenderFixture(t)
	unknown := f.enqueue(t, map[string]string{"unknown": "yes"})
	known := f.enqueue(t, nil)
	f.start(t, nil)

	f.smtp.Wait(t, 1, 5*time.Second)
	eventually(t, 2*time.Second, "unsendable mail removed", func() bool {
		_, ok := f.get(t, unknown.ID)
		return !ok
	})
	time.Sleep(200 * time.Millisecond) // a few more polls
	if msgs := f.smtp.Messages(); len(msgs) != 1 || msgs[0].To[0] != known.To {
		t.Fatalf("delivered %d messages, want only the one to the known address", len(msgs))
	}
	if sent, retried, gaveUp := f.counters.get(kindReset); sent != 1 || retried != 0 || gaveUp != 0 {
		t.Errorf("counted sent %d, retried %d, given up %d; want 1, 0, 0", sent, retried, gaveUp)
	}
	f.checkLogsHideMail(t, unknown, known)
}

func TestTwoSendersDeliverEachMailOnce(t *testing.T) {
	t.Parallel()
	f := newSenderFixture(t)
	const n = 36
	want := make([]string, n)
	for i := range n {
		want[i] = "<" + f.enqueue(t, nil).ID + "@example.com>"
	}
	// Both start on the same due list and race for every mail.
	for range 2 {
		f.start(t, func(o *SenderOptions) { o.Workers = 3 })
	}

	f.smtp.Wait(t, n, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // time for a duplicate to show
	var got []string
	for _, m := range f.smtp.Messages() {
		got = append(got, m.MessageID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Message-IDs delivered (%d):\n%v\nwant each of (%d):\n%v", len(got), got, len(want), want)
	}
	if sent, _, _ := f.counters.get(kindReset); sent != n {
		t.Errorf("counted %d sent, want %d", sent, n)
	}
	due, err := f.outbox.Due(t.Context(), time.Now().Add(time.Hour), 100)
	if err != nil || len(due) != 0 {
		t.Errorf("outbox still holds %d mails (%v)", len(due), err)
	}
}

func TestSenderRetriesWhileSMTPIsDownThenDeliversOnce(t *testing.T) {
	t.Parallel()
	f := newSenderFixture(t)
	f.smtp.Stop()
	m := f.enqueue(t, nil)
	f.start(t, nil)

	var last store.Mail
	eventually(t, 10*time.Second, "three failed attempts recorded", func() bool {
		last, _ = f.get(t, m.ID)
		return last.Attempts >= 3
	})
	if last.Failed || last.LastError == "" || strings.Contains(last.LastError, m.To) {
		t.Errorf("mail after failures: Failed %v, LastError %q", last.Failed, last.LastError)
	}
	// The third failure waits 300ms (RetryMax), not 400ms.
	if wait := time.Until(last.DueAt); wait > 300*time.Millisecond {
		t.Errorf("next attempt in %v, want at most RetryMax", wait)
	}
	eventually(t, time.Second, "three retries counted", func() bool {
		_, retried, _ := f.counters.get(kindReset)
		return retried >= 3
	})
	if recs := f.logs.records(t, "will retry"); len(recs) < 3 || recs[0]["mail"] != m.ID || recs[0]["level"] != "WARN" {
		t.Errorf("retry log lines: %v", recs)
	}

	f.smtp.Restart()
	f.smtp.Wait(t, 1, 5*time.Second)
	eventually(t, 2*time.Second, "mail removed from the outbox", func() bool {
		_, ok := f.get(t, m.ID)
		return !ok
	})
	time.Sleep(300 * time.Millisecond)
	if msgs := f.smtp.Messages(); len(msgs) != 1 {
		t.Errorf("%d messages delivered, want 1", len(msgs))
	}
	if sent, _, gaveUp := f.counters.get(kindReset); sent != 1 || gaveUp != 0 {
		t.Errorf("counted sent %d, given up %d; want 1, 0", sent, gaveUp)
	}
	f.checkLogsHideMail(t, m)
}

func TestSenderRetriesAFailedAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*senderFixture, *SenderOptions)
	}{
		{"server rejects temporarily", func(f *senderFixture, _ *SenderOptions) { f.smtp.FailNext(2) }},
		{"compose fails", func(f *senderFixture, o *SenderOptions) {
			var calls atomic.Int32
			o.Compose = func(ctx context.Context, m store.Mail) (Message, bool, error) {
				if calls.Add(1) <= 2 {
					return Message{}, false, fmt.Errorf("make token for %s: store unavailable", m.To)
				}
				return f.compose(ctx, m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSenderFixture(t)
			m := f.enqueue(t, nil)
			f.start(t, func(o *SenderOptions) { tt.setup(f, o) })

			f.smtp.Wait(t, 1, 10*time.Second)
			eventually(t, 2*time.Second, "counted", func() bool {
				sent, _, _ := f.counters.get(kindReset)
				return sent == 1
			})
			if _, retried, _ := f.counters.get(kindReset); retried != 2 {
				t.Errorf("counted %d retries, want 2", retried)
			}
			time.Sleep(200 * time.Millisecond)
			if msgs := f.smtp.Messages(); len(msgs) != 1 {
				t.Errorf("%d messages delivered, want 1", len(msgs))
			}
			f.checkLogsHideMail(t, m)
		})
	}
}

func TestSenderGivesUpAfterGiveUpAfter(t *testing.T) {
	t.Parallel()
	f := newSenderFixture(t)
	f.smtp.Stop()
	m := f.enqueue(t, nil)
	// A day has passed since the mail was queued.
	f.start(t, func(o *SenderOptions) {
		o.Now = func() time.Time { return time.Now().Add(24*time.Hour + time.Minute) }
	})

	var got store.Mail
	eventually(t, 10*time.Second, "mail marked Failed", func() bool {
		got, _ = f.get(t, m.ID)
		return got.Failed
	})
	if got.Attempts != 1 || got.LastError == "" {
		t.Errorf("given up after %d attempts with %q, want 1 with an error", got.Attempts, got.LastError)
	}
	eventually(t, time.Second, "counted", func() bool {
		_, _, gaveUp := f.counters.get(kindReset)
		return gaveUp > 0
	})
	if sent, retried, gaveUp := f.counters.get(kindReset); sent != 0 || retried != 0 || gaveUp != 1 {
		t.Errorf("counted sent %d, retried %d, given up %d; want 0, 0, 1", sent, retried, gaveUp)
	}
	recs := f.logs.records(t, "mail given up")
	if len(recs) != 1 {
		t.Fatalf("%d 'mail given up' lines, want 1", len(recs))
	}
	if r := recs[0]; r["level"] != "ERROR" || r["mail"] != m.ID || r["kind"] != kindReset || r["attempts"] != 1.0 || r["err"] == "" {
		t.Errorf("give-up line = %v", r)
	}

	f.smtp.Restart()
	time.Sleep(500 * time.Millisecond) // ten polls
	if msgs := f.smtp.Messages(); len(msgs) != 0 {
		t.Errorf("%d messages delivered after giving up", len(msgs))
	}
	if again, _ := f.get(t, m.ID); !again.Failed || again.Attempts != 1 {
		t.Errorf("mail after giving up: Failed %v, Attempts %d", again.Failed, again.Attempts)
	}
	f.checkLogsHideMail(t, m)
}

func TestSenderWaitsOutARedisOutage(t *testing.T) {
	t.Parallel()
	f := newSenderFixture(t)
	f.redis.Stop(t)
	m := f.enqueue(t, nil)
	f.start(t, nil)

	time.Sleep(600 * time.Millisecond) // a dozen polls
	if msgs := f.smtp.Messages(); len(msgs) != 0 {
		t.Fatalf("%d messages sent without a lease", len(msgs))
	}
	if recs := f.logs.records(t, "redis unavailable"); len(recs) != 1 {
		t.Errorf("%d 'redis unavailable' lines, want 1 per outage", len(recs))
	}
	if got, _ := f.get(t, m.ID); got.Attempts != 0 {
		t.Errorf("%d attempts counted while Redis was down, want 0", got.Attempts)
	}

	f.redis.Restart(t)
	f.smtp.Wait(t, 1, 5*time.Second)
	eventually(t, time.Second, "recovery logged", func() bool {
		return len(f.logs.records(t, "redis available again")) == 1
	})
}

func TestSenderWaitsOutAnOutboxOutage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := devstack.StartMongo(t.Context(), dir, nil)
	if errors.Is(err, devstack.ErrNotBuiltIn) {
		t.Skip("FerretDB is left out of this build")
	}
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	// Registered before the fixture's clients, so it runs after they
	// disconnect.
	t.Cleanup(func() { db.Close() })
	u, err := url.Parse(db.URI())
	if err != nil {
		t.Fatalf("parse %q: %v", db.URI(), err)
	}
	f := newSenderFixtureOn(t, db.URI())
	m := f.enqueue(t, nil)
	db.Close()
	f.start(t, nil)

	// Each poll waits for the outbox's timeout (2s) before failing.
	eventually(t, 5*time.Second, "outage logged", func() bool {
		return len(f.logs.records(t, "outbox unavailable")) > 0
	})
	time.Sleep(2 * time.Second) // another poll or so
	if recs := f.logs.records(t, "outbox unavailable"); len(recs) != 1 {
		t.Errorf("%d 'outbox unavailable' lines, want 1 per outage", len(recs))
	}
	if msgs := f.smtp.Messages(); len(msgs) != 0 {
		t.Fatalf("%d messages sent while the outbox was down", len(msgs))
	}

	// The same folder: the queued mail is still there.
	if db, err = devstack.StartMongoAt(t.Context(), u.Host, dir, nil); err != nil {
		t.Fatalf("StartMongoAt(%s): %v", u.Host, err)
	}
	msgs := f.smtp.Wait(t, 1, 15*time.Second)
	if want := "<" + m.ID + "@example.com>"; msgs[0].MessageID != want {
		t.Errorf("Message-ID %q, want %q", msgs[0].MessageID, want)
	}
	eventually(t, 2*time.Second, "recovery logged", func() bool {
		return len(f.logs.records(t, "outbox available again")) == 1
	})
}

func TestBackoffDoublesUpToTheLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{4, 30 * time.Second},
		{5, 30 * time.Second},
		{1000, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.attempts, 5*time.Second, 30*time.Second); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.attempts, got, tt.want)
		}
	}
}
