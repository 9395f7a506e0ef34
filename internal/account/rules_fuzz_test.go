package account

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

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

// FuzzCheckPassword: a password is accepted exactly when it is valid UTF-8
// of 8 to 72 bytes in NFC, whatever the bytes are.
func FuzzCheckPassword(f *testing.F) {
	for _, seed := range []string{"", "short", "12345678", "hunter2secret", strings.Repeat("x", 72), strings.Repeat("x", 73),
		strings.Repeat("€", 24), "\x00\x00\x00\x00\x00\x00\x00\x00", strings.Repeat("e\u0301", 36), strings.Repeat("e\u0301", 37),
		"e\u0301e\u0301e\u0301", strings.Repeat("\u0958", 13), "password\xff", "\xed\xa0\x80\xed\xb0\x80secret"} {
		f.Add("password", seed)
	}
	f.Add("newPassword", "1234567")
	f.Fuzz(func(t *testing.T, field, password string) {
		err := CheckPassword(field, password)
		n := len(NormalizePassword(password))
		want := utf8.ValidString(password) && MinPasswordBytes <= n && n <= MaxPasswordBytes
		if (err == nil) != want {
			t.Fatalf("CheckPassword(%q) of %d bytes, %d in NFC = %v, want accepted=%v", password, len(password), n, err, want)
		}
		if err != nil {
			// The message is one of three fixed texts, so it cannot echo the password.
			switch msg := inputError(t, err, field).Message; msg {
			case "Password must be at least 8 bytes.", "Password must be at most 72 bytes.", "Password must be valid UTF-8.":
			default:
				t.Fatalf("CheckPassword message %q", msg)
			}
		}
	})
}

// FuzzNormalizePassword: the NFC form is canonically equivalent to the
// password, normalizes to itself and gets the same length verdict.
func FuzzNormalizePassword(f *testing.F) {
	for _, seed := range []string{"", "password", "e\u0301te\u0301", "\u00e9t\u00e9", "\u212b\u2126", "\u0958\u0959",
		"\u1100\u1161\u11a8", "a\u0328\u0301", "\xff", "e\xcc"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, password string) {
		got := NormalizePassword(password)
		if again := NormalizePassword(got); again != got {
			t.Fatalf("NormalizePassword is not idempotent: %q -> %q -> %q", password, got, again)
		}
		if !utf8.ValidString(password) {
			return
		}
		if !norm.NFC.IsNormalString(got) || norm.NFD.String(got) != norm.NFD.String(password) {
			t.Fatalf("NormalizePassword(%q) = %q, not its NFC form", password, got)
		}
		if a, b := CheckPassword("password", password), CheckPassword("password", got); (a == nil) != (b == nil) {
			t.Fatalf("CheckPassword(%q) = %v but of its NFC form %v", password, a, b)
		}
	})
}

// FuzzCheckNewPassword: the strength rule only adds refusals to
// CheckPassword's, none at minScore 0, and each refusal is one of the
// fixed messages (so it never echoes the password).
func FuzzCheckNewPassword(f *testing.F) {
	for _, seed := range []string{"password", "zxcvbnm,./", "Ada LovelaceAda Lovelace", "ab\rab\rab\r", "ééééééééé", "ΑΒΓΔ1234",
		"😀😀😀😀", "ZOËZOËZOË", "İstanbul1", "4@8({[<3691!|7705$5+7%2", "correct horse battery staple", "short", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"} {
		f.Add(seed, uint8(1), "Ada Lovelace")
	}
	f.Add("zoëzoë2024", uint8(4), "Zoë")
	f.Add("ΟΔΥΣΣΕΥΣ", uint8(2), "Οδυσσεύς")
	f.Add("ada\x01lovelace", uint8(3), "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f")
	reasons := []string{
		"this is a top-10 common password", "this is a top-100 common password", "this is a very common password",
		"this is similar to a commonly used password", "a word by itself is easy to guess",
		"names and surnames by themselves are easy to guess", "common names and surnames are easy to guess",
		"this contains your email or name", "straight rows of keys are easy to guess", "short keyboard patterns are easy to guess",
		`repeats like "aaa" are easy to guess`, `repeats like "abcabcabc" are only slightly harder to guess than "abc"`,
		"sequences like abc or 6543 are easy to guess", "recent years are easy to guess", "dates are often easy to guess",
		"capitalization doesn't help very much", "all-uppercase is almost as easy to guess as all-lowercase",
		"reversed words aren't much harder to guess", "predictable substitutions like '@' instead of 'a' don't help very much",
	}
	const suggestion = ". Add another word or two; uncommon words are better."
	messages := map[string]bool{"Password is too easy to guess" + suggestion: true}
	for _, r := range reasons {
		messages["Password is too easy to guess: "+r+suggestion] = true
	}
	f.Fuzz(func(t *testing.T, password string, minScore uint8, name string) {
		score := int(minScore % 5)
		err := CheckNewPassword("newPassword", password, score, "ada.lovelace@example.com", name)
		if lengthErr := CheckPassword("newPassword", password); lengthErr != nil || score == 0 {
			if (err == nil) != (lengthErr == nil) || err != nil && err.Error() != lengthErr.Error() {
				t.Fatalf("CheckNewPassword(%q, %d) = %v, CheckPassword = %v", password, score, err, lengthErr)
			}
			return
		}
		if err != nil {
			if msg := inputError(t, err, "newPassword").Message; !messages[msg] {
				t.Fatalf("CheckNewPassword(%q) message %q", password, msg)
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
