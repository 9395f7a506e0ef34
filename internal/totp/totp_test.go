package totp

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"
)

// rfcSecret is the SHA-1 secret of RFC 6238's test vectors.
var rfcSecret = []byte("12345678901234567890")

func TestMatchAgreesWithRFC6238(t *testing.T) {
	// RFC 6238 appendix B, SHA-1, cut to the last 6 of their 8 digits.
	tests := []struct {
		unix int64
		code string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, tt := range tests {
		now := time.Unix(tt.unix, 0)
		step, ok := Match(rfcSecret, tt.code, now)
		if !ok || step != tt.unix/30 {
			t.Errorf("Match(%s at %d) = %d, %v; want step %d", tt.code, tt.unix, step, ok, tt.unix/30)
		}
	}
}

// codeAt is secret's code for step.
func codeAt(t *testing.T, secret []byte, step int64) string {
	t.Helper()
	c, err := hotp.GenerateCode(Encode(secret), uint64(step))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatchAcceptsOneStepOfSkew(t *testing.T) {
	const start = 1_700_000_010 // a multiple of 30
	for _, now := range []time.Time{
		time.Unix(start+10, 0),         // inside a step
		time.Unix(start, 0),            // its first second
		time.Unix(start+29, 999999999), // its last moment
	} {
		cur := Step(now)
		if cur != start/30 {
			t.Fatalf("Step(%v) = %d, want %d", now, cur, start/30)
		}
		tests := []struct {
			name   string
			offset int64
			ok     bool
		}{
			{"two steps early", -2, false},
			{"one step early", -1, true},
			{"this step", 0, true},
			{"one step late", 1, true},
			{"two steps late", 2, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				step, ok := Match(rfcSecret, codeAt(t, rfcSecret, cur+tt.offset), now)
				if ok != tt.ok || (ok && step != cur+tt.offset) {
					t.Fatalf("Match = %d, %v; want step %d, %v", step, ok, cur+tt.offset, tt.ok)
				}
			})
		}
	}
}

func TestMatchTakesOnlySixDigits(t *testing.T) {
	now := time.Unix(1_700_000_010, 0)
	code := codeAt(t, rfcSecret, Step(now))
	wrong := code[:5] + string('0'+(code[5]-'0'+1)%10)
	for _, s := range []int64{-1, 0, 1} {
		if codeAt(t, rfcSecret, Step(now)+s) == wrong {
			t.Fatal("the wrong code is right for a step; pick another time")
		}
	}
	tests := []struct {
		name, code string
		ok         bool
	}{
		{"plain", code, true},
		{"spaces around", "  " + code + "\t\n", true},
		{"grouped", code[:3] + " " + code[3:], true},
		{"wrong last digit", wrong, false},
		{"five digits", code[:5], false},
		{"seven digits", code + "0", false},
		{"leading zero added", "0" + code, false},
		{"empty", "", false},
		{"letters", code[:5] + "a", false},
		{"signed", "+" + code[1:], false},
		{"dashed", code[:3] + "-" + code[3:], false},
		{"non-ASCII digits", "١٢٣٤٥٦", false},
		{"full-width digits", strings.Map(func(r rune) rune { return r - '0' + '０' }, code), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := Match(rfcSecret, tt.code, now); ok != tt.ok {
				t.Fatalf("Match(%q) = %v, want %v", tt.code, ok, tt.ok)
			}
		})
	}
}

func TestMatchRefusesShortSecrets(t *testing.T) {
	short := rfcSecret[:SecretSize-1]
	now := time.Unix(1_700_000_010, 0)
	if _, ok := Match(short, codeAt(t, short, Step(now)), now); ok {
		t.Fatal("a 152-bit secret matched")
	}
}

func TestNewSecretIsRandomAnd160Bits(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if len(a) != 20 || bytes.Equal(a, b) {
		t.Fatalf("secrets of %d bytes, equal: %v", len(a), bytes.Equal(a, b))
	}
	if e := Encode(a); len(e) != 32 || strings.Contains(e, "=") {
		t.Fatalf("Encode = %q, want 32 base32 characters without padding", e)
	}
}

func TestSetupGivesAnAppTheSecret(t *testing.T) {
	secret, _ := NewSecret()
	tests := []struct {
		name, issuer, account, wantURI string
	}{
		{"plain", "SessionGQL", "alice@example.com",
			"otpauth://totp/SessionGQL:alice%40example.com?secret=" + Encode(secret) + "&issuer=SessionGQL&algorithm=SHA1&digits=6&period=30"},
		{"characters that mean something in URIs", "Acme & Co. 100%+", `o/b+c d:e?f#g="h"@example.com`, ""},
		{"non-ASCII", "Société", "zoë@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Setup(tt.issuer, tt.account, secret)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantURI != "" && info.URI != tt.wantURI {
				t.Fatalf("URI = %s\nwant  %s", info.URI, tt.wantURI)
			}
			if info.Secret != Encode(secret) {
				t.Fatalf("Secret = %q, want %q", info.Secret, Encode(secret))
			}
			u, err := url.Parse(info.URI)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := u.Path, "/"+tt.issuer+":"+tt.account; u.Scheme != "otpauth" || u.Host != "totp" || got != want {
				t.Fatalf("URI %s has label %q, want %q", info.URI, got, want)
			}
			q := u.Query()
			for k, want := range map[string]string{"secret": Encode(secret), "issuer": tt.issuer, "algorithm": "SHA1", "digits": "6", "period": "30"} {
				if got := q.Get(k); got != want || len(q[k]) != 1 {
					t.Fatalf("URI %s has %s=%q, want %q", info.URI, k, q[k], want)
				}
			}
			key, err := otp.NewKeyFromURL(info.URI)
			if err != nil {
				t.Fatal(err)
			}
			if key.Issuer() != tt.issuer || key.AccountName() != tt.account || key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
				t.Fatalf("an app reads %s as issuer %q, account %q, period %d, %v digits, %v", info.URI, key.Issuer(), key.AccountName(), key.Period(), key.Digits(), key.Algorithm())
			}
			// What an app makes from the URI, Match takes.
			now := time.Now()
			code, err := pqtotp.GenerateCode(key.Secret(), now)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := Match(secret, code, now); !ok {
				t.Fatal("the code an app makes from the URI does not match")
			}
			data, ok := strings.CutPrefix(info.QRCode, "data:image/png;base64,")
			if !ok {
				t.Fatalf("QRCode starts %.30q, want a PNG data URL", info.QRCode)
			}
			raw, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
				t.Fatalf("QR code is %v, want 256×256", b)
			}
		})
	}
}

func TestSetupRefusesWhatAnAppCannotRead(t *testing.T) {
	secret, _ := NewSecret()
	tests := []struct {
		name, issuer, account string
		secret                []byte
	}{
		{"no issuer", "", "a@example.com", secret},
		{"colon in issuer", "Acme:Prod", "a@example.com", secret},
		{"no account", "Acme", "", secret},
		{"short secret", "Acme", "a@example.com", secret[:19]},
		{"no secret", "Acme", "a@example.com", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if info, err := Setup(tt.issuer, tt.account, tt.secret); err == nil {
				t.Fatalf("Setup = %+v, want an error", info)
			}
		})
	}
}
