package session

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// PendingTTL is how long the second step of a sign-in may wait for its
// code: the pending cookie's Max-Age and its record's lifetime.
const PendingTTL = 5 * time.Minute

// A pending sign-in is a password that was right for a user with a second
// factor: the cookie holds a token of the same shape as a session's, but
// Redis keeps it apart from the user's sessions, under its own key that
// expires with it, as the token's hash. Under it the browser is signed in
// to nothing (the middleware finds no session), until the second step
// spends it and signs in with a fresh token.
func pendingKey(tok parsedToken) string {
	return "pf:{" + tok.tag + "}:" + hex.EncodeToString([]byte(tok.storageID))
}

// BeginSecondFactor ends the request's session, if any, and sets the
// session cookie to a pending token for userID (Max-Age PendingTTL),
// recording the credential version the password check read: a password
// change meanwhile makes the second step's SignIn fail (ErrStaleSignIn).
func BeginSecondFactor(ctx context.Context, userID string, credentialVersion int64) error {
	st := from(ctx)
	if st == nil {
		return fmt.Errorf("session: BeginSecondFactor outside the session middleware")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.cookieWritableLocked(); err != nil {
		return err
	}
	if err := st.endLocked(ReasonLogout); err != nil {
		return err
	}
	token, err := newToken(userID)
	if err != nil {
		return fmt.Errorf("pending sign-in token: %w", err)
	}
	tok, _ := parseToken(token)
	m := st.m
	rctx, cancel := m.storeCtx(ctx)
	defer cancel()
	if err := m.rdb.Set(rctx, pendingKey(tok), userID+" "+strconv.FormatInt(credentialVersion, 10), PendingTTL).Err(); err != nil {
		return unavailable("begin second factor", err)
	}
	st.w.Header().Add("Set-Cookie", m.cookie(token, int(PendingTTL.Seconds())).String())
	return nil
}

// Pending is a sign-in waiting for its second factor.
type Pending struct {
	UserID            string
	CredentialVersion int64
	key               string
}

// PendingSecondFactor returns the sign-in waiting on this request's
// cookie; ok is false when the cookie names none (or it expired).
func PendingSecondFactor(ctx context.Context) (p Pending, ok bool, err error) {
	st := from(ctx)
	if st == nil {
		return Pending{}, false, nil
	}
	c, cerr := st.r.Cookie(st.m.opts.CookieName)
	if cerr != nil {
		return Pending{}, false, nil
	}
	tok, valid := parseToken(c.Value)
	if !valid {
		return Pending{}, false, nil
	}
	rctx, cancel := st.m.storeCtx(ctx)
	defer cancel()
	key := pendingKey(tok)
	v, err := st.m.rdb.Get(rctx, key).Result()
	if err == redis.Nil {
		return Pending{}, false, nil
	}
	if err != nil {
		return Pending{}, false, unavailable("read second factor", err)
	}
	id, version, found := strings.Cut(v, " ")
	n, perr := strconv.ParseInt(version, 10, 64)
	if !found || perr != nil || tagOf(id) != tok.tag {
		return Pending{}, false, nil
	}
	return Pending{UserID: id, CredentialVersion: n, key: key}, true, nil
}

// Spend ends the pending sign-in: of concurrent callers exactly one gets
// true, and signs in after it.
func (p Pending) Spend(ctx context.Context) (bool, error) {
	st := from(ctx)
	if st == nil {
		return false, fmt.Errorf("session: Spend outside the session middleware")
	}
	rctx, cancel := st.m.storeCtx(ctx)
	defer cancel()
	n, err := st.m.rdb.Del(rctx, p.key).Result()
	if err != nil {
		return false, unavailable("spend second factor", err)
	}
	return n == 1, nil
}
