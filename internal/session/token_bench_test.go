package session

import "testing"

// BenchmarkParseToken is the cookie decode on the hot path: shape check,
// base64url decode and SHA-256 of a well-formed token.
func BenchmarkParseToken(b *testing.B) {
	tok, err := newToken("6565656565656565656565ab")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseToken(tok); !ok {
			b.Fatal("refused")
		}
	}
}
