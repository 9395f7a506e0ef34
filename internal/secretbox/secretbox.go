// Package secretbox encrypts small secrets (TOTP secrets) before they are
// stored, so a copy of the database alone does not give them away.
//
// Each sealed secret carries the id of the key that sealed it, so keys can
// be rotated: ENCRYPTION_KEY lists keys comma-separated, the first seals,
// every one opens. To retire a key, put a new one first, re-seal what the
// old one sealed (SealingKeyID tells which records need it), then drop the
// old one. The cipher is AES-256-GCM with a random 96-bit nonce, which is
// safe for up to 2^32 seals per key: far more than secrets this server keeps.
package secretbox

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of every key: AES-256.
const KeySize = 32

// keyIDContext separates key ids from any other hash of the same key.
const keyIDContext = "sessiongql key id"

// ErrCannotOpen is the one answer for a sealed secret that will not open:
// its key is not configured, it was changed, or it was sealed for other
// additional data (another user's record).
var ErrCannotOpen = errors.New("cannot open sealed secret")

// Sealed is an encrypted secret as it is stored: the id of the key that
// sealed it, and the nonce, ciphertext and tag.
type Sealed struct {
	// KeyID names the key without revealing it; it is not secret.
	KeyID string
	// Data is the 12-byte nonce followed by the ciphertext and the tag.
	Data []byte
}

// Keys seals with its first key and opens with any. It holds no raw key
// bytes, only ciphers, so printing it shows none. It is safe for concurrent
// use.
type Keys struct {
	keys []key
}

type key struct {
	id   string
	aead cipher.AEAD
}

// keyID is the first 8 hex digits of SHA-256(keyIDContext || k): short,
// stable across restarts, and telling nothing about k.
func keyID(k []byte) string {
	h := sha256.New()
	h.Write([]byte(keyIDContext))
	h.Write(k)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// ParseKeys reads comma-separated base64 keys (standard or URL alphabet,
// padded or not), each 32 bytes once decoded. The first seals, all open.
// Errors name a key by its position and never echo key material, so they
// may be logged.
func ParseKeys(s string) (*Keys, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no encryption key given")
	}
	parts := strings.Split(s, ",")
	raws := make([][]byte, 0, len(parts))
	ks := &Keys{keys: make([]key, 0, len(parts))}
	for i, p := range parts {
		n := i + 1
		raw, err := decodeKey(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("encryption key %d of %d: %w", n, len(parts), err)
		}
		id := keyID(raw)
		for j, other := range ks.keys {
			switch {
			case bytes.Equal(raws[j], raw):
				return nil, fmt.Errorf("encryption key %d repeats key %d", n, j+1)
			case other.id == id:
				return nil, fmt.Errorf("encryption keys %d and %d share a key id: replace one with a new key", j+1, n)
			}
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", n, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", n, err)
		}
		raws = append(raws, raw)
		ks.keys = append(ks.keys, key{id: id, aead: aead})
	}
	return ks, nil
}

// decodeKey decodes one key, choosing the alphabet by the characters it
// holds and the padding by its end.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("is empty")
	}
	std := strings.ContainsAny(s, "+/")
	url := strings.ContainsAny(s, "-_")
	if std && url {
		return nil, errors.New("mixes the standard and URL base64 alphabets")
	}
	enc := base64.StdEncoding
	if url {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	raw, err := enc.Strict().DecodeString(s)
	if err != nil {
		// A CorruptInputError names an offset, never the input.
		return nil, fmt.Errorf("is not base64: %w", err)
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("decodes to %d bytes, want %d", len(raw), KeySize)
	}
	return raw, nil
}

// SealingKeyID is the id of the key Seal uses. A record whose Sealed.KeyID
// differs was sealed by an older key and should be sealed again before
// that key is removed.
func (k *Keys) SealingKeyID() string {
	if k == nil || len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].id
}

// Seal encrypts plaintext with the first key. additionalData is not stored
// but must be given again to Open: pass the owner's id (the user id), so a
// sealed secret copied into another record does not open there.
func (k *Keys) Seal(plaintext, additionalData []byte) (Sealed, error) {
	if k == nil || len(k.keys) == 0 {
		return Sealed{}, errors.New("seal secret: no encryption key")
	}
	use := k.keys[0]
	return Sealed{KeyID: use.id, Data: use.aead.Seal(nil, nil, plaintext, additionalData)}, nil
}

// Open decrypts s with the key its KeyID names. Every failure wraps
// ErrCannotOpen: an unknown key id (the key was removed from
// ENCRYPTION_KEY), data that was changed or cut, or other additionalData
// than Seal was given.
func (k *Keys) Open(s Sealed, additionalData []byte) ([]byte, error) {
	if k != nil {
		for _, use := range k.keys {
			if use.id != s.KeyID {
				continue
			}
			plaintext, err := use.aead.Open(nil, nil, s.Data, additionalData)
			if err != nil {
				return nil, fmt.Errorf("open secret sealed with key %s: %w", s.KeyID, ErrCannotOpen)
			}
			return plaintext, nil
		}
	}
	return nil, fmt.Errorf("open secret: key id %q is not configured: %w", s.KeyID, ErrCannotOpen)
}
