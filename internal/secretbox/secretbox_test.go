package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func newKey(t *testing.T, n int) []byte {
	t.Helper()
	k := make([]byte, n)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func mustParse(t *testing.T, s string) *Keys {
	t.Helper()
	ks, err := ParseKeys(s)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return ks
}

func TestSealedSecretOpensWithItsAdditionalData(t *testing.T) {
	ks := mustParse(t, b64(newKey(t, KeySize)))
	secret := []byte("twenty bytes secret!")
	s, err := ks.Seal(secret, []byte("user-1"))
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != ks.SealingKeyID() || len(s.KeyID) != 8 {
		t.Fatalf("KeyID = %q, want the 8-digit id %q", s.KeyID, ks.SealingKeyID())
	}
	if bytes.Contains(s.Data, secret) {
		t.Fatal("sealed data holds the plaintext")
	}
	if want := 12 + len(secret) + 16; len(s.Data) != want {
		t.Fatalf("sealed data is %d bytes, want nonce+ciphertext+tag = %d", len(s.Data), want)
	}
	got, err := ks.Open(s, []byte("user-1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := ks.Seal(secret, []byte("user-1"))
	if bytes.Equal(again.Data, s.Data) {
		t.Fatal("two seals of one secret are equal: the nonce is not random")
	}
}

func TestOpenRefusesWhatWasNotSealedSo(t *testing.T) {
	ks := mustParse(t, b64(newKey(t, KeySize)))
	other := mustParse(t, b64(newKey(t, KeySize)))
	s, err := ks.Seal([]byte("secret"), []byte("user-1"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) Sealed {
		d := bytes.Clone(s.Data)
		d[i] ^= 1
		return Sealed{KeyID: s.KeyID, Data: d}
	}
	tests := []struct {
		name   string
		keys   *Keys
		sealed Sealed
		ad     string
	}{
		{"nonce changed", ks, flip(0), "user-1"},
		{"ciphertext changed", ks, flip(12), "user-1"},
		{"tag changed", ks, flip(len(s.Data) - 1), "user-1"},
		{"cut short", ks, Sealed{KeyID: s.KeyID, Data: s.Data[:len(s.Data)-1]}, "user-1"},
		{"shorter than a nonce", ks, Sealed{KeyID: s.KeyID, Data: s.Data[:5]}, "user-1"},
		{"empty", ks, Sealed{KeyID: s.KeyID}, "user-1"},
		{"another user's record", ks, s, "user-2"},
		{"no additional data", ks, s, ""},
		{"unknown key id", ks, Sealed{KeyID: "00000000", Data: s.Data}, "user-1"},
		{"no key id", ks, Sealed{Data: s.Data}, "user-1"},
		{"key not configured", other, s, "user-1"},
		{"nil keys", nil, s, "user-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.keys.Open(tt.sealed, []byte(tt.ad))
			if !errors.Is(err, ErrCannotOpen) || got != nil {
				t.Fatalf("Open = %q, %v; want ErrCannotOpen", got, err)
			}
		})
	}
}

func TestRotationSealsWithTheFirstKeyAndOpensWithAny(t *testing.T) {
	a, b := b64(newKey(t, KeySize)), b64(newKey(t, KeySize))
	old := mustParse(t, a)
	sealedA, _ := old.Seal([]byte("old secret"), []byte("u"))

	rotated := mustParse(t, b+","+a)
	got, err := rotated.Open(sealedA, []byte("u"))
	if err != nil || string(got) != "old secret" {
		t.Fatalf("a secret sealed under A, opened with B,A: %q, %v", got, err)
	}
	sealedB, _ := rotated.Seal([]byte("new secret"), []byte("u"))
	if sealedB.KeyID == sealedA.KeyID || sealedB.KeyID != mustParse(t, b).SealingKeyID() {
		t.Fatalf("a new seal used key %s, want B's %s", sealedB.KeyID, mustParse(t, b).SealingKeyID())
	}
	if _, err := old.Open(sealedB, []byte("u")); !errors.Is(err, ErrCannotOpen) {
		t.Fatalf("a secret sealed under B opened without B: %v", err)
	}
	// Once A is dropped its secrets no longer open.
	if _, err := mustParse(t, b).Open(sealedA, []byte("u")); !errors.Is(err, ErrCannotOpen) {
		t.Fatalf("a secret sealed under A opened with B alone: %v", err)
	}
}

func TestKeyIDIsStableAndNotTheKey(t *testing.T) {
	k := newKey(t, KeySize)
	std, url := mustParse(t, b64(k)), mustParse(t, base64.RawURLEncoding.EncodeToString(k))
	if std.SealingKeyID() != url.SealingKeyID() {
		t.Fatalf("one key, two ids: %s and %s", std.SealingKeyID(), url.SealingKeyID())
	}
	if id := std.SealingKeyID(); strings.Contains(fmt.Sprintf("%x", k), id) {
		t.Fatalf("key id %s is part of the key", id)
	}
	if s := fmt.Sprintf("%+v %#v", std, std); strings.Contains(s, b64(k)) || strings.Contains(s, fmt.Sprintf("%x", k)) {
		t.Fatal("printing Keys shows the key")
	}
}

func TestParseKeysAcceptsEveryBase64Form(t *testing.T) {
	// 0xfb and 0xff give '+' and '/' (or '-' and '_') in every encoding.
	k := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11)[:KeySize]
	want := mustParse(t, base64.StdEncoding.EncodeToString(k)).SealingKeyID()
	for name, s := range map[string]string{
		"standard, padded":   base64.StdEncoding.EncodeToString(k),
		"standard, unpadded": base64.RawStdEncoding.EncodeToString(k),
		"URL, padded":        base64.URLEncoding.EncodeToString(k),
		"URL, unpadded":      base64.RawURLEncoding.EncodeToString(k),
		"with spaces":        "  " + base64.StdEncoding.EncodeToString(k) + " \n",
	} {
		t.Run(name, func(t *testing.T) {
			ks, err := ParseKeys(s)
			if err != nil {
				t.Fatal(err)
			}
			if ks.SealingKeyID() != want {
				t.Fatalf("key id %s, want %s", ks.SealingKeyID(), want)
			}
		})
	}
	ks := mustParse(t, b64(newKey(t, KeySize))+" , "+b64(newKey(t, KeySize)))
	if len(ks.keys) != 2 {
		t.Fatalf("%d keys, want 2", len(ks.keys))
	}
}

func TestParseKeysRefusesBadKeysWithoutEchoingThem(t *testing.T) {
	a, b := b64(newKey(t, KeySize)), b64(newKey(t, KeySize))
	short, long := b64(newKey(t, 31)), b64(newKey(t, 33))
	mixed := strings.Replace(strings.Replace(base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11)[:KeySize]), "+", "-", 1), "_", "/", 1)
	tests := []struct {
		name, keys, want string
	}{
		{"empty", "", "no encryption key"},
		{"blank", "  ", "no encryption key"},
		{"empty entry", a + ",," + b, "key 2 of 3: is empty"},
		{"trailing comma", a + ",", "key 2 of 2: is empty"},
		{"not base64", "not*base64!" + a[11:], "key 1 of 1: is not base64"},
		{"bad padding", a[:len(a)-1] + "==", "key 1 of 1: is not base64"},
		{"31 bytes", short, "decodes to 31 bytes, want 32"},
		{"33 bytes", a + "," + long, "key 2 of 2: decodes to 33 bytes, want 32"},
		{"hex, not base64", fmt.Sprintf("%x", newKey(t, KeySize)), "decodes to 48 bytes, want 32"},
		{"mixed alphabets", mixed, "mixes"},
		{"duplicate", a + "," + b + "," + a, "key 3 repeats key 1"},
		{"duplicate in another form", a + "," + base64.RawURLEncoding.EncodeToString(mustDecode(t, a)), "key 2 repeats key 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := ParseKeys(tt.keys)
			if err == nil {
				t.Fatalf("ParseKeys = %v, want an error", ks)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to say %q", err, tt.want)
			}
			for _, k := range strings.Split(tt.keys, ",") {
				if k = strings.TrimSpace(k); len(k) >= 8 && strings.Contains(err.Error(), k[:8]) {
					t.Fatalf("error %q echoes key material", err)
				}
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealWithoutKeysFails(t *testing.T) {
	for _, ks := range []*Keys{nil, {}} {
		if _, err := ks.Seal([]byte("x"), nil); err == nil {
			t.Fatalf("Seal with %v: no error", ks)
		}
	}
}
