package account

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessiongql/server/internal/apperr"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" Ada@Example.COM ", "ada@example.com", true},
		{"a.b+tag@sub.example.org", "a.b+tag@sub.example.org", true},
		{"", "", false},
		{"plain", "", false},
		{"Ada <ada@example.com>", "", false},
		{"a@example.com, b@example.com", "", false},
		{strings.Repeat("a", 250) + "@e.co", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("NormalizeEmail(%q): code %q", tt.in, apperr.CodeOf(err))
		}
	}
}

func TestCheckPasswordCountsBytes(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"1234567", false},
		{"12345678", true},
		{strings.Repeat("x", 72), true},
		{strings.Repeat("x", 73), false},
		{strings.Repeat("€", 24), true},  // 72 bytes
		{strings.Repeat("€", 25), false}, // 75 bytes, 25 characters
	}
	for _, tt := range tests {
		if err := CheckPassword("password", tt.pw); (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%d bytes) = %v", len(tt.pw), err)
		}
	}
}

func TestNormalizeNameCountsCharacters(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"  Ada ", "Ada", true},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), true},
		{strings.Repeat("é", 101), "", false},
		{"   ", "", false},
		{"\xff", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeName(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestDummyHashCostsWhatARealHashCosts(t *testing.T) {
	const cost = 6
	s, err := NewService(nil, cost, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(s.dummyHash); err != nil || c != cost {
		t.Fatalf("dummy hash cost %d (%v), want %d", c, err, cost)
	}
}
