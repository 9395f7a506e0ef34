package session

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/gorilla/sessions"

	"github.com/sessiongql/server/internal/apperr"
)

type stateKey struct{}

// state is one request's session. The middleware loads it once; resolvers,
// which gqlgen runs concurrently, read and change it under mu. sess is nil
// while the request has no live session (no Redis read, nothing allocated
// for an anonymous request).
type state struct {
	m       *Manager
	r       *http.Request
	w       responseWriter
	mu      sync.Mutex
	sess    *sessions.Session
	loadErr error
	// socket marks one operation on a websocket (Socket.Operation): it
	// has no response to carry a cookie.
	socket bool
}

// record returns the signed-in session's record, or nil. Callers hold mu.
func (st *state) record() *record {
	if st.sess == nil {
		return nil
	}
	rec, _ := st.sess.Values[recordKey{}].(*record)
	return rec
}

// Middleware loads the request's session once, extends its idle expiry when
// due (at most one Redis write per session per TouchInterval), and puts the
// request, the response writer and the session into the context for
// UserID, SignIn, SignOut, Request and ResponseWriter.
//
// Cookies are written into the header map by SignIn and SignOut themselves,
// while the resolver runs: gqlgen writes the response only after every
// resolver has returned. If the headers have already gone out (a streamed
// response), SignIn and SignOut fail with ErrHeadersSent instead of
// silently losing the cookie.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{m: m}
		st.w = responseWriter{ResponseWriter: w, mu: &st.mu}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		st.r = r
		st.sess, st.loadErr = m.live(r, m.opts.CookieName)
		if st.sess != nil {
			m.touchIfDue(r, st)
		}
		next.ServeHTTP(&st.w, r)
	})
}

func (m *Manager) touchIfDue(r *http.Request, st *state) {
	rec := st.sess.Values[recordKey{}].(*record)
	now := m.opts.Now()
	if now.Sub(rec.lastSeenAt()) < m.opts.TouchInterval {
		return
	}
	updated := *rec
	updated.LastSeen = now.UnixMilli()
	st.sess.Values[recordKey{}] = &updated
	// A failed extension is not the request's failure: the session stays
	// valid until its current expiry and the next request tries again.
	if err := m.Save(r, &st.w, st.sess); err != nil {
		st.sess.Values[recordKey{}] = rec
	}
}

func from(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey{}).(*state)
	return st
}

