package session

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzParseToken checks the cookie decoding: parseToken never panics,
// accepts only tokenLen characters of the base64url alphabet in canonical
// form, and gives every accepted token one spelling.
func FuzzParseToken(f *testing.F) {
	good, err := newToken("seed-user")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		good,
		"",
		good[:tokenLen-1],
		good + "A",
		strings.Repeat("A", tokenLen),
		strings.Repeat("A", tokenLen-1) + "B", // trailing bits set
		strings.Repeat("_", tokenLen),
		strings.Repeat("+", tokenLen), // standard alphabet
		good[:tokenLen-1] + "=",
		strings.Repeat("é", tokenLen/2) + "A",
		good[:10] + "\x00" + good[11:],
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p, ok := parseToken(v)
		if !ok {
			if p != (parsedToken{}) {
				t.Fatalf("parseToken(%q) refused but returned %+v", v, p)
			}
			return
		}
		if len(v) != tokenLen {
			t.Fatalf("parseToken accepted %q of length %d, want %d", v, len(v), tokenLen)
		}
		for _, c := range v {
			if !isBase64URL(c) {
				t.Fatalf("parseToken accepted %q with %q outside the base64url alphabet", v, c)
			}
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
		if err != nil {
			t.Fatalf("parseToken accepted %q that strict base64url refuses: %v", v, err)
		}
		if again := base64.RawURLEncoding.EncodeToString(raw); again != v {
			t.Fatalf("parseToken accepted %q that re-encodes to %q", v, again)
		}
		// The tag is the token's first 8 characters (6 bytes); the storage id
		// is 16 bytes of its hash.
		if p.tag != v[:8] || len(p.storageID) != storageIDLen || strings.Contains(v, p.storageID) {
			t.Fatalf("parseToken(%q) = %+v", v, p)
		}
		if p2, ok := parseToken(v); !ok || p2 != p {
			t.Fatalf("parseToken(%q) is not deterministic: %+v then %+v %v", v, p, p2, ok)
		}
	})
}

// FuzzNewTokenParses checks that every token the server issues parses back
// with the user's slot tag, whatever the user id.
func FuzzNewTokenParses(f *testing.F) {
	for _, seed := range []string{"", "user-1", "65f0c0ffee0123456789abcd", "\x00\xff", strings.Repeat("x", 300)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, userID string) {
		tok, err := newToken(userID)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := parseToken(tok)
		if !ok {
			t.Fatalf("newToken(%q) = %q, which parseToken refuses", userID, tok)
		}
		if p.tag != tagOf(userID) {
			t.Fatalf("token %q for %q has tag %q, want %q", tok, userID, p.tag, tagOf(userID))
		}
	})
}

func isBase64URL(c rune) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
