package clientip

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIPBelievesForwardedForOnlyFromTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies trusted", nil, "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"untrusted peer ignores header", trusted, "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted peer", trusted, "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", trusted, "10.1.2.3:80", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"spoofed left entry ignored", trusted, "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"several headers", trusted, "10.1.2.3:80", []string{"1.1.1.1", "198.51.100.1"}, "198.51.100.1"},
		{"garbage entry stops the walk", trusted, "10.1.2.3:80", []string{"198.51.100.1, nonsense"}, "10.1.2.3"},
		{"all trusted", trusted, "10.1.2.3:80", []string{"10.4.4.4"}, "10.4.4.4"},
		{"ipv6 peer", trusted, "[::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"v4-mapped peer", nil, "[::ffff:203.0.113.9]:80", nil, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := New(tt.trusted).ClientIP(r); got != tt.want {
				t.Fatalf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}
