// Package session owns the session cookie, its token, the session's lifetime
// in Redis and the per-request middleware. Resolvers never touch cookies:
// they call UserID, SignIn and SignOut with the request's context.
//
// The Manager implements gorilla/sessions' Store over a go-redis
// UniversalClient instead of using rbcervilla/redisstore, because redisstore
// stores the cookie value itself as the Redis key (a copy of Redis would hold
// live credentials), adopts a client-chosen cookie value as a new session ID
// when Redis has no such key (session fixation), and has no absolute
// lifetime or per-user index. Here the cookie carries a random token, Redis
// keys hold only its SHA-256, and an unknown token is never adopted.
package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
)

// ErrStaleSignIn reports a sign-in whose password check read credentials
// that have changed since: it must not create a session (docs/API.md, "a
// password change is final").
var ErrStaleSignIn = errors.New("session: the credentials changed during sign-in")

// errNotCreated reports a create that did not happen (the storage id was
// taken, or the session would already have expired): no cookie is set.
var errNotCreated = errors.New("session: not created")

// ErrHeadersSent reports a sign-in or sign-out after the response headers
// were written: the cookie could not be delivered, so nothing was changed.
var ErrHeadersSent = errors.New("session: response headers already sent")

// Options configure a Manager; docs/docs/API.md's cookie rules are the reference.
type Options struct {
	CookieName  string
	Secure      bool
	IdleTimeout time.Duration
	Lifetime    time.Duration
	// Timeout bounds each Redis call.
	Timeout time.Duration
	// TouchInterval is the least time between two idle-expiry extensions of
	// one session (each is a Redis write). Zero means one minute, or a
	// quarter of IdleTimeout when that is shorter (short timeouts in tests).
	TouchInterval time.Duration
	// ClientIP returns the client address recorded with a new session.
	ClientIP func(*http.Request) string
	// MaxPerUser bounds the sessions one user may hold; signing in beyond it
	// ends the user's oldest sessions. Zero means 1000.
	MaxPerUser int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager loads, creates, extends and ends sessions. It is safe for
// concurrent use; per-request state lives in the request context.
type Manager struct {
	rdb  redis.UniversalClient
	opts Options
	hub  hub
}

var _ sessions.Store = (*Manager)(nil)

// NewManager returns a Manager keeping sessions in rdb.
func NewManager(rdb redis.UniversalClient, opts Options) *Manager {
	if opts.TouchInterval == 0 {
		opts.TouchInterval = min(time.Minute, opts.IdleTimeout/4)
	}
	if opts.MaxPerUser == 0 {
		opts.MaxPerUser = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClientIP == nil {
		opts.ClientIP = func(*http.Request) string { return "" }
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	return &Manager{rdb: rdb, opts: opts}
}

// pruneLua drops the hash's expired or unreadable sessions and fills vals
// (field → value) with the rest. It expects k (the key), now, idle and
// life (ms) as locals, and reads the times at encodeSession's fixed offsets
// with ms, by hand: the embedded dev Redis (miniredis) has no struct
// library. Every field but the profile ('p', 'e') and a credential
// version (versionField: 34 bytes from "v:") is read as a session, so
// values no version of the server wrote are dropped too.
const pruneLua = `
local function ms(v, i)
  local n = 0
  for j = i, i + 5 do n = n * 256 + string.byte(v, j) end
  return n
end
local vals = {}
local all = redis.call('HGETALL', k)
for i = 1, #all, 2 do
  local f, v = all[i], all[i + 1]
  if f ~= 'p' and f ~= 'e' and not (#f == 34 and string.sub(f, 1, 2) == 'v:') then
    local ok = false
    if #v >= 13 and string.byte(v, 1) == 1 then
      ok = math.min(ms(v, 8) + idle, ms(v, 2) + life) > now
    end
    if ok then vals[f] = v else redis.call('HDEL', k, f) end
  end
end
`

// dropIfEmptyLua deletes the hash once nothing but the profile is left in
// it: no session, and no credential version still guarding sign-ins.
const dropIfEmptyLua = `
if redis.call('HLEN', k) - redis.call('HEXISTS', k, 'p') - redis.call('HEXISTS', k, 'e') <= 0 then
  redis.call('DEL', k)
end
`

// Results of saveScript.
const (
	saved       = 1
	notSaved    = 0  // create: the field exists; extend: the session ended
	staleSignIn = -1 // create: the password changed since the sign-in read it
)

// Lua scripts: each reads and changes one user hash (one hash slot), so
// each runs atomically on a single node or a cluster.
var (
	// KEYS: user hash. ARGV: channel, field, session value, ttl ms, now
	// ms, idle ms, lifetime ms, max sessions per user, mode ("NX" create,
	// "XX" extend), profile value (create only), the encoded user id (to
	// count this user's sessions), email (create only), the credential
	// version field and the version the sign-in read (create only), the
	// field of the session this one replaces ("" for none).
	//
	// A create is refused when the user's credentials changed since the
	// sign-in read them (CredentialsChanged). It drops expired sessions
	// and ends, beyond the maximum, the user's oldest (REVOKED). The
	// session it replaces is ROTATED to this one: its value becomes a
	// forwarding mark (movedMark and the new storage id), which no request
	// accepts as a session but a socket follows (loadFollowing) until the
	// event reaches it; the next prune removes it. An extension rewrites only
	// the session's own value: the profile lives apart, so a profile
	// refreshed meanwhile is kept. The hash's TTL is the latest expiry of
	// its sessions.
	saveScript = redis.NewScript(`
local k = KEYS[1]
local now, idle, life = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
` + endLua + `
if ARGV[9] == 'XX' then
  local cur = redis.call('HGET', k, ARGV[2])
  if not cur or string.byte(cur, 1) ~= 1 then return 0 end
  redis.call('HSET', k, ARGV[2], ARGV[3])
else
  local cur = tonumber(redis.call('HGET', k, ARGV[13]) or '0') or 0
  if (tonumber(ARGV[14]) or 0) < cur then return -1 end
  if redis.call('HSETNX', k, ARGV[2], ARGV[3]) == 0 then return 0 end
  redis.call('HSET', k, 'p', ARGV[10], 'e', ARGV[12])
` + pruneLua + `
  local mine = {}
  local uid = ARGV[11]
  for f, v in pairs(vals) do
    if f ~= ARGV[15] and string.sub(v, 14, 13 + #uid) == uid then
      table.insert(mine, {ms(v, 2), f})
    end
  end
  local max = tonumber(ARGV[8])
  if #mine > max then
    table.sort(mine, function(a, b) return a[1] < b[1] end)
    for i = 1, #mine - max do finish(mine[i][2], 'REVOKED') end
  end
  if ARGV[15] ~= '' and redis.call('HEXISTS', k, ARGV[15]) == 1 then
    redis.call('HSET', k, ARGV[15], '\2' .. ARGV[2])
    redis.call('PUBLISH', ARGV[1], ARGV[15] .. 'ROTATED' .. ARGV[2])
  end
end
if redis.call('PTTL', k) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', k, ARGV[4])
end
return 1`)
)

func (m *Manager) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, m.opts.Timeout)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, apperr.ErrUnavailable, err)
}

