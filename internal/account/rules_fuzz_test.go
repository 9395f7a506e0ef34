package account

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sessiongql/server/internal/apperr"
)

// inputError fails t unless err is an *apperr.Error with BAD_USER_INPUT
// for field, and returns it.
func inputError(t *testing.T, err error, field string) *apperr.Error {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != field || ae.Message == "" {
		t.Fatalf("error %#v, want BAD_USER_INPUT for %q", err, field)
	}
	return ae
}

// FuzzNormalizeEmail: accepted emails are trimmed, lower-case, at most
// MaxEmailBytes and normalize to themselves; refusals are input errors.
func FuzzNormalizeEmail(f *testing.F) {
	for _, seed := range []string{
		"alice@example.com",
		"  Alice@Example.COM \t",
		"",
		" ",
		"no-at-sign",
		"Alice <alice@example.com>",
		`"quoted local"@example.com`,
		"a@b",
		"a@[127.0.0.1]",
		strings.Repeat("a", 250) + "@b.co",
		"ALİCE@example.com",
		"\u212a@example.com", // Kelvin sign lower-cases to k
		"a@example.com\u0085",
		"a\x00@example.com",
		"(comment)a@example.com",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeEmail(in)
		if err != nil {
			if got != "" {
				t.Fatalf("NormalizeEmail(%q) refused but returned %q", in, got)
			}
			inputError(t, err, "email")
			return
		}
		if got == "" || len(got) > MaxEmailBytes {
			t.Fatalf("NormalizeEmail(%q) = %q (%d bytes)", in, got, len(got))
		}
		if got != strings.TrimSpace(got) || got != strings.ToLower(got) {
			t.Fatalf("NormalizeEmail(%q) = %q, not trimmed and lower-case", in, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("NormalizeEmail(%q) = %q, not valid UTF-8", in, got)
		}
		again, err := NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeEmail is not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
	})
}

// FuzzCheckPassword: a password is accepted exactly when it has 8 to 72
// bytes, whatever the bytes are.
func FuzzCheckPassword(f *testing.F) {
	for _, seed := range []string{"", "short", "12345678", "hunter2secret", strings.Repeat("x", 72), strings.Repeat("x", 73), strings.Repeat("€", 24), "\x00\x00\x00\x00\x00\x00\x00\x00"} {
		f.Add("password", seed)
	}
	f.Add("newPassword", "1234567")
	f.Fuzz(func(t *testing.T, field, password string) {
		err := CheckPassword(field, password)
		want := MinPasswordBytes <= len(password) && len(password) <= MaxPasswordBytes
		if (err == nil) != want {
			t.Fatalf("CheckPassword(%q) of %d bytes = %v, want accepted=%v", password, len(password), err, want)
		}
		if err != nil {
			// The message is one of two fixed texts, so it cannot echo the password.
			if msg := inputError(t, err, field).Message; msg != "Password must be at least 8 bytes." && msg != "Password must be at most 72 bytes." {
				t.Fatalf("CheckPassword message %q", msg)
			}
		}
	})
}

// FuzzNormalizeName: accepted names are trimmed valid UTF-8 of 1 to
// MaxNameChars runes, and normalize to themselves.
func FuzzNormalizeName(f *testing.F) {
	for _, seed := range []string{"Alice", "  Alice  ", "", " \t\n", "\xff", "a\xffb", strings.Repeat("é", 100), strings.Repeat("é", 101), "\u00a0Bob\u00a0", "\u2028", "名前"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeName(in)
		if err != nil {
			if got != "" {
				t.Fatalf("NormalizeName(%q) refused but returned %q", in, got)
			}
			inputError(t, err, "name")
			return
		}
		if !utf8.ValidString(got) {
			t.Fatalf("NormalizeName(%q) = %q, not valid UTF-8", in, got)
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > MaxNameChars {
			t.Fatalf("NormalizeName(%q) = %q with %d characters", in, got, n)
		}
		if got != strings.TrimSpace(got) || !strings.Contains(in, got) {
			t.Fatalf("NormalizeName(%q) = %q, not the trimmed input", in, got)
		}
		if again, err := NormalizeName(got); err != nil || again != got {
			t.Fatalf("NormalizeName is not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
	})
}
