package session

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Profile is what a session carries of its user, so that requests the
// session can answer need no database round trip.
type Profile struct {
	Email     string
	Name      string
	CreatedAt time.Time
	// EmailVerified and TotpEnabled are store.User's.
	EmailVerified, TotpEnabled bool
	// CredentialVersion is the version of the user's password that the
	// sign-in checked (store.User.CredentialVersion); SignIn refuses it
	// once CredentialsChanged has recorded a newer one. Not stored.
	CredentialVersion int64
}

// User returns the signed-in user's id and the profile their session
// carries (ok false when it carries none, e.g. a session from before
// profiles were kept: read the database then). An anonymous request has
// id "". It fails with ErrUnavailable when the session could not be loaded.
func User(ctx context.Context) (id string, p Profile, ok bool, err error) {
	st := from(ctx)
	if st == nil {
		return "", Profile{}, false, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loadErr != nil {
		return "", Profile{}, false, st.loadErr
	}
	rec := st.record()
	if rec == nil {
		return "", Profile{}, false, nil
	}
	if !rec.HasProfile {
		return rec.UserID, Profile{}, false, nil
	}
	return rec.UserID, Profile{Email: rec.Email, Name: rec.Name, CreatedAt: time.UnixMilli(rec.UserCreated).UTC(), EmailVerified: rec.EmailVerified, TotpEnabled: rec.TotpEnabled}, true, nil
}

// refreshScript replaces the user's profile in their hash, if they have
// a session. KEYS: user hash. ARGV: profile value, email.
var refreshScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'p', ARGV[1], 'e', ARGV[2])
return 1`)

// RefreshProfile writes the user's new profile where all their sessions
// read it, so the very next request on any instance sees it. Call it after
// the database has the change.
func RefreshProfile(ctx context.Context, userID string, p Profile) error {
	st := from(ctx)
	if st == nil {
		return ErrNotSignedIn
	}
	m := st.m
	updated := record{UserID: userID, HasProfile: true, Email: p.Email, Name: p.Name, UserCreated: p.CreatedAt.UnixMilli(), EmailVerified: p.EmailVerified, TotpEnabled: p.TotpEnabled}
	rctx, cancel := m.storeCtx(ctx)
	defer cancel()
	profile, email := updated.encodeProfile()
	if err := refreshScript.Run(rctx, m.rdb, []string{userKey(tagOf(userID))}, profile, email).Err(); err != nil {
		return unavailable("refresh profile", err)
	}
	// This request's own copy, for fields resolved after the change.
	st.mu.Lock()
	if rec := st.record(); rec != nil && rec.UserID == userID {
		cp := *rec
		cp.HasProfile, cp.Email, cp.Name, cp.UserCreated, cp.EmailVerified, cp.TotpEnabled = true, p.Email, p.Name, p.CreatedAt.UnixMilli(), p.EmailVerified, p.TotpEnabled
		st.sess.Values[recordKey{}] = &cp
	}
	st.mu.Unlock()
	return nil
}
