package session

import (
	"strings"
	"testing"
)

func TestNewTokenParsesBackWithTheUsersTag(t *testing.T) {
	tok, err := newToken("user-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != tokenLen {
		t.Fatalf("token length %d, want %d", len(tok), tokenLen)
	}
	p, ok := parseToken(tok)
	if !ok || p.tag != tagOf("user-1") || p.storageID == "" || strings.Contains(p.storageID, tok) {
		t.Fatalf("parse %q: %+v %v", tok, p, ok)
	}
	other, _ := newToken("user-1")
	if other == tok {
		t.Fatal("two tokens are equal")
	}
	if publicID(p.storageID) == p.storageID || strings.Contains(tok, publicID(p.storageID)) {
		t.Fatal("public id reveals the storage id or token")
	}
}

func TestParseTokenRefusesMalformedValues(t *testing.T) {
	good, _ := newToken("u")
	tests := map[string]string{
		"empty":         "",
		"short":         good[:tokenLen-1],
		"long":          good + "A",
		"bad alphabet":  strings.Repeat("!", tokenLen),
		"std alphabet":  strings.Repeat("+", tokenLen),
		"non-canonical": strings.Repeat("A", tokenLen-1) + "B",
		"non-ascii":     strings.Repeat("é", tokenLen/2) + "A",
		"padding":       good[:tokenLen-1] + "=",
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			if _, ok := parseToken(v); ok {
				t.Fatalf("parseToken(%q) accepted", v)
			}
		})
	}
}

func TestTruncateUTF8NeverSplitsACharacter(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},
		{"€€", 4, "€"},
		{"€€", 6, "€€"},
	}
	for _, tt := range tests {
		if got := truncateUTF8(tt.in, tt.n); got != tt.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
