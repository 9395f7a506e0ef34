package session

import (
	"math"
	"net/http"

	"github.com/gorilla/sessions"
)

// Keys of gorilla's Session.Values that the Manager owns. Only the record is
// persisted; the token lives in Values for the request only, so that Save can
// write the cookie.
type (
	recordKey struct{}
	tokenKey  struct{}
	// endReasonKey carries why Save ends a session (LOGOUT by default).
	endReasonKey struct{}
	// signInKey carries a new session's signIn.
	signInKey struct{}
)

// signIn is what creating a session checks and replaces: the credential
// version its password check read, and the storage id of the browser's
// session it succeeds ("" for none).
type signIn struct {
	version  int64
	replaces string
}

// Get returns the named session through gorilla's per-request registry.
// Within this project the middleware loads the session once per request;
// call UserID, SignIn and SignOut instead.
func (m *Manager) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(m, name)
}

// New loads the session named by the request's cookie. A cookie that is not
// a well-formed token, or names no live session, gives a new empty session
// (IsNew, no ID): the client's value is never adopted. Malformed values are
// refused without a Redis round trip.
func (m *Manager) New(r *http.Request, name string) (*sessions.Session, error) {
	s, err := m.live(r, name)
	if s == nil {
		s = sessions.NewSession(m, name)
		s.IsNew = true
		s.Options = m.cookieOptions(int(m.opts.IdleTimeout.Seconds()))
	}
	return s, err
}

// live returns the live session named by the request's cookie, or nil when
// there is none (no cookie, a malformed one, or one naming no live session).
func (m *Manager) live(r *http.Request, name string) (*sessions.Session, error) {
	c, err := r.Cookie(name)
	if err != nil {
		return nil, nil
	}
	tok, ok := parseToken(c.Value)
	if !ok {
		return nil, nil
	}
	rec, err := m.load(r.Context(), tok)
	if err != nil || rec == nil {
		return nil, err
	}
	s := sessions.NewSession(m, name)
	s.ID = tok.storageID
	s.Values[recordKey{}] = rec
	s.Values[tokenKey{}] = c.Value
	s.Options = m.cookieOptions(m.maxAge(rec))
	return s, nil
}

// Save persists s and writes its cookie to w:
//   - Options.MaxAge < 0 ends the session (Manager.end) and expires the
//     cookie;
//   - a session with no ID gets a fresh token and is created (it must carry
//     a user: anonymous sessions are never stored); ErrStaleSignIn when the
//     user's password changed since the sign-in checked it;
//   - otherwise the session's lifetime is extended, if it still exists.
func (m *Manager) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	rec, _ := s.Values[recordKey{}].(*record)
	if s.Options != nil && s.Options.MaxAge < 0 {
		if rec != nil && s.ID != "" {
			reason, ok := s.Values[endReasonKey{}].(string)
			if !ok {
				reason = ReasonLogout
			}
			if _, err := m.end(r.Context(), rec.UserID, ending{ids: []string{s.ID}}, reason); err != nil {
				return err
			}
		}
		http.SetCookie(w, m.cookie("", -1))
		delete(s.Values, recordKey{})
		delete(s.Values, tokenKey{})
		delete(s.Values, endReasonKey{})
		s.ID = ""
		return nil
	}
	if rec == nil {
		return nil
	}
	if s.ID == "" {
		token, err := newToken(rec.UserID)
		if err != nil {
			return err
		}
		tok, _ := parseToken(token)
		in, _ := s.Values[signInKey{}].(signIn)
		switch n, err := m.write(r.Context(), tok.storageID, rec, "NX", in.version, in.replaces); {
		case err != nil:
			return err
		case n == staleSignIn:
			return ErrStaleSignIn
		case n != saved:
			return errNotCreated
		}
		delete(s.Values, signInKey{})
		s.ID = tok.storageID
		s.Values[tokenKey{}] = token
		s.IsNew = false
	} else {
		n, err := m.write(r.Context(), s.ID, rec, "XX", 0, "")
		if err != nil || n != saved {
			return err
		}
	}
	token, _ := s.Values[tokenKey{}].(string)
	s.Options = m.cookieOptions(m.maxAge(rec))
	http.SetCookie(w, sessions.NewCookie(s.Name(), token, s.Options))
	return nil
}

// maxAge is the cookie Max-Age in seconds: until the session's expiry, so the
// browser forgets the cookie when the server does.
func (m *Manager) maxAge(rec *record) int {
	left := m.expiresAt(rec).Sub(m.opts.Now()).Seconds()
	if left < 1 {
		return 1
	}
	return int(math.Ceil(left))
}
