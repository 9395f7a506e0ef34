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
)

// ErrUnavailable wraps every failure to reach Redis in time; the GraphQL
// edge answers SERVICE_UNAVAILABLE for it.
var ErrUnavailable = errors.New("session store unavailable")

// ErrHeadersSent reports a sign-in or sign-out after the response headers
// were written: the cookie could not be delivered, so nothing was changed.
var ErrHeadersSent = errors.New("session: response headers already sent")

// Options configure a Manager; API.md's cookie rules are the reference.
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

// Lua scripts: each touches a session key and its user's index, which share
// a hash slot, so each runs atomically on a single node or a cluster.
var (
	// KEYS: session, index. ARGV: value, ttl ms, member, expiry ms, now ms,
	// max entries, session key prefix, mode ("NX" create, "XX" extend),
	// last seen ms. An extension changes only the last-seen time of the
	// stored record, so a profile refreshed meanwhile (RefreshProfile) is
	// not overwritten with the copy this request loaded.
	saveScript = redis.NewScript(`
if ARGV[8] == 'XX' then
  local v = redis.call('GET', KEYS[1])
  if not v then return 0 end
  local r = cjson.decode(v)
  r.s = tonumber(ARGV[9])
  redis.call('SET', KEYS[1], cjson.encode(r), 'PX', ARGV[2])
else
  local ok = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')
  if not ok then return 0 end
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
local n = redis.call('ZCARD', KEYS[2])
local max = tonumber(ARGV[6])
if n > max then
  local old = redis.call('ZRANGE', KEYS[2], 0, n - max - 1)
  for _, m in ipairs(old) do redis.call('DEL', ARGV[7] .. m) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - max - 1)
end
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1`)
	// KEYS: session, index. ARGV: member, event channel, event message
	// (published only when a session was deleted and the message is set).
	deleteScript = redis.NewScript(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if n == 1 and ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return n`)
)

func (m *Manager) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, m.opts.Timeout)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}

// load returns the live record for a well-formed token, or nil.
func (m *Manager) load(ctx context.Context, tok parsedToken) (*record, error) {
	ctx, cancel := m.storeCtx(ctx)
	defer cancel()
	b, err := m.rdb.Get(ctx, sessionKey(tok.tag, tok.storageID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable("load session", err)
	}
	rec, err := decodeRecord(b)
	if err != nil || tagOf(rec.UserID) != tok.tag {
		// Not ours, or corrupt: anonymous, as for any unknown token.
		return nil, nil
	}
	if !m.expiresAt(rec).After(m.opts.Now()) {
		return nil, nil
	}
	return rec, nil
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

// write stores rec under storageID and indexes it. mode "NX" creates (the
// key must not exist), "XX" updates (a session ended meanwhile stays ended).
// It reports whether the write happened.
func (m *Manager) write(ctx context.Context, storageID string, rec *record, mode string) (bool, error) {
	val, err := rec.encode()
	if err != nil {
		return false, fmt.Errorf("encode session: %w", err)
	}
	now := m.opts.Now()
	exp := m.expiresAt(rec)
	ttl := exp.Sub(now)
	if ttl < time.Millisecond {
		return false, nil
	}
	tag := tagOf(rec.UserID)
	ctx, cancel := m.storeCtx(ctx)
	defer cancel()
	n, err := saveScript.Run(ctx, m.rdb,
		[]string{sessionKey(tag, storageID), indexKey(tag, rec.UserID)},
		val, ttl.Milliseconds(), storageID, exp.UnixMilli(), now.UnixMilli(),
		m.opts.MaxPerUser, sessionKey(tag, ""), mode, rec.LastSeen,
	).Int()
	if err != nil {
		return false, unavailable("save session", err)
	}
	return n == 1, nil
}

// destroy deletes a session and its index entry and, when reason is not
// empty, tells every instance's watchers why it ended. It reports whether
// the session still existed.
func (m *Manager) destroy(ctx context.Context, userID, storageID, reason string) (bool, error) {
	tag := tagOf(userID)
	ctx, cancel := m.storeCtx(ctx)
	defer cancel()
	msg := ""
	if reason != "" {
		msg = endedEvent(storageID, reason)
	}
	n, err := deleteScript.Run(ctx, m.rdb, []string{sessionKey(tag, storageID), indexKey(tag, userID)}, storageID, eventsChannel, msg).Int()
	if err != nil {
		return false, unavailable("delete session", err)
	}
	return n == 1, nil
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
