package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientIP: ClientIP never panics and returns "" or a bare address;
// without trusted proxies it is the peer whatever X-Forwarded-For says;
// behind trusted proxies it is the peer or one of the forwarded addresses.
func FuzzClientIP(f *testing.F) {
	for _, s := range [][2]string{
		{"203.0.113.7:5555", "198.51.100.1"},
		{"10.1.2.3:80", "198.51.100.1, 10.9.9.9"},
		{"10.1.2.3:80", "1.1.1.1, nonsense"},
		{"[::1]:80", "2001:db8::1"},
		{"[::ffff:10.1.2.3]:80", "::ffff:198.51.100.1"},
		{"[fe80::1%eth0]:80", "fe80::2%en0"},
		{"10.1.2.3", ""},
		{"", "1.2.3.4"},
		{"garbage", "1.2.3.4"},
		{"10.1.2.3:80", ",,,"},
		{"10.1.2.3:80", "10.0.0.1,10.0.0.2,10.0.0.3"},
		{"10.1.2.3:80", "  198.51.100.1\t"},
		{"@:80", "01.2.3.4"},
	} {
		f.Add(s[0], s[1], s[1])
	}
	trusted := New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fe80::/10")})
	f.Fuzz(func(t *testing.T, remote, xff1, xff2 string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		for _, v := range []string{xff1, xff2} {
			if v != "" {
				r.Header.Add("X-Forwarded-For", v)
			}
		}
		peer := peerOf(remote)

		for _, res := range []*Resolver{{}, New(nil)} {
			if got := res.ClientIP(r); got != peer {
				t.Fatalf("no trusted proxies: ClientIP(%q, %q) = %q, want the peer %q", remote, r.Header.Values("X-Forwarded-For"), got, peer)
			}
		}

		got := trusted.ClientIP(r)
		if got == "" {
			if peer != "" {
				t.Fatalf("ClientIP(%q) = \"\" though the peer is %q", remote, peer)
			}
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil || a.String() != got || a.Is4In6() {
			t.Fatalf("ClientIP(%q, %q) = %q, not a bare canonical address: %v", remote, r.Header.Values("X-Forwarded-For"), got, err)
		}
		if got == peer {
			return
		}
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for _, part := range strings.Split(h, ",") {
				if b, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil && b.Unmap().String() == got {
					return
				}
			}
		}
		t.Fatalf("ClientIP(%q, %q) = %q, neither the peer nor a forwarded address", remote, r.Header.Values("X-Forwarded-For"), got)
	})
}

// peerOf is the peer's bare address written independently of clientip.go.
func peerOf(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	if a.Is4In6() {
		a = netip.AddrFrom4(a.As4())
	}
	return a.String()
}
