package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// A token is the cookie value: base64url (no padding) of 38 bytes, a 6-byte
// slot tag followed by 32 random bytes (256 bits of entropy).
//
// The slot tag is derived from the user id (slotTag). It names the one Redis
// hash that holds all of the user's sessions (userKey), so a request finds
// its session from the cookie alone, and each change to a user's sessions is
// one command or script on one key (one hash slot on a cluster). It reveals
// nothing usable: 48 bits of a hash of the user id, which is not a secret
// either.
const (
	tagLen    = 6
	secretLen = 32
	rawLen    = tagLen + secretLen
	tokenLen  = (rawLen*8 + 5) / 6 // 51 base64url characters
	// storageIDLen bytes of the token's SHA-256 name a session in Redis:
	// 128 bits, far beyond guessing, and the token is not derivable from it.
	storageIDLen = 16
)

var (
	b64 = base64.RawURLEncoding
	// strictB64 also refuses non-canonical spellings (trailing bits set),
	// so that one token has exactly one spelling.
	strictB64 = base64.RawURLEncoding.Strict()
)

// slotTag is the hash tag shared by a user's sessions.
func slotTag(userID string) []byte {
	sum := sha256.Sum256([]byte("session-slot:" + userID))
	return sum[:tagLen]
}

// newToken returns a fresh token for userID.
func newToken(userID string) (string, error) {
	raw := make([]byte, rawLen)
	copy(raw, slotTag(userID))
	if _, err := rand.Read(raw[tagLen:]); err != nil {
		return "", err
	}
	return b64.EncodeToString(raw), nil
}

// parsedToken is what a well-formed token tells the server without Redis.
type parsedToken struct {
	tag       string // base64url slot tag
	storageID string // the first storageIDLen bytes of the token's SHA-256, raw: the only form kept in Redis
}

// parseToken checks a cookie value's shape. Anything else (empty, huge,
// non-ASCII, wrong length, bad alphabet) is rejected here, before Redis.
func parseToken(v string) (parsedToken, bool) {
	if len(v) != tokenLen {
		return parsedToken{}, false
	}
	var raw [rawLen]byte
	n, err := strictB64.Decode(raw[:], []byte(v))
	if err != nil || n != rawLen {
		return parsedToken{}, false
	}
	sum := sha256.Sum256(raw[:])
	return parsedToken{tag: b64.EncodeToString(raw[:tagLen]), storageID: string(sum[:storageIDLen])}, true
}

// publicID is the handle clients see as Session.id: a hash of the storage id,
// so neither the token nor the Redis field can be derived from it.
func publicID(storageID string) string {
	sum := sha256.Sum256([]byte("session-public-id:" + storageID))
	return b64.EncodeToString(sum[:16])
}

// userKey names the Redis hash holding the sessions of the users whose
// slot tag is tag (one user, but for a 48-bit collision). Its fields are
// storage ids, profileField and emailField.
func userKey(tag string) string { return "s:{" + tag + "}" }

func tagOf(userID string) string { return b64.EncodeToString(slotTag(userID)) }
