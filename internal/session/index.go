package session

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Info describes one live session for its owner.
type Info struct {
	// ID is the public handle: a hash of the storage id, from which neither
	// the token nor the Redis key can be derived.
	ID         string
	Current    bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string

	storageID string
}

// listScript drops expired sessions from the user hash, then returns the
// rest, field and value in turn, in one round trip. KEYS: user hash. ARGV:
// now, idle, lifetime (ms).
var listScript = redis.NewScript(`
local k = KEYS[1]
local now, idle, life = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
` + pruneLua + dropIfEmptyLua + `
local out = {}
for f, v in pairs(vals) do
  out[#out + 1] = f
  out[#out + 1] = v
end
return out`)

// list returns userID's live sessions, newest first. Expired sessions are
// removed as a side effect.
func (m *Manager) list(ctx context.Context, userID string) ([]Info, error) {
	ctx, cancel := m.storeCtx(ctx)
	defer cancel()
	now := m.opts.Now()
	res, err := listScript.Run(ctx, m.rdb, []string{userKey(tagOf(userID))},
		now.UnixMilli(), m.opts.IdleTimeout.Milliseconds(), m.opts.Lifetime.Milliseconds()).StringSlice()
	if err != nil {
		return nil, unavailable("list sessions", err)
	}
	var out []Info
	for i := 0; i+1 < len(res); i += 2 {
		rec, err := decodeSession([]byte(res[i+1]))
		if err != nil || rec.UserID != userID || !m.expiresAt(rec).After(now) {
			continue // another user's (a shared hash), or expired meanwhile
		}
		out = append(out, Info{
			ID:         publicID(res[i]),
			CreatedAt:  rec.createdAt().UTC(),
			LastSeenAt: rec.lastSeenAt().UTC(),
			ExpiresAt:  m.expiresAt(rec).UTC(),
			UserAgent:  rec.UserAgent,
			IP:         rec.IP,
			storageID:  res[i],
		})
	}
	slices.SortFunc(out, func(a, b Info) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// signedIn returns the request's state and user, or ErrNotSignedIn.
func signedIn(ctx context.Context) (*state, *record, error) {
	st := from(ctx)
	if st == nil {
		return nil, nil, ErrNotSignedIn
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loadErr != nil {
		return nil, nil, st.loadErr
	}
	rec := st.record()
	if rec == nil {
		return nil, nil, ErrNotSignedIn
	}
	return st, rec, nil
}

// List returns the signed-in user's live sessions, newest first, with the
// request's own marked Current.
func List(ctx context.Context) ([]Info, error) {
	st, rec, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	infos, err := st.m.list(ctx, rec.UserID)
	if err != nil {
		return nil, err
	}
	current := currentID(st)
	for i := range infos {
		infos[i].Current = infos[i].storageID == current
	}
	return infos, nil
}

func currentID(st *state) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sess == nil {
		return ""
	}
	return st.sess.ID
}

// Revoke ends the signed-in user's session with the public id, reporting
// whether one ended. Another user's id, or an unknown one, ends nothing.
// Revoking the request's own session also expires its cookie.
func Revoke(ctx context.Context, id string) (bool, error) {
	st, rec, err := signedIn(ctx)
	if err != nil {
		return false, err
	}
	infos, err := st.m.list(ctx, rec.UserID)
	if err != nil {
		return false, err
	}
	for _, in := range infos {
		if in.ID != id {
			continue
		}
		if in.storageID == currentID(st) {
			st.mu.Lock()
			defer st.mu.Unlock()
			if st.w.wroteHeader {
				return false, ErrHeadersSent
			}
			return true, st.endLocked(ReasonRevoked)
		}
		n, err := st.m.end(ctx, rec.UserID, ending{ids: []string{in.storageID}}, ReasonRevoked)
		return n == 1, err
	}
	return false, nil
}

// RevokeOthers ends every session of the signed-in user except the
// request's own (REVOKED), in one step, and returns how many ended.
func RevokeOthers(ctx context.Context) (int, error) {
	st, rec, err := signedIn(ctx)
	if err != nil {
		return 0, err
	}
	n, err := st.m.end(ctx, rec.UserID, ending{allBut: true, keep: currentID(st)}, ReasonRevoked)
	if err != nil {
		return 0, fmt.Errorf("revoke other sessions: %w", err)
	}
	return n, nil
}
