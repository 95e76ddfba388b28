package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// ErrRefused is matched by errors.Is when the download rules refuse a URL, a
// redirect or an address: scheme, host not in ATTACHMENT_ALLOWED_HOSTS,
// credentials in the URL, or a host resolving to a non-public address.
var ErrRefused = errors.New("download refused")

func refusedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// dialer connects only where the allow-list permits. It resolves the name
// itself, checks every address the name has, and dials a checked address,
// so an answer that changes between check and connect (DNS rebinding) never
// reaches the socket. It is the transport's only way out: no proxy is used.
type dialer struct {
	hosts  hostList
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)
	net    net.Dialer
}

// DialContext is http.Transport's DialContext.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, refusedf("cannot dial %q", addr)
	}
	port, _ := strconv.Atoi(portText)
	pattern, ok := d.hosts.match(host, port)
	if !ok {
		return nil, refusedf("dial %s: not in ATTACHMENT_ALLOWED_HOSTS", addr)
	}
	addrs, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if !pattern.Private && !publicAddress(a) {
			return nil, refusedf("%s resolves to %s, not a public address (only hosts listed by exact name in ATTACHMENT_ALLOWED_HOSTS may)", host, a)
		}
	}
	var first error
	for _, a := range addrs {
		conn, err := d.net.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// resolve returns host's addresses: the address itself for an IP literal.
func (d *dialer) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	ips, err := d.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip.IP); ok {
			out = append(out, a.Unmap().WithZone(ip.Zone)) // Go hands IPv4 over in 16 bytes
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return out, nil
}
