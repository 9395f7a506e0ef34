package session

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/sessions"
)

// recheckEvery bounds how long a socket trusts pub/sub alone: an event lost
// while the subscription reconnects is caught by reading Redis.
const recheckEvery = 30 * time.Second

// eventGrace is how long a socket that finds its session gone before its
// expiry waits for the event saying why, before it reports REVOKED.
const eventGrace = 2 * time.Second

// Socket is the session a long-lived connection (a websocket) was opened
// with, followed for the connection's life: a rotation in the same
// browser moves it to the successor session, and any other end — on any
// instance, or by expiry — ends it once: Done is closed and onEnd runs.
// Each operation on the connection runs under Operation, which reads the
// session again, so an ended session authorizes nothing.
type Socket struct {
	m      *Manager
	r      *http.Request // the upgrade request: client address, user agent
	userID string
	onEnd  func(reason string)
	done   chan struct{}

	mu        sync.Mutex // guards the fields below
	id        string     // the storage id of the session followed now
	expires   time.Time  // its expiry when last read
	missingAt time.Time  // when a recheck first found it gone before expiry
	reason    string     // why it ended; "" while live
	timer     *time.Timer
	closed    bool
	listeners map[*func(string)]struct{}
}

// OpenSocket follows the session of the request behind ctx (the websocket
// handshake) until it ends or Close is called. onEnd runs once, in its own
// goroutine, when the session ends, with the reason. ErrNotSignedIn when
// the request has no live session.
func OpenSocket(ctx context.Context, onEnd func(reason string)) (*Socket, error) {
	st, rec, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	m := st.m
	if err := m.subscribe(ctx); err != nil {
		return nil, err
	}
	s := &Socket{m: m, r: st.r, userID: rec.UserID, onEnd: onEnd, done: make(chan struct{}), id: currentID(st)}
	m.hub.add(s.id, s)
	// Read again now that events reach s: the session may have ended
	// between the handshake's read and the subscription.
	live, err := s.read(ctx)
	if err != nil || live == nil {
		m.hub.remove(s.id, s)
		if err == nil {
			err = ErrNotSignedIn
		}
		return nil, err
	}
	s.mu.Lock()
	s.expires = m.expiresAt(live)
	s.timer = time.AfterFunc(m.untilRecheck(live), s.recheck)
	s.mu.Unlock()
	return s, nil
}

// OnEnd runs fn once, with the reason, when the session ends, unless ctx
// ends first (the client stopped listening); at once if it has ended. No
// goroutine waits meanwhile: a socket may carry several such listeners
// (sessionEnded subscriptions), and there may be many sockets.
func (s *Socket) OnEnd(ctx context.Context, fn func(reason string)) {
	s.mu.Lock()
	if s.reason != "" {
		reason := s.reason
		s.mu.Unlock()
		fn(reason)
		return
	}
	key := &fn
	if s.listeners == nil {
		s.listeners = map[*func(string)]struct{}{}
	}
	s.listeners[key] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		delete(s.listeners, key)
		s.mu.Unlock()
	})
}

func (s *Socket) currentID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// token names the followed session for load. Callers hold mu or own s.
func (s *Socket) token() parsedToken {
	return parsedToken{tag: tagOf(s.userID), storageID: s.id}
}

// Done is closed when the session has ended.
func (s *Socket) Done() <-chan struct{} { return s.done }

// Reason tells why the session ended, once Done is closed.
func (s *Socket) Reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// Close stops following the session (the connection closed).
func (s *Socket) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.m.hub.remove(s.id, s)
}

