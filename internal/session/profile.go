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
	rec, signed := st.sess.Values[recordKey{}].(*record)
	if !signed {
		return "", Profile{}, false, nil
	}
	if rec.Email == "" {
		return rec.UserID, Profile{}, false, nil
	}
	return rec.UserID, Profile{Email: rec.Email, Name: rec.Name, CreatedAt: time.UnixMilli(rec.UserCreated).UTC()}, true, nil
}

// refreshScript rewrites the profile in every live session of a user.
// KEYS: index. ARGV: now ms, session key prefix, email, name, created ms.
var refreshScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local k = ARGV[2] .. m
  local v = redis.call('GET', k)
  if v then
    local r = cjson.decode(v)
    r.e = ARGV[3]
    r.n = ARGV[4]
    r.t = tonumber(ARGV[5])
    redis.call('SET', k, cjson.encode(r), 'KEEPTTL')
    n = n + 1
  end
end
return n`)

// RefreshProfile writes the user's new profile into every one of their
// sessions, so the very next request on any instance sees it. Call it after
// the database has the change.
func RefreshProfile(ctx context.Context, userID string, p Profile) error {
	st := from(ctx)
	if st == nil {
		return ErrNotSignedIn
	}
	m := st.m
	tag := tagOf(userID)
	rctx, cancel := m.storeCtx(ctx)
	defer cancel()
	err := refreshScript.Run(rctx, m.rdb, []string{indexKey(tag, userID)},
		m.opts.Now().UnixMilli(), sessionKey(tag, ""), p.Email, p.Name, p.CreatedAt.UnixMilli()).Err()
	if err != nil {
		return unavailable("refresh profile", err)
	}
	// This request's own copy, for fields resolved after the change.
	st.mu.Lock()
	if rec, ok := st.sess.Values[recordKey{}].(*record); ok && rec.UserID == userID {
		updated := *rec
		updated.Email, updated.Name, updated.UserCreated = p.Email, p.Name, p.CreatedAt.UnixMilli()
		st.sess.Values[recordKey{}] = &updated
	}
	st.mu.Unlock()
	return nil
}
