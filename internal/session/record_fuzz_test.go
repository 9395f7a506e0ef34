package session

import "testing"

// FuzzDecodeSession feeds arbitrary bytes to the session value decoder (a
// value in Redis may be corrupt or from another version): it never panics,
// and what it accepts encodes back to a value that decodes the same.
func FuzzDecodeSession(f *testing.F) {
	good, err := (&record{UserID: "65f0c0ffee0123456789abcd", Created: 9, LastSeen: 10, IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/1"}).encodeSession()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{good, nil, good[:13], []byte(`{"u":"x","c":1}`), append([]byte{1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 'u', 0x83}, "a\x01"...)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeSession(v)
		if err != nil {
			return
		}
		again, err := r.encodeSession()
		if err != nil {
			// Only user ids the encoder refuses (254+ bytes) get here; the
			// decoder reads at most 255 bytes of id.
			if len(r.UserID) < objectIDMark {
				t.Fatalf("decoded %+v from %q but cannot encode it: %v", r, v, err)
			}
			return
		}
		r2, err := decodeSession(again)
		if err != nil {
			t.Fatalf("re-encoded %+v as %q, which does not decode: %v", r, again, err)
		}
		if r2.UserID != r.UserID || r2.Created != r.Created || r2.LastSeen != r.LastSeen || r2.IP != truncateUTF8(r.IP, textIPMark-1) {
			t.Fatalf("decode(encode(%+v)) = %+v", r, r2)
		}
	})
}

// FuzzUserAgentCoding checks that the stored form of any header value
// (up to its first 256 bytes) reads back unchanged and is never longer than the header plus a byte.
func FuzzUserAgentCoding(f *testing.F) {
	for _, seed := range []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"", "curl/8.5.0", "Chrome/Chrome/.0.0.0", "\x01\x02", "é€ Safari/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		r := record{UserID: "u", Created: 1, LastSeen: 1, UserAgent: ua}
		v, err := r.encodeSession()
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSession(v)
		if err != nil {
			t.Fatalf("agent %q: %v", ua, err)
		}
		want := truncateUTF8(ua, maxUserAgent)
		if got.UserAgent != want {
			t.Fatalf("agent %q read back as %q", want, got.UserAgent)
		}
		// head 13, id 2, IP 1, agent mark 1
		if len(v) > 17+len(want) {
			t.Fatalf("agent %q stored in %d bytes", ua, len(v)-17)
		}
	})
}
