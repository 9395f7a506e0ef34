package account

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sessiongql/server/internal/apperr"
)

// Input limits from docs/API.md, "Input rules".
const (
	MaxEmailBytes    = 254
	MinPasswordBytes = 8
	// MaxPasswordBytes is bcrypt's limit; longer passwords are refused,
	// never silently truncated.
	MaxPasswordBytes = 72
	MaxNameChars     = 100
)

// NormalizeEmail trims and lower-cases email and checks it is one plain
// address (no display name) of at most MaxEmailBytes.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", apperr.Input("email", "Email is required.")
	}
	if len(e) > MaxEmailBytes {
		return "", apperr.Input("email", fmt.Sprintf("Email must be at most %d bytes.", MaxEmailBytes))
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", apperr.Input("email", "Email must be a valid address such as name@example.com.")
	}
	return e, nil
}

// NormalizePassword returns the Unicode NFC form of password: what is
// hashed and compared, so the same password typed as NFD (as some
// keyboards and systems send accented letters) still signs in. It is
// idempotent; invalid UTF-8 comes back unchanged (CheckPassword refuses
// it for a new password).
func NormalizePassword(password string) string {
	return norm.NFC.String(password)
}

// CheckPassword applies the password rules that every password keeps to
// the input named field: valid UTF-8, and MinPasswordBytes to
// MaxPasswordBytes bytes counted in NormalizePassword's form. A new
// password must also pass CheckNewPassword's strength rule.
func CheckPassword(field, password string) error {
	if !utf8.ValidString(password) {
		return apperr.Input(field, "Password must be valid UTF-8.")
	}
	switch n := len(NormalizePassword(password)); {
	case n < MinPasswordBytes:
		return apperr.Input(field, fmt.Sprintf("Password must be at least %d bytes.", MinPasswordBytes))
	case n > MaxPasswordBytes:
		return apperr.Input(field, fmt.Sprintf("Password must be at most %d bytes.", MaxPasswordBytes))
	}
	return nil
}

// NormalizeName trims name and checks it has 1 to MaxNameChars characters.
func NormalizeName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if !utf8.ValidString(n) {
		return "", apperr.Input("name", "Name must be valid UTF-8.")
	}
	switch c := utf8.RuneCountInString(n); {
	case c == 0:
		return "", apperr.Input("name", "Name is required.")
	case c > MaxNameChars:
		return "", apperr.Input("name", fmt.Sprintf("Name must be at most %d characters.", MaxNameChars))
	}
	return n, nil
}
