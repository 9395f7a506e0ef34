package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// A token is the cookie value: base64url (no padding) of 38 bytes, a 6-byte
// slot tag followed by 32 random bytes (256 bits of entropy).
//
// The slot tag is derived from the user id (slotTag) and is the Redis Cluster
// hash tag of both the session key and the user's session index, so that the
// keys one sign-in, touch or sign-out writes together live in one hash slot
// and can be changed by one script. It reveals nothing usable: 48 bits of a
// hash of the user id, and the user id is not a secret either.
const (
	tagLen    = 6
	secretLen = 32
	rawLen    = tagLen + secretLen
	tokenLen  = (rawLen*8 + 5) / 6 // 51 base64url characters
)

var b64 = base64.RawURLEncoding

// slotTag is the hash tag shared by a user's keys.
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
	tag       string // hex slot tag
	storageID string // base64url SHA-256 of the token: the only form kept in Redis
}

// parseToken checks a cookie value's shape. Anything else (empty, huge,
// non-ASCII, wrong length, bad alphabet) is rejected here, before Redis.
func parseToken(v string) (parsedToken, bool) {
	if len(v) != tokenLen {
		return parsedToken{}, false
	}
	var raw [rawLen]byte
	n, err := b64.Decode(raw[:], []byte(v))
	if err != nil || n != rawLen {
		return parsedToken{}, false
	}
	// Reject non-canonical encodings (trailing bits set) so that one token
	// has exactly one spelling.
	if b64.EncodeToString(raw[:]) != v {
		return parsedToken{}, false
	}
	sum := sha256.Sum256(raw[:])
	return parsedToken{tag: hex.EncodeToString(raw[:tagLen]), storageID: b64.EncodeToString(sum[:])}, true
}

// publicID is the handle clients see as Session.id: a hash of the storage id,
// so neither the token nor the Redis key can be derived from it.
func publicID(storageID string) string {
	sum := sha256.Sum256([]byte("session-public-id:" + storageID))
	return b64.EncodeToString(sum[:16])
}

// sessionKey and indexKey share the {tag} hash tag.
func sessionKey(tag, storageID string) string { return "sess:{" + tag + "}:" + storageID }

func indexKey(tag, userID string) string { return "usess:{" + tag + "}:" + userID }

func tagOf(userID string) string { return hex.EncodeToString(slotTag(userID)) }