// UserID returns the signed-in user's id, or "" for an anonymous request.
// It fails with ErrUnavailable when the session could not be loaded, so that
// a Redis outage is never mistaken for "signed out".
func UserID(ctx context.Context) (string, error) {
	st := from(ctx)
	if st == nil {
		return "", nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loadErr != nil {
		return "", st.loadErr
	}
	if rec := st.record(); rec != nil {
		return rec.UserID, nil
	}
	return "", nil
}

// ErrNeedsHTTP refuses a sign-in over a websocket, which has no response
// to carry the new cookie. Resolvers check CheckCanSignIn before they
// change anything.
var ErrNeedsHTTP = apperr.Input("", "This operation sets the session cookie: send it over HTTP, not the websocket.")

// CheckCanSignIn tells, before a resolver changes anything, whether SignIn
// could deliver a cookie on this request.
func CheckCanSignIn(ctx context.Context) error {
	st := from(ctx)
	if st == nil {
		return fmt.Errorf("session: SignIn outside the session middleware")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.cookieWritableLocked()
}

// cookieWritableLocked tells whether a cookie set now would reach the
// client. Callers hold mu.
func (st *state) cookieWritableLocked() error {
	switch {
	case st.socket:
		return ErrNeedsHTTP
	case st.w.wroteHeader:
		return ErrHeadersSent
	}
	return nil
}

// SignIn starts a new session for userID with a fresh token, set as the
// cookie of this response, and ends the request's current session, if
// any. When the current session was already userID's (a second login, a
// password change), the new session replaces it in the same step: the
// browser's sockets follow the new one instead of being told it ended.
// ErrStaleSignIn when the user's password changed since p's
// CredentialVersion was read: nothing is created.
func SignIn(ctx context.Context, userID string, p Profile) error {
	st := from(ctx)
	if st == nil {
		return fmt.Errorf("session: SignIn outside the session middleware")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.cookieWritableLocked(); err != nil {
		return err
	}
	m := st.m
	replaces := ""
	if rec := st.record(); rec != nil && rec.UserID == userID {
		replaces = st.sess.ID
	} else if err := st.endLocked(ReasonLogout); err != nil {
		return err
	}
	now := m.opts.Now().UnixMilli()
	s := sessions.NewSession(m, m.opts.CookieName)
	s.IsNew = true
	s.Values[recordKey{}] = &record{
		UserID:      userID,
		Created:     now,
		LastSeen:    now,
		UserAgent:   truncateUTF8(st.r.UserAgent(), maxUserAgent),
		IP:          m.opts.ClientIP(st.r),
		HasProfile:  p.Email != "", // an empty profile is read from the database instead
		Email:       p.Email,
		Name:        p.Name,
		UserCreated: p.CreatedAt.UnixMilli(),

		EmailVerified: p.EmailVerified,
		TotpEnabled:   p.TotpEnabled,
	}
	s.Values[signInKey{}] = signIn{version: p.CredentialVersion, replaces: replaces}
	if err := m.Save(st.r, &st.w, s); err != nil {
		return err
	}
	st.sess, st.loadErr = s, nil
	return nil
}

// SignOut ends the request's session in Redis and expires the cookie. It
// reports whether there was a session to end.
func SignOut(ctx context.Context) (bool, error) {
	st := from(ctx)
	if st == nil {
		return false, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loadErr != nil {
		return false, st.loadErr
	}
	if st.sess == nil {
		return false, nil
	}
	if st.w.wroteHeader {
		return false, ErrHeadersSent
	}
	if err := st.endLocked(ReasonLogout); err != nil {
		return false, err
	}
	return true, nil
}

// endLocked ends the current session, if any, and expires the cookie.
// reason is announced to the session's watchers; "" announces nothing.
func (st *state) endLocked(reason string) error {
	if st.sess == nil {
		return nil
	}
	st.sess.Options.MaxAge = -1
	st.sess.Values[endReasonKey{}] = reason
	if err := st.m.Save(st.r, &st.w, st.sess); err != nil {
		return err
	}
	st.sess = nil
	return nil
}

// Request returns the HTTP request behind ctx, or nil outside the middleware.
func Request(ctx context.Context) *http.Request {
	if st := from(ctx); st != nil {
		return st.r
	}
	return nil
}

// ResponseWriter returns the response writer behind ctx, or nil outside the
// middleware. Headers set through it after the response began are lost.
func ResponseWriter(ctx context.Context) http.ResponseWriter {
	if st := from(ctx); st != nil {
		return &st.w
	}
	return nil
}

// responseWriter records when the headers go out, so that a late cookie is
// an error rather than silently dropped. It keeps Flush, Hijack and Unwrap
// so streaming and websockets work through it.
type responseWriter struct {
	http.ResponseWriter
	mu          *sync.Mutex
	wroteHeader bool
}

func (w *responseWriter) markWritten() {
	w.mu.Lock()
	w.wroteHeader = true
	w.mu.Unlock()
}

func (w *responseWriter) WriteHeader(code int) {
	w.markWritten()
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.markWritten()
	return w.ResponseWriter.Write(b)
}

func (w *responseWriter) Flush() {
	w.markWritten()
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.markWritten()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ClientIP returns the client address of the request behind ctx (see
// Options.ClientIP), or "" outside the middleware.
func ClientIP(ctx context.Context) string {
	if st := from(ctx); st != nil {
		return st.m.opts.ClientIP(st.r)
	}
	return ""
}
