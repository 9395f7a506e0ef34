package totp

import (
	"regexp"
	"strings"
	"testing"
)

func TestRecoveryCodesAreShownAndHashedOnce(t *testing.T) {
	codes, hashes, err := NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes and %d hashes, want 10 of each", len(codes), len(hashes))
	}
	shape := regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)
	hexHash := regexp.MustCompile(`^[0-9a-f]{64}$`)
	seen := map[string]bool{}
	for i, c := range codes {
		if !shape.MatchString(c) {
			t.Fatalf("code %q, want xxxx-xxxx-xxxx-xxxx in lower-case base32", c)
		}
		if seen[c] {
			t.Fatalf("code %q twice", c)
		}
		seen[c] = true
		if hashes[i] != HashRecoveryCode(c) || !hexHash.MatchString(hashes[i]) {
			t.Fatalf("hash %d is %q, want the hex SHA-256 HashRecoveryCode gives", i, hashes[i])
		}
		if strings.Contains(hashes[i], strings.ReplaceAll(c, "-", "")) {
			t.Fatal("the hash holds the code")
		}
		if !LooksLikeRecoveryCode(c) {
			t.Fatalf("LooksLikeRecoveryCode(%q) = false", c)
		}
	}
	if _, _, err := NewRecoveryCodes(0); err == nil {
		t.Fatal("NewRecoveryCodes(0): no error")
	}
}

func TestRecoveryCodeHashIgnoresCaseSpacesAndDashes(t *testing.T) {
	const code = "abcd-efgh-ijkl-mn23"
	want := HashRecoveryCode(code)
	tests := []struct {
		name, typed string
		same        bool
	}{
		{"as shown", code, true},
		{"capitals", "ABCD-EFGH-IJKL-MN23", true},
		{"no dashes", "abcdefghijklmn23", true},
		{"spaces", " abcd efgh ijkl mn23\n", true},
		{"dashes anywhere", "ab-cd-ef-gh-ij-kl-mn-23", true},
		{"one character off", "abcd-efgh-ijkl-mn24", false},
		{"one character short", "abcd-efgh-ijkl-mn2", false},
		{"a non-ASCII capital", "abcd-efgh-ij\u212al-mn23", false}, // Kelvin sign
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashRecoveryCode(tt.typed) == want; got != tt.same {
				t.Fatalf("hash of %q equals the code's: %v, want %v", tt.typed, got, tt.same)
			}
		})
	}
}

func TestLooksLikeRecoveryCodeTellsItFromATOTPCode(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"abcd-efgh-ijkl-mn23", true},
		{"ABCDEFGHIJKLMN23", true},
		{" abcd efgh ijkl mn23 ", true},
		{"123456", false},
		{"123 456", false},
		{"", false},
		{"abcd-efgh-ijkl-mn2", false},
		{"abcd-efgh-ijkl-mn234", false},
		{"abcd-efgh-ijkl-mn01", false}, // 0 and 1 are not base32
		{"abcd-efgh-ijkl-mn89", false},
		{"abcd-efgh-ijkl-mné", false},
		{"abcd_efgh_ijkl_mn23", false},
	}
	for _, tt := range tests {
		if got := LooksLikeRecoveryCode(tt.code); got != tt.want {
			t.Errorf("LooksLikeRecoveryCode(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
