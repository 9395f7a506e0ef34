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

func TestCheckPasswordCountsNFCBytes(t *testing.T) {
	const (
		short   = "Password must be at least 8 bytes."
		long    = "Password must be at most 72 bytes."
		invalid = "Password must be valid UTF-8."
	)
	tests := []struct {
		name, pw, want string // want "": accepted
	}{
		{"7 bytes", "1234567", short},
		{"8 bytes", "12345678", ""},
		{"72 bytes", strings.Repeat("x", 72), ""},
		{"73 bytes", strings.Repeat("x", 73), long},
		{"24 three-byte characters", strings.Repeat("€", 24), ""},
		{"25 three-byte characters", strings.Repeat("€", 25), long},
		{"108 bytes of NFD, 72 of NFC", strings.Repeat("e\u0301", 36), ""},
		{"111 bytes of NFD, 74 of NFC", strings.Repeat("e\u0301", 37), long},
		{"9 bytes of NFD, 6 of NFC", "e\u0301e\u0301e\u0301", short},
		{"36 bytes that NFC makes 72", strings.Repeat("\u0958", 12), ""},
		{"39 bytes that NFC makes 78", strings.Repeat("\u0958", 13), long},
		{"invalid UTF-8", "password\xff", invalid},
		{"short invalid UTF-8", "\xff", invalid},
	}
	for _, tt := range tests {
		err := CheckPassword("password", tt.pw)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: CheckPassword = %v, want accepted", tt.name, err)
		case tt.want != "":
			if msg := inputError(t, err, "password").Message; msg != tt.want {
				t.Errorf("%s: CheckPassword = %q, want %q", tt.name, msg, tt.want)
			}
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
	s, err := NewService(Options{BcryptCost: cost})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(s.dummyHash); err != nil || c != cost {
		t.Fatalf("dummy hash cost %d (%v), want %d", c, err, cost)
	}
}
