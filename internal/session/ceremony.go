package session

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
)

// CeremonyTTL is how long a passkey ceremony's cookie lives: the challenge
// it binds to the browser lives as long (internal/passkey).
const CeremonyTTL = 300 // seconds

// ceremonyCookieName is the cookie that binds a passkey ceremony to the
// browser that began it; with Secure cookies, a __Host- name.
func (m *Manager) ceremonyCookieName() string {
	if m.opts.Secure {
		return "__Host-webauthn"
	}
	return "webauthn"
}

// BeginCeremony sets the ceremony cookie of this response to a new random
// value and returns it: the key a passkey ceremony's state is kept under.
// It fails over a websocket, which has no response to carry it.
func BeginCeremony(ctx context.Context) (string, error) {
	st := from(ctx)
	if st == nil {
		return "", fmt.Errorf("session: BeginCeremony outside the session middleware")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.cookieWritableLocked(); err != nil {
		return "", err
	}
	value := rand.Text()
	st.w.Header().Add("Set-Cookie", (&http.Cookie{
		Name: st.m.ceremonyCookieName(), Value: value, Path: "/", MaxAge: CeremonyTTL,
		Secure: st.m.opts.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}).String())
	return value, nil
}

// Ceremony returns the request's ceremony cookie ("" for none) and
// expires it in the response, if one can still be written: a ceremony
// is finished once, whatever the outcome.
func Ceremony(ctx context.Context) string {
	st := from(ctx)
	if st == nil {
		return ""
	}
	c, err := st.r.Cookie(st.m.ceremonyCookieName())
	if err != nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cookieWritableLocked() == nil {
		st.w.Header().Add("Set-Cookie", (&http.Cookie{
			Name: st.m.ceremonyCookieName(), Value: "", Path: "/", MaxAge: -1,
			Secure: st.m.opts.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		}).String())
	}
	return c.Value
}
