package fetch

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// HostPattern is one entry of ATTACHMENT_ALLOWED_HOSTS: an exact host name or
// IP address, or "*.domain" for any subdomain of domain (not domain itself),
// with an optional port. Without a port it allows the standard web ports
// (443, and 80 where http is allowed at all).
type HostPattern struct {
	// Host is the lower-case host name or IP address, without "*." and without brackets.
	Host string
	// Wildcard marks a "*.domain" pattern: Host matches its subdomains only.
	Wildcard bool
	// Port is 0 for the standard ports.
	Port int
	// Private allows loopback, private and link-local addresses for this host.
	// Only an exact name the operator listed has it; wildcards and the
	// default list never do.
	Private bool
}

// ErrHostPattern is matched by errors.Is for a malformed ATTACHMENT_ALLOWED_HOSTS.
var ErrHostPattern = errors.New("must be a comma-separated list of host, host:port, *.domain or *.domain:port")

// ParseAllowedHosts parses ATTACHMENT_ALLOWED_HOSTS as the operator wrote it:
// exact names in it may reach private addresses. Empty entries are ignored,
// so an empty value is an empty list (New then uses DefaultAllowedHosts).
// The error names the offending entry's position, never its text.
func ParseAllowedHosts(list string) ([]HostPattern, error) {
	var out []HostPattern
	for i, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parsePattern(entry)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		p.Private = !p.Wildcard
		out = append(out, p)
	}
	return out, nil
}

// DefaultAllowedHosts is the list used when ATTACHMENT_ALLOWED_HOSTS is empty:
// the firm's Zendesk and Zendesk's content host, public addresses only.
func DefaultAllowedHosts(subdomain string) []HostPattern {
	return []HostPattern{
		{Host: strings.ToLower(subdomain) + ".zendesk.com"},
		{Host: "zdusercontent.com", Wildcard: true},
	}
}

// parsePattern parses one entry; Private is left to the caller.
func parsePattern(entry string) (HostPattern, error) {
	host, port, err := splitPort(strings.ToLower(entry))
	if err != nil {
		return HostPattern{}, err
	}
	p := HostPattern{Port: port}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		// "*.com" would open a whole top-level domain.
		if !validHostname(rest) || !strings.Contains(rest, ".") {
			return HostPattern{}, ErrHostPattern
		}
		p.Host, p.Wildcard = rest, true
		return p, nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return HostPattern{}, ErrHostPattern
		}
		p.Host = addr.String()
		return p, nil
	}
	if !validHostname(host) {
		return HostPattern{}, ErrHostPattern
	}
	p.Host = host
	return p, nil
}

// splitPort splits "host", "host:port", a bare IPv6 address, "[v6]" or
// "[v6]:port"; brackets must hold an IPv6 address.
func splitPort(entry string) (string, int, error) {
	if inner, ok := strings.CutPrefix(entry, "["); ok {
		host, rest, closed := strings.Cut(inner, "]")
		if addr, err := netip.ParseAddr(host); !closed || err != nil || !addr.Is6() {
			return "", 0, ErrHostPattern
		}
		if rest == "" {
			return host, 0, nil
		}
		portText, ok := strings.CutPrefix(rest, ":")
		if !ok {
			return "", 0, ErrHostPattern
		}
		port, err := parsePort(portText)
		return host, port, err
	}
	if strings.Count(entry, ":") > 1 {
		return entry, 0, nil // a bare IPv6 address
	}
	host, portText, ok := strings.Cut(entry, ":")
	if !ok {
		return entry, 0, nil
	}
	port, err := parsePort(portText)
	return host, port, err
}

// parsePort parses 1–65535 written in decimal digits only.
func parsePort(s string) (int, error) {
	port, err := strconv.Atoi(s)
	if err != nil || port < 1 || port > 65535 || strings.Trim(s, "0123456789") != "" {
		return 0, ErrHostPattern
	}
	return port, nil
}

// validHostname reports whether h is a DNS name of letters, digits and
// inner hyphens, 1–63 characters per label, at most 253 in all.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if !ValidLabel(label) {
			return false
		}
	}
	return true
}

// ValidLabel reports whether s is one DNS label (a Zendesk subdomain is one):
// 1–63 ASCII letters, digits and hyphens, not starting or ending with a hyphen.
func ValidLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// hostList is the parsed allow-list a Fetcher checks every hop and every dial against.
type hostList []HostPattern

// match returns the pattern that allows host (a URL's host name, any case,
// IPv6 without brackets) on port, and whether one does.
func (l hostList) match(host string, port int) (HostPattern, bool) {
	host = canonicalHost(host)
	for _, p := range l {
		if !p.allowsPort(port) {
			continue
		}
		if p.Wildcard && strings.HasSuffix(host, "."+p.Host) || !p.Wildcard && host == p.Host {
			return p, true
		}
	}
	return HostPattern{}, false
}

func (p HostPattern) allowsPort(port int) bool {
	if p.Port == 0 {
		return port == 443 || port == 80
	}
	return port == p.Port
}

// canonicalHost lower-cases a host name, drops a trailing dot and writes an
// IP address in its standard form, so patterns and URLs compare equal.
func canonicalHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.String()
	}
	return host
}
