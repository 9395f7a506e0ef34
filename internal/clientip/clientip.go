// Package clientip finds the address of the client behind a request,
// believing X-Forwarded-For only from configured trusted proxies.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses. The zero value trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that believes X-Forwarded-For from peers in trusted.
func New(trusted []netip.Prefix) *Resolver { return &Resolver{trusted: trusted} }

// ClientIP returns the bare client address, e.g. "203.0.113.7". Walking
// X-Forwarded-For from the right, it skips trusted proxies and returns the
// first address that is not one; without trusted proxies it is the peer.
func (c *Resolver) ClientIP(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return ""
	}
	if !c.isTrusted(peer) {
		return peer.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr.String()
			}
			addr = a.Unmap()
			if !c.isTrusted(addr) {
				return addr.String()
			}
		}
	}
	return addr.String()
}

func (c *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
