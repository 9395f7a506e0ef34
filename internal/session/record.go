package session

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// record is one session as the server uses it. In Redis it is values of
// the user's hash (userKey): the session's own (encodeSession) under its
// storage id, and the user's profile (encodeProfile), kept once per user
// under profileField and emailField and read together with the session.
type record struct {
	UserID    string
	Created   int64 // unix milliseconds
	LastSeen  int64 // unix milliseconds
	UserAgent string
	IP        string
	// The user's profile, so that a request the session can answer (`me`)
	// needs no database round trip. HasProfile is false when Redis holds
	// none for this user (e.g. the hash is shared with another user whose
	// profile won the field): callers read the database then.
	HasProfile    bool
	Email         string
	Name          string
	UserCreated   int64 // unix milliseconds
	EmailVerified bool
	TotpEnabled   bool
}

// profileField and emailField are the user hash's fields holding the
// profile; they are always written together, in one command. Storage ids
// are storageIDLen bytes, so they never clash with one.
const (
	profileField = "p"
	emailField   = "e"
)

// The binary layouts are small because every live session pays for them in
// Redis memory, and because Redis keeps a hash whose values are all at most
// 64 bytes (hash-max-listpack-value) in a compact listpack: a typical
// session value is about 40 bytes, and the email is kept apart from the
// rest of the profile so that each stays under 64 for names up to 44 bytes
// and emails up to 64.
//
// Session value:
//
//	version (1) | created ms (6) | last seen ms (6) | user id | IP | user agent
//
// Profile value (the email is the email field's value, as it is):
//
//	profile version and flags (1) | user id | user created ms (6) | name
//
// where the first byte's high 4 bits are the profile layout's version and
// its low 4 bits flags: bit 0 EmailVerified, bit 1 TotpEnabled. A profile
// of an older version is no profile: the next request reads the database,
// and the next sign-in or profile change writes the current version.
//
// The created and last-seen times sit at fixed offsets because the Lua
// scripts read them to drop expired sessions (sessionScripts).
const (
	recordVersion  = 1
	sessionHeadLen = 13
)

// Encodings of the user id: a MongoDB ObjectID in hex (24 lowercase hex
// digits) is stored as its 12 bytes; anything else as length and bytes.
const objectIDMark = 0xff

// Encodings of the IP: none, 4 or 16 bytes, or text (textIPMark|length)
// for a value that is not an address.
const textIPMark = 0x80

// Encodings of the user agent, the value's last part.
const (
	uaPlain     = 0
	uaDictCoded = 1
)

// maxUserAgent bounds what one session stores of the User-Agent header.
const maxUserAgent = 256

var errBadRecord = errors.New("malformed session record")

func appendUserID(b []byte, id string) []byte {
	if len(id) == 24 && strings.ToLower(id) == id {
		if raw, err := hex.DecodeString(id); err == nil {
			return append(append(b, objectIDMark), raw...)
		}
	}
	return append(append(b, byte(len(id))), id...)
}

func readUserID(b []byte) (string, []byte, error) {
	if len(b) < 1 {
		return "", nil, errBadRecord
	}
	n := int(b[0])
	if b[0] == objectIDMark {
		if len(b) < 13 {
			return "", nil, errBadRecord
		}
		return hex.EncodeToString(b[1:13]), b[13:], nil
	}
	if n == 0 || len(b) < 1+n {
		return "", nil, errBadRecord
	}
	return string(b[1 : 1+n]), b[1+n:], nil
}

func appendMillis(b []byte, ms int64) []byte {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(ms))
	return append(b, x[2:]...)
}

func readMillis(b []byte) int64 {
	var x [8]byte
	copy(x[2:], b[:6])
	return int64(binary.BigEndian.Uint64(x[:]))
}