// movedMark starts the value left where a session was replaced by its
// successor (saveScript), followed by the successor's storage id.
const movedMark = 2

// load returns the live record for a well-formed token, or nil: one HMGET
// of the session and its user's profile.
func (m *Manager) load(ctx context.Context, tok parsedToken) (*record, error) {
	rec, _, err := m.loadValue(ctx, tok)
	return rec, err
}

// loadFollowing is load for a connection that follows its browser's
// session: where the session was replaced, it reads the successor, and
// returns its storage id.
func (m *Manager) loadFollowing(ctx context.Context, tok parsedToken) (*record, string, error) {
	for range 3 { // a successor replaced in turn before the event came
		rec, movedTo, err := m.loadValue(ctx, tok)
		if movedTo == "" || err != nil {
			return rec, tok.storageID, err
		}
		tok.storageID = movedTo
	}
	return nil, tok.storageID, nil
}

// loadValue reads a session: its live record, or where it was replaced,
// the successor's storage id.
func (m *Manager) loadValue(ctx context.Context, tok parsedToken) (rec *record, movedTo string, err error) {
	ctx, cancel := m.storeCtx(ctx)
	defer cancel()
	vals, err := m.rdb.HMGet(ctx, userKey(tok.tag), tok.storageID, profileField, emailField).Result()
	if err != nil {
		return nil, "", unavailable("load session", err)
	}
	sv, ok := vals[0].(string)
	if !ok {
		return nil, "", nil
	}
	if len(sv) == 1+storageIDLen && sv[0] == movedMark {
		return nil, sv[1:], nil
	}
	rec, err = decodeSession([]byte(sv))
	if err != nil || !m.expiresAt(rec).After(m.opts.Now()) {
		// Corrupt, or ended: anonymous, as for any unknown token.
		return nil, "", nil
	}
	pv, _ := vals[1].(string)
	ev, _ := vals[2].(string)
	rec.applyProfile([]byte(pv), []byte(ev))
	return rec, "", nil
}

// expiresAt is the earlier of idle expiry and absolute expiry.
func (m *Manager) expiresAt(rec *record) time.Time {
	idle := rec.lastSeenAt().Add(m.opts.IdleTimeout)
	abs := rec.createdAt().Add(m.opts.Lifetime)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// write stores rec under storageID. mode "NX" creates (the field must not
// exist) and writes the profile, "XX" updates (a session ended meanwhile
// stays ended). A create checks version against the user's credential
// version and ends the session replaced (its storage id, or ""). It
// returns saved, notSaved or staleSignIn.
func (m *Manager) write(ctx context.Context, storageID string, rec *record, mode string, version int64, replaced string) (int, error) {
	val, err := rec.encodeSession()
	if err != nil {
		return notSaved, err
	}
	var profile, email []byte
	if mode == "NX" {
		profile, email = rec.encodeProfile()
	}
	now := m.opts.Now()
	ttl := m.expiresAt(rec).Sub(now)
	if ttl < time.Millisecond {
		return notSaved, nil
	}
	ctx, cancel := m.storeCtx(ctx)
	defer cancel()
	n, err := saveScript.Run(ctx, m.rdb, []string{userKey(tagOf(rec.UserID))},
		eventsChannel, storageID, val, ttl.Milliseconds(), now.UnixMilli(), m.opts.IdleTimeout.Milliseconds(),
		m.opts.Lifetime.Milliseconds(), m.opts.MaxPerUser, mode, profile, appendUserID(nil, rec.UserID), email,
		versionField(rec.UserID), version, replaced,
	).Int()
	if err != nil {
		return notSaved, unavailable("save session", err)
	}
	return n, nil
}

// cookie returns the session cookie carrying value; maxAge < 0 expires it.
func (m *Manager) cookie(value string, maxAge int) *http.Cookie {
	return sessions.NewCookie(m.opts.CookieName, value, m.cookieOptions(maxAge))
}

func (m *Manager) cookieOptions(maxAge int) *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   m.opts.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}
