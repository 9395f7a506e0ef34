// Package totp is the second factor: RFC 6238 time-based codes from an
// authenticator app, a guard that lets each code work once, and recovery
// codes for when the app is lost.
//
// Codes are what every authenticator app makes by default: HMAC-SHA-1,
// 6 digits, a new code every 30 seconds. A code is accepted one step early
// or late (a phone's clock a little off, a code typed as it changed), never
// two. Secrets are 160 bits, the length RFC 4226 recommends.
//
// Match only says which time step a code belongs to; Steps.Accept then
// makes sure that step is used once per user, across server instances.
// Callers need both.
package totp

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

const (
	// SecretSize is the length in bytes of a secret NewSecret makes, and
	// the least Setup and Match take: 160 bits.
	SecretSize = 20
	// Digits is the length of a code.
	Digits = 6
	// Period is how long each code lasts.
	Period = 30 * time.Second
	// skew is how many steps before or after now a code may be from.
	skew = 1
	// qrSize is the width and height in pixels of the setup QR code.
	qrSize = 256
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new random secret of SecretSize bytes.
func NewSecret() ([]byte, error) {
	s := make([]byte, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("new totp secret: %w", err)
	}
	return s, nil
}

// Encode returns secret in base32 without padding, the form authenticator
// apps take when typed in by hand.
func Encode(secret []byte) string {
	return b32.EncodeToString(secret)
}

// SetupInfo is what a user needs to add a secret to an authenticator app.
// Every field holds the secret: show it to its user once and never log it.
type SetupInfo struct {
	// Secret is the secret in base32, for typing in.
	Secret string
	// URI is the otpauth:// key URI that the QR code holds.
	URI string
	// QRCode is a PNG of URI as a data: URL, for an <img src>.
	QRCode string
}

// Setup returns the ways to give secret to an authenticator app, which
// lists it as issuer and account (the user's email). The issuer may not
// hold a colon: apps split the label on the first one.
func Setup(issuer, account string, secret []byte) (SetupInfo, error) {
	switch {
	case issuer == "":
		return SetupInfo{}, errors.New("totp setup: no issuer")
	case strings.Contains(issuer, ":"):
		return SetupInfo{}, errors.New("totp setup: the issuer holds a colon")
	case account == "":
		return SetupInfo{}, errors.New("totp setup: no account")
	case len(secret) < SecretSize:
		return SetupInfo{}, fmt.Errorf("totp setup: a secret of %d bytes, want at least %d", len(secret), SecretSize)
	}
	enc := Encode(secret)
	// The parameters the defaults would give too, spelled out for apps
	// that do not know the defaults.
	uri := "otpauth://totp/" + escape(issuer) + ":" + escape(account) +
		"?secret=" + enc +
		"&issuer=" + escape(issuer) +
		"&algorithm=SHA1&digits=6&period=30"
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return SetupInfo{}, fmt.Errorf("totp setup: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return SetupInfo{}, fmt.Errorf("totp setup: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return SetupInfo{}, fmt.Errorf("totp setup: QR code: %w", err)
	}
	return SetupInfo{
		Secret: enc,
		URI:    key.String(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// escape percent-encodes everything but RFC 3986's unreserved characters,
// spaces as %20 rather than "+", which some apps show as a plus: safe in
// the label (a "/" or ":" in an account stays part of it) and in a query
// value (an "&" in an issuer does not end it).
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Step returns the RFC 6238 time step of t: Unix seconds over 30.
func Step(t time.Time) int64 {
	sec := t.Unix()
	p := int64(Period / time.Second)
	if sec < 0 {
		return (sec - p + 1) / p
	}
	return sec / p
}

// Match reports whether code is secret's code for the step of now, or the
// step just before or after, and which step it is. code is 6 ASCII digits;
// spaces around and inside it are ignored ("123 456"). The check takes the
// same time whichever step matches, or none.
//
// A match is not yet a success: the step must still pass Steps.Accept,
// or a code seen over a shoulder would work again within its 90 seconds.
func Match(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(secret) < SecretSize || !isDigits(code, Digits) {
		return 0, false
	}
	enc := Encode(secret)
	cur := Step(now)
	for s := cur - skew; s <= cur+skew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(enc, uint64(s), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			// Only a secret that is not base32 fails, and Encode made it.
			return 0, false
		}
		// No early return: every step is compared. On the rare equal codes
		// of two steps, the later one is taken, which spends both.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}

// isDigits reports whether s is exactly n ASCII digits.
func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