// encodeSession returns the session's value. User ids longer than 254
// bytes are refused (ours are 24).
func (r *record) encodeSession() ([]byte, error) {
	if r.UserID == "" || len(r.UserID) >= objectIDMark {
		return nil, fmt.Errorf("encode session: user id of %d bytes", len(r.UserID))
	}
	b := make([]byte, 0, 48)
	b = append(b, recordVersion)
	b = appendMillis(b, r.Created)
	b = appendMillis(b, r.LastSeen)
	b = appendUserID(b, r.UserID)
	if raw := ipBytes(r.IP); raw != nil || r.IP == "" {
		b = append(append(b, byte(len(raw))), raw...)
	} else {
		ip := truncateUTF8(r.IP, textIPMark-1)
		b = append(append(b, textIPMark|byte(len(ip))), ip...)
	}
	ua := truncateUTF8(r.UserAgent, maxUserAgent)
	if coded, ok := compactUserAgent(ua); ok {
		b = append(append(b, uaDictCoded), coded...)
	} else {
		b = append(append(b, uaPlain), ua...)
	}
	return b, nil
}

// ipBytes is the binary form of an address that reads back as s, or nil.
func ipBytes(s string) []byte {
	a, err := netip.ParseAddr(s)
	if err != nil || a.String() != s {
		return nil
	}
	return a.AsSlice()
}

// decodeSession reads a session value.
func decodeSession(v []byte) (*record, error) {
	if len(v) < sessionHeadLen || v[0] != recordVersion {
		return nil, errBadRecord
	}
	r := &record{Created: readMillis(v[1:7]), LastSeen: readMillis(v[7:13])}
	id, rest, err := readUserID(v[sessionHeadLen:])
	if err != nil {
		return nil, err
	}
	r.UserID = id
	if len(rest) < 1 {
		return nil, errBadRecord
	}
	switch k := rest[0]; {
	case k == 0:
		rest = rest[1:]
	case k == 4 || k == 16:
		if len(rest) < 1+int(k) {
			return nil, errBadRecord
		}
		a, _ := netip.AddrFromSlice(rest[1 : 1+k])
		r.IP, rest = a.String(), rest[1+k:]
	case k&textIPMark != 0:
		n := int(k &^ textIPMark)
		if len(rest) < 1+n {
			return nil, errBadRecord
		}
		r.IP, rest = string(rest[1:1+n]), rest[1+n:]
	default:
		return nil, errBadRecord
	}
	if len(rest) < 1 {
		return nil, errBadRecord
	}
	switch rest[0] {
	case uaPlain:
		r.UserAgent = string(rest[1:])
	case uaDictCoded:
		r.UserAgent = expandUserAgent(rest[1:])
	default:
		return nil, errBadRecord
	}
	if r.Created == 0 {
		return nil, errBadRecord
	}
	return r, nil
}

// encodeProfile returns the user's profile and email values.
func (r *record) encodeProfile() (profile, email []byte) {
	var flags byte
	if r.EmailVerified {
		flags |= flagEmailVerified
	}
	if r.TotpEnabled {
		flags |= flagTotpEnabled
	}
	b := make([]byte, 0, 20+len(r.Name))
	b = append(b, profileVersion<<4|flags)
	b = appendUserID(b, r.UserID)
	b = appendMillis(b, r.UserCreated)
	return append(b, r.Name...), []byte(r.Email)
}

// profileVersion is the profile layout's, in the first byte's high bits;
// version 1 (the byte 1) had no flags.
const (
	profileVersion    = 2
	flagEmailVerified = 1
	flagTotpEnabled   = 2
)

// applyProfile fills r's profile from the profile and email values when
// they are the profile of r's user; otherwise r has none.
func (r *record) applyProfile(profile, email []byte) {
	r.HasProfile = false
	if len(profile) < 1 || profile[0]>>4 != profileVersion || len(email) == 0 {
		return
	}
	id, rest, err := readUserID(profile[1:])
	if err != nil || id != r.UserID || len(rest) < 6 {
		return
	}
	r.HasProfile, r.UserCreated, r.Email, r.Name = true, readMillis(rest[:6]), string(email), string(rest[6:])
	r.EmailVerified = profile[0]&flagEmailVerified != 0
	r.TotpEnabled = profile[0]&flagTotpEnabled != 0
}

func (r *record) createdAt() time.Time  { return time.UnixMilli(r.Created) }
func (r *record) lastSeenAt() time.Time { return time.UnixMilli(r.LastSeen) }

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