// handle applies an event about the followed session.
func (s *Socket) handle(e event) {
	s.mu.Lock()
	if s.closed || s.reason != "" || e.id != s.id {
		s.mu.Unlock()
		return
	}
	if e.reason == reasonRotated {
		s.m.hub.remove(s.id, s)
		s.id = e.rotateTo
		s.m.hub.add(s.id, s)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.end(e.reason)
}

// end marks the session ended, once, and runs onEnd.
func (s *Socket) end(reason string) {
	s.mu.Lock()
	if s.closed || s.reason != "" {
		s.mu.Unlock()
		return
	}
	s.reason = reason
	if s.timer != nil {
		s.timer.Stop()
	}
	s.m.hub.remove(s.id, s)
	close(s.done)
	listeners := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	for fn := range listeners {
		(*fn)(reason)
	}
	if s.onEnd != nil {
		go s.onEnd(reason)
	}
}

// recheck reads the session from Redis at its expiry time, and every
// recheckEvery in case an event was lost.
func (s *Socket) recheck() {
	s.mu.Lock()
	if s.closed || s.reason != "" {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.m.opts.Timeout)
	defer cancel()
	rec, err := s.read(ctx)
	s.mu.Lock()
	now := s.m.opts.Now()
	switch {
	case err != nil:
		s.resetLocked(time.Second) // Redis is unreachable: ask again soon
		s.mu.Unlock()
	case rec == nil && now.Before(s.expires) && s.missingAt.IsZero():
		// Ended before its time, and the event saying why is on its way
		// (or was lost): give it a moment.
		s.missingAt = now
		s.resetLocked(eventGrace)
		s.mu.Unlock()
	case rec == nil:
		reason := ReasonExpired
		if !s.missingAt.IsZero() && s.missingAt.Before(s.expires) {
			reason = ReasonRevoked // the event was lost: ended, not expired
		}
		s.mu.Unlock()
		s.end(reason)
	default:
		s.expires, s.missingAt = s.m.expiresAt(rec), time.Time{}
		s.resetLocked(s.m.untilRecheck(rec))
		s.mu.Unlock()
	}
}

func (s *Socket) resetLocked(d time.Duration) {
	if !s.closed && s.reason == "" {
		s.timer.Reset(d)
	}
}

// read loads the followed session, following a replacement the event has
// not announced yet.
func (s *Socket) read(ctx context.Context) (*record, error) {
	s.mu.Lock()
	tok := s.token()
	s.mu.Unlock()
	rec, id, err := s.m.loadFollowing(ctx, tok)
	if err == nil && id != tok.storageID {
		s.handle(event{id: tok.storageID, reason: reasonRotated, rotateTo: id})
	}
	return rec, err
}

// untilRecheck is when a socket reads Redis next: just after the session's
// expiry, or sooner to catch a lost event.
func (m *Manager) untilRecheck(rec *record) time.Duration {
	d := m.expiresAt(rec).Sub(m.opts.Now()) + 10*time.Millisecond
	return max(min(d, recheckEvery), 10*time.Millisecond)
}

// Operation reads the followed session from Redis and returns ctx
// carrying it for one operation on the connection: UserID, SignOut,
// Revoke and the rest act on it as on an HTTP request's, extending its
// idle expiry when due; SignIn answers ErrNeedsHTTP (no cookie can be
// set). ErrNotSignedIn once the session has ended.
func (s *Socket) Operation(ctx context.Context) (context.Context, error) {
	s.mu.Lock()
	ended := s.reason != ""
	s.mu.Unlock()
	if ended {
		return ctx, ErrNotSignedIn
	}
	m := s.m
	rec, err := s.read(ctx)
	if err != nil {
		return ctx, err
	}
	if rec == nil {
		return ctx, ErrNotSignedIn
	}
	st := &state{m: m, r: s.r, socket: true}
	st.w = responseWriter{ResponseWriter: noResponse{}, mu: &st.mu}
	sess := sessions.NewSession(m, m.opts.CookieName)
	sess.ID = s.currentID()
	sess.Values[recordKey{}] = rec
	sess.Options = m.cookieOptions(m.maxAge(rec))
	st.sess = sess
	m.touchIfDue(s.r, st)
	return context.WithValue(ctx, stateKey{}, st), nil
}

// noResponse stands in for the response of an operation on a websocket:
// its headers (the cookie of an idle-expiry extension) go nowhere.
type noResponse struct{}

func (noResponse) Header() http.Header         { return http.Header{} }
func (noResponse) Write(b []byte) (int, error) { return len(b), nil }
func (noResponse) WriteHeader(int)             {}
