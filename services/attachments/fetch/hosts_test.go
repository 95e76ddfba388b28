package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseAllowedHosts(t *testing.T) {
	t.Parallel()
	got, err := ParseAllowedHosts(" Kanzlei.Zendesk.com , *.zdusercontent.com, 127.0.0.1:8443,[::1]:9443, ,files.example:443,::1,[fd00::1]")
	require.NoError(t, err)
	require.Equal(t, []HostPattern{
		{Host: "kanzlei.zendesk.com", Private: true},
		{Host: "zdusercontent.com", Wildcard: true},
		{Host: "127.0.0.1", Port: 8443, Private: true},
		{Host: "::1", Port: 9443, Private: true},
		{Host: "files.example", Port: 443, Private: true},
		{Host: "::1", Private: true},
		{Host: "fd00::1", Private: true},
	}, got)

	empty, err := ParseAllowedHosts(" , ")
	require.NoError(t, err)
	require.Empty(t, empty)

	for _, bad := range []string{
		"*.com", "*", "*.", "**.example.com", "a.*.example.com", "https://a.example", "a.example/path",
		"a.example:0", "a.example:65536", "a.example:+443", "a.example:", "a.example:https", "-a.example",
		"a_b.example", "a..example", "[a.example]:443", "[127.0.0.1]", "[::1]x", "fe80::1%eth0", "user@a.example",
	} {
		_, err := ParseAllowedHosts("ok.example," + bad)
		require.ErrorIs(t, err, ErrHostPattern, bad)
		require.ErrorContains(t, err, "entry 2:", bad)
		if len(bad) > 4 {
			require.NotContains(t, err.Error(), bad, "the value is not echoed")
		}
	}
}

func TestDefaultAllowedHostsAreNeverPrivate(t *testing.T) {
	t.Parallel()
	for _, p := range DefaultAllowedHosts("Kanzlei") {
		require.False(t, p.Private, p.Host)
	}
	l := hostList(DefaultAllowedHosts("Kanzlei"))
	_, ok := l.match("kanzlei.zendesk.com", 443)
	require.True(t, ok)
}

func TestHostListMatch(t *testing.T) {
	t.Parallel()
	l, err := ParseAllowedHosts("kanzlei.zendesk.com,*.zdusercontent.com,127.0.0.1:8443,[::1]:9443")
	require.NoError(t, err)
	list := hostList(l)
	for _, tc := range []struct {
		host string
		port int
		ok   bool
	}{
		{"kanzlei.zendesk.com", 443, true},
		{"KANZLEI.zendesk.com.", 443, true},
		{"kanzlei.zendesk.com", 80, true},
		{"kanzlei.zendesk.com", 8443, false},
		{"other.zendesk.com", 443, false},
		{"evil-kanzlei.zendesk.com", 443, false},
		{"kanzlei.zendesk.com.evil.example", 443, false},
		{"p1.zdusercontent.com", 443, true},
		{"a.b.zdusercontent.com", 443, true},
		{"zdusercontent.com", 443, false},
		{"evilzdusercontent.com", 443, false},
		{"127.0.0.1", 8443, true},
		{"127.0.0.1", 443, false},
		{"::1", 9443, true},
		{"0:0:0:0:0:0:0:1", 9443, true},
		{"::ffff:127.0.0.1", 8443, false},
	} {
		_, ok := list.match(tc.host, tc.port)
		require.Equal(t, tc.ok, ok, "%s:%d", tc.host, tc.port)
	}
}

