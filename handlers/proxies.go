package handlers

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
)

// proxyList is TRUSTED_PROXIES: the peers whose X-Forwarded-For and
// X-Forwarded-Proto are believed. Empty believes nobody, so a client
// cannot pick its own address (gin would otherwise believe every peer).
type proxyList []netip.Prefix

// parseProxies reads IP addresses and CIDR ranges.
func parseProxies(list []string) (proxyList, error) {
	out := make(proxyList, 0, len(list))
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an IP address or CIDR range", s)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// apply makes gin's ClientIP believe X-Forwarded-For only from these peers.
func (p proxyList) apply(r *gin.Engine) error {
	list := make([]string, len(p))
	for i, pr := range p {
		list[i] = pr.String()
	}
	if len(list) == 0 {
		list = nil // trust nobody
	}
	return r.SetTrustedProxies(list)
}

// trusts reports whether the request's peer is a trusted proxy.
func (p proxyList) trusts(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, pr := range p {
		if pr.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedProto is the first X-Forwarded-Proto value: behind two proxies
// ("https, http") the first is what the client-facing one saw.
func forwardedProto(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.ToLower(strings.TrimSpace(first))
}

// overHTTPS reports whether the client reached us over TLS: directly, or
// through a trusted proxy that says so.
func (p proxyList) overHTTPS(r *http.Request) bool {
	return r.TLS != nil || (forwardedProto(r) == "https" && p.trusts(r))
}

// hsts tells browsers that reached us over https to keep to it for a year.
func hsts(p proxyList) gin.HandlerFunc {
	return func(c *gin.Context) {
		if p.overHTTPS(c.Request) {
			c.Header("Strict-Transport-Security", "max-age=31536000")
		}
		c.Next()
	}
}
