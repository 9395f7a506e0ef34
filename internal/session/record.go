package session

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// record is what Redis keeps for one session. Field names are short because
// every live session pays for them in Redis memory.
type record struct {
	UserID    string `json:"u"`
	Created   int64  `json:"c"` // unix milliseconds
	LastSeen  int64  `json:"s"` // unix milliseconds
	UserAgent string `json:"a,omitempty"`
	IP        string `json:"i,omitempty"`
	// The user's profile, carried so that a request the session can answer
	// (`me`) needs no database round trip; RefreshProfile rewrites it in
	// every session of the user when it changes.
	Email       string `json:"e,omitempty"`
	Name        string `json:"n,omitempty"`
	UserCreated int64  `json:"t,omitempty"` // unix milliseconds
}

func (r *record) encode() ([]byte, error) { return json.Marshal(r) }

func decodeRecord(b []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode session record: %w", err)
	}
	if r.UserID == "" || r.Created == 0 {
		return nil, fmt.Errorf("decode session record: missing user or creation time")
	}
	return &r, nil
}

func (r *record) createdAt() time.Time  { return time.UnixMilli(r.Created) }
func (r *record) lastSeenAt() time.Time { return time.UnixMilli(r.LastSeen) }

// maxUserAgent bounds what one session stores of the User-Agent header.
const maxUserAgent = 256

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
