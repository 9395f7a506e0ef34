package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// recoveryBytes is the randomness in a recovery code: 80 bits, 16 base32
// characters.
const recoveryBytes = 10

var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// recoveryLen is the length of a normalized recovery code.
var recoveryLen = recoveryEncoding.EncodedLen(recoveryBytes)

// NewRecoveryCodes returns n new recovery codes, to show the user once,
// and their hashes (HashRecoveryCode), to store in the same order. A code
// is 16 lower-case base32 characters in groups of four:
// "abcd-efgh-ijkl-mnop".
func NewRecoveryCodes(n int) (codes []string, hashes []string, err error) {
	if n < 1 {
		return nil, nil, errors.New("new recovery codes: need at least one")
	}
	codes = make([]string, n)
	hashes = make([]string, n)
	raw := make([]byte, recoveryBytes)
	for i := range n {
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, fmt.Errorf("new recovery codes: %w", err)
		}
		s := recoveryEncoding.EncodeToString(raw)
		codes[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
		hashes[i] = HashRecoveryCode(codes[i])
	}
	return codes, hashes, nil
}

// HashRecoveryCode returns the hex SHA-256 of code once normalized: lower
// case, without spaces and dashes, so a code typed in capitals or without
// its dashes still matches. Compare hashes, never codes.
//
// A fast, unsalted hash is safe here, unlike for passwords: a code carries
// 80 random bits, so guessing one from a leaked hash takes about 2^79
// SHA-256 evaluations per code, out of reach offline. Online guessing is
// for the caller's rate limits.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(normalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}

// LooksLikeRecoveryCode reports whether code has the shape of a recovery
// code (16 base32 characters, once normalized), so a caller taking either
// kind in one field can tell it from a 6-digit TOTP code.
func LooksLikeRecoveryCode(code string) bool {
	c := normalizeRecoveryCode(code)
	if len(c) != recoveryLen {
		return false
	}
	for i := range len(c) {
		if (c[i] < 'a' || c[i] > 'z') && (c[i] < '2' || c[i] > '7') {
			return false
		}
	}
	return true
}

// normalizeRecoveryCode lower-cases ASCII letters and drops whitespace and
// dashes. Other characters stay, so they never match.
func normalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, code)
}
