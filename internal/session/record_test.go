package session

import (
	"strings"
	"testing"
)

func TestSessionRecordRoundTrip(t *testing.T) {
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	tests := []struct {
		name string
		in   record
		want record // zero: same as in
	}{
		{name: "object id, IPv4, Chrome", in: record{UserID: "65f0c0ffee0123456789abcd", Created: 1763900000123, LastSeen: 1763900060456, IP: "203.0.113.7", UserAgent: chrome}},
		{name: "other id, IPv6, Firefox", in: record{UserID: "user-1", Created: 1, LastSeen: 2, IP: "2001:db8::1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}},
		{name: "upper-case hex id kept as text", in: record{UserID: "65F0C0FFEE0123456789ABCD", Created: 5, LastSeen: 5}},
		{name: "v4-mapped address", in: record{UserID: "u", Created: 5, LastSeen: 5, IP: "::ffff:10.0.0.1"}},
		{name: "text that is not an address", in: record{UserID: "u", Created: 5, LastSeen: 5, IP: "unknown"}},
		{name: "non-canonical address kept as text", in: record{UserID: "u", Created: 5, LastSeen: 5, IP: "2001:DB8::1"}},
		{name: "no IP, no agent", in: record{UserID: "u", Created: 5, LastSeen: 5}},
		{name: "agent with control bytes stored as is", in: record{UserID: "u", Created: 5, LastSeen: 5, UserAgent: "curl/8\x01\x02 Chrome/"}},
		{name: "non-ASCII agent", in: record{UserID: "u", Created: 5, LastSeen: 5, UserAgent: "Mozilla/5.0 (é€) Chrome/1"}},
		{
			name: "long agent cut at 256 bytes on a character boundary",
			in:   record{UserID: "u", Created: 5, LastSeen: 5, UserAgent: strings.Repeat("x", 255) + "é"},
			want: record{UserID: "u", Created: 5, LastSeen: 5, UserAgent: strings.Repeat("x", 255)},
		},
		{name: "times beyond 2100", in: record{UserID: "u", Created: 4200000000000, LastSeen: 4200000000001}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.in.encodeSession()
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeSession(v)
			if err != nil {
				t.Fatalf("decode %q: %v", v, err)
			}
			want := tt.want
			if want.UserID == "" {
				want = tt.in
			}
			if *got != want {
				t.Fatalf("round trip = %+v, want %+v", *got, want)
			}
		})
	}
}

func TestSessionValueOfABrowserStaysSmall(t *testing.T) {
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	}
	for _, ua := range agents {
		r := record{UserID: "65f0c0ffee0123456789abcd", Created: 1763900000123, LastSeen: 1763900000123, IP: "2001:db8::1", UserAgent: ua}
		v, err := r.encodeSession()
		if err != nil {
			t.Fatal(err)
		}
		// Redis keeps the user's hash as a listpack while every value is at
		// most 64 bytes (hash-max-listpack-value).
		if len(v) > 64 {
			t.Errorf("%d-byte session value for %q, want at most 64", len(v), ua)
		}
	}
}

func TestDecodeSessionRefusesMalformedValues(t *testing.T) {
	good, err := (&record{UserID: "65f0c0ffee0123456789abcd", Created: 9, LastSeen: 9, IP: "203.0.113.7", UserAgent: "x"}).encodeSession()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"empty":               nil,
		"old JSON record":     []byte(`{"u":"65f0c0ffee0123456789abcd","c":1,"s":1}`),
		"short head":          good[:12],
		"cut in the user id":  good[:20],
		"no IP byte":          good[:26],
		"cut in the IP":       good[:28],
		"no agent byte":       good[:31],
		"unknown version":     append([]byte{2}, good[1:]...),
		"zero creation time":  append(append([]byte{1}, make([]byte, 6)...), good[7:]...),
		"unknown agent mark":  append(append([]byte{}, good[:31]...), 7, 'x'),
		"unknown IP encoding": append(append([]byte{}, good[:26]...), 5, 1, 2, 3, 4, 5, 0),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			if r, err := decodeSession(v); err == nil {
				t.Fatalf("decodeSession(%q) = %+v, want an error", v, r)
			}
		})
	}
}

func TestProfileAppliesOnlyToItsUser(t *testing.T) {
	owner := record{UserID: "65f0c0ffee0123456789abcd", Email: "ada@example.com", Name: "Ada Lovelace", UserCreated: 1763900000123, EmailVerified: true, TotpEnabled: true}
	p, e := owner.encodeProfile()
	tests := []struct {
		name           string
		userID         string
		profile, email []byte
		want           bool
	}{
		{"its user", owner.UserID, p, e, true},
		{"another user sharing the hash", "65f0c0ffee0123456789abce", p, e, false},
		{"no profile", owner.UserID, nil, nil, false},
		{"no email", owner.UserID, p, nil, false},
		{"unknown version", owner.UserID, append([]byte{9}, p[1:]...), e, false},
		{"version 1, without flags", owner.UserID, append([]byte{1}, p[1:]...), e, false},
		{"cut short", owner.UserID, p[:16], e, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record{UserID: tt.userID, HasProfile: true, Email: "stale@example.com"}
			r.applyProfile(tt.profile, tt.email)
			if r.HasProfile != tt.want {
				t.Fatalf("HasProfile = %v, want %v", r.HasProfile, tt.want)
			}
			if tt.want && (r.Email != owner.Email || r.Name != owner.Name || r.UserCreated != owner.UserCreated || r.EmailVerified != owner.EmailVerified || r.TotpEnabled != owner.TotpEnabled) {
				t.Fatalf("profile = %+v, want %+v", r, owner)
			}
		})
	}
}

func TestProfileValuesOfUsualUsersStaySmall(t *testing.T) {
	// Redis keeps the user's hash as a listpack while every value is at
	// most 64 bytes: a 44-byte name and a 64-byte email fit.
	r := record{UserID: "65f0c0ffee0123456789abcd", UserCreated: 1763900000123,
		Name:  "Augusta Ada King, Countess of Lovelace (nee)",
		Email: "augusta.ada.king.countess.of.lovelace@analytical-engines.example",
	}
	if len(r.Name) != 44 || len(r.Email) != 64 {
		t.Fatalf("fixture: name %d, email %d bytes", len(r.Name), len(r.Email))
	}
	p, e := r.encodeProfile()
	if len(p) > 64 || len(e) > 64 {
		t.Fatalf("profile %d bytes, email %d bytes; want at most 64 each", len(p), len(e))
	}
}
