package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reasons a session ends, as sockets and the sessionEnded subscription
// report them.
const (
	ReasonLogout          = "LOGOUT"
	ReasonRevoked         = "REVOKED"
	ReasonPasswordChanged = "PASSWORD_CHANGED"
	ReasonExpired         = "EXPIRED"
)

// reasonRotated marks an event that moves a browser from one session to
// its successor (a second sign-in, a password change): followed, not ended.
const reasonRotated = "ROTATED"

// eventsChannel carries session ends and rotations to every instance.
// A message is the raw storage id (storageIDLen bytes) followed by the
// reason, or by "ROTATED" and the successor's raw storage id. A storage
// id is a hash, never a token.
const eventsChannel = "session-events"

// credentialKeep is how long a user hash keeps the credential version
// after a password change with no session left to hold it: far longer
// than a sign-in takes from reading the password hash to creating its
// session.
const credentialKeep = time.Hour

// endLua defines finish(f), which deletes session field f of hash k and
// tells every instance why it ended (reason), counting the ends in n.
// Every end of a session runs it: Manager.end for logout, revocation,
// signing out others and password changes; saveScript for the sessions
// evicted beyond MaxPerUser and for the session a sign-in replaces.
const endLua = `
local n = 0
local function finish(f, reason)
  if redis.call('HDEL', k, f) == 1 then
    n = n + 1
    redis.call('PUBLISH', ARGV[1], f .. reason)
  end
end
`

// endScript ends sessions of one user hash. KEYS: user hash. ARGV:
// channel, reason, mode ("all": every session of the user but keep;
// "list": the fields from ARGV[9] on), the encoded user id, keep, the
// credential version field, the version ("" to leave it), the version's
// keep time (ms), fields... Returns how many sessions ended.
//
// A version is written in the same script that ends the sessions, so no
// session exists between the two; saveScript refuses sign-ins that read
// an older one.
var endScript = redis.NewScript(`
local k = KEYS[1]
` + endLua + `
if ARGV[3] == 'all' then
  local uid, keep = ARGV[4], ARGV[5]
  local all = redis.call('HGETALL', k)
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    if #f == 16 and f ~= keep and string.sub(v, 14, 13 + #uid) == uid then finish(f, ARGV[2]) end
  end
else
  for i = 9, #ARGV do finish(ARGV[i], ARGV[2]) end
end
if ARGV[7] ~= '' then
  local cur = tonumber(redis.call('HGET', k, ARGV[6]) or '0') or 0
  if tonumber(ARGV[7]) > cur then redis.call('HSET', k, ARGV[6], ARGV[7]) end
  if redis.call('PTTL', k) < tonumber(ARGV[8]) then redis.call('PEXPIRE', k, ARGV[8]) end
end
` + dropIfEmptyLua + `
return n`)

// ending says which sessions Manager.end ends: the listed storage ids, or
// every session of the user but keep.
type ending struct {
	ids        []string
	allBut     bool
	keep       string
	version    int64 // recorded when hasVersion (CredentialsChanged)
	hasVersion bool
}

// end is where a session ends. It deletes the sessions of userID that e
// names and publishes, for each that existed, why it ended; every
// instance then completes the sessionEnded subscriptions and closes the
// sockets those sessions authenticated (Socket). It returns how many
// ended. Expiry is the one end that needs no call: Redis forgets the
// session, and sockets notice at its expiry time (Socket.recheck).
func (m *Manager) end(ctx context.Context, userID string, e ending, reason string) (int, error) {
	ctx, cancel := m.storeCtx(context.WithoutCancel(ctx))
	defer cancel()
	mode := "list"
	if e.allBut {
		mode = "all"
	}
	version := ""
	if e.hasVersion {
		version = fmt.Sprint(e.version)
	}
	args := make([]any, 0, 8+len(e.ids))
	args = append(args, eventsChannel, reason, mode, appendUserID(nil, userID), e.keep,
		versionField(userID), version, credentialKeep.Milliseconds())
	for _, id := range e.ids {
		args = append(args, id)
	}
	n, err := endScript.Run(ctx, m.rdb, []string{userKey(tagOf(userID))}, args...).Int()
	if err != nil {
		return 0, unavailable("end session", err)
	}
	return n, nil
}

// versionField names, in the user's hash, the version of the credentials
// their sessions must have been signed in with. It is never storageIDLen
// bytes long, so no script mistakes it for a session.
func versionField(userID string) string {
	sum := sha256.Sum256([]byte("credential-version:" + userID))
	return "v:" + hex.EncodeToString(sum[:16]) // 34 bytes: pruneLua knows it
}

// CredentialsChanged makes a password change final for userID, whose
// credentials are now at version (store.User.CredentialVersion): in one
// step it ends every session of the user but the request's own (reason
// PASSWORD_CHANGED) and refuses, from then on, any sign-in whose password
// check read an older version. The caller then signs the request in again
// (SignIn), which replaces its own session. It returns how many ended.
func CredentialsChanged(ctx context.Context, userID string, version int64) (int, error) {
	st := from(ctx)
	if st == nil {
		return 0, fmt.Errorf("session: CredentialsChanged outside the session middleware")
	}
	return st.m.end(ctx, userID, ending{allBut: true, keep: currentID(st), version: version, hasVersion: true}, ReasonPasswordChanged)
}

// CredentialsChangedEverywhere is CredentialsChanged that keeps no
// session, this request's included: for a reset whose sign-in still waits
// for a second factor.
func CredentialsChangedEverywhere(ctx context.Context, userID string, version int64) (int, error) {
	st := from(ctx)
	if st == nil {
		return 0, fmt.Errorf("session: CredentialsChangedEverywhere outside the session middleware")
	}
	return st.m.end(ctx, userID, ending{allBut: true, version: version, hasVersion: true}, ReasonPasswordChanged)
}