func TestPublicAddress(t *testing.T) {
	t.Parallel()
	for addr, public := range map[string]bool{
		"93.184.216.34": true, "8.8.8.8": true, "2606:4700::1111": true, "2002:5db8:d822::1": true,
		"64:ff9b::5db8:d822": true,
		"127.0.0.1":          false, "127.1.2.3": false, "10.0.0.5": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "100.127.255.255": false, "0.0.0.0": false,
		"0.1.2.3": false, "224.0.0.1": false, "255.255.255.255": false, "240.0.0.1": false,
		"192.0.0.8": false, "192.0.2.1": false, "198.18.0.1": false, "198.51.100.1": false, "203.0.113.1": false,
		"::": false, "::1": false, "fc00::1": false, "fd12:3456::1": false, "fe80::1": false, "fe80::1%eth0": false,
		"ff02::1": false, "fec0::1": false, "2001:db8::1": false, "2001::1": false, "100::1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.5": false, "::ffff:100.64.0.1": false, "::ffff:169.254.169.254": false,
		"::127.0.0.1": false, "64:ff9b::a00:5": false, "64:ff9b::7f00:1": false, "64:ff9b:1::1": false,
		"2002:7f00:1::1": false, "2002:a00:5::1": false,
	} {
		require.Equal(t, public, publicAddress(netip.MustParseAddr(addr)), addr)
	}
}

// errWouldDial stands for a connection attempt the test must not make.
var errWouldDial = errors.New("test: would have dialled")

// testDialer dials nothing: an address that passes the checks ends in errWouldDial.
func testDialer(t *testing.T, allowed string, names map[string][]string) *dialer {
	t.Helper()
	l, err := ParseAllowedHosts(allowed)
	require.NoError(t, err)
	d := &dialer{hosts: l, lookup: func(_ context.Context, host string) ([]net.IPAddr, error) {
		var out []net.IPAddr
		for _, a := range names[host] {
			out = append(out, net.IPAddr{IP: net.ParseIP(a)})
		}
		return out, nil
	}}
	d.net.Control = func(string, string, syscall.RawConn) error { return errWouldDial }
	return d
}

// TestDialerChecksEveryAddress: one private address among public ones is
// enough to refuse the host, whichever comes first.
func TestDialerChecksEveryAddress(t *testing.T) {
	t.Parallel()
	d := testDialer(t, "*.zdusercontent.com", map[string][]string{
		"p1.zdusercontent.com": {"93.184.216.34", "10.0.0.5"},
		"p2.zdusercontent.com": {"93.184.216.34", "2606:4700::1111"},
		"p3.zdusercontent.com": {},
	})
	_, err := d.DialContext(context.Background(), "tcp", "p1.zdusercontent.com:443")
	require.ErrorIs(t, err, ErrRefused)
	require.ErrorContains(t, err, "resolves to 10.0.0.5")

	_, err = d.DialContext(context.Background(), "tcp", "p2.zdusercontent.com:443")
	require.ErrorIs(t, err, errWouldDial, "public addresses are dialled")

	_, err = d.DialContext(context.Background(), "tcp", "p3.zdusercontent.com:443")
	var dnsErr *net.DNSError
	require.ErrorAs(t, err, &dnsErr)
	require.True(t, dnsErr.IsNotFound)
}

// TestDialerChecksTheAllowList: the dialer refuses what the list does not
// allow even if a caller skipped the URL check, and only exact names may
// be private.
func TestDialerChecksTheAllowList(t *testing.T) {
	t.Parallel()
	d := testDialer(t, "files.example:8443,*.example.com", map[string][]string{
		"files.example": {"127.0.0.1"}, "a.example.com": {"127.0.0.1"}, "unlisted.example": {"93.184.216.34"},
	})
	for addr, want := range map[string]error{
		"unlisted.example:443":   ErrRefused,
		"files.example:443":      ErrRefused, // listed on another port
		"a.example.com:443":      ErrRefused, // wildcard: no private address
		"127.0.0.1:8443":         ErrRefused, // the address of a listed name is not the name
		"files.example:8443":     errWouldDial,
		"no-port.example.com":    ErrRefused,
		"files.example:notaport": ErrRefused,
	} {
		_, err := d.DialContext(context.Background(), "tcp", addr)
		require.ErrorIs(t, err, want, addr)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 25, 5, 9, 27, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                     0,
		"7":                    7 * time.Second,
		" 120 ":                2 * time.Minute,
		"-5":                   0,
		"1.5":                  0,
		"soon":                 0,
		"99999999999999999999": 0, // not an int64: unparsable
		"9223372036854775807":  maxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		now.Add(48 * time.Hour).Format(http.TimeFormat):   maxRetryAfter,
	} {
		require.Equal(t, want, retryAfter(v, now), v)
	}
}
