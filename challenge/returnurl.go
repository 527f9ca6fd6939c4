package challenge

import (
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// ReturnHosts are the hosts other than the portal's own to which the
// portal may send a user back after sign-in with an absolute URL: the
// sites a verify endpoint (forward_auth, auth_request) protects. Only the
// verify endpoint's return URLs use it; every other return path stays
// same-origin (SafeReturn).
type ReturnHosts struct {
	// Domain is the session's cookie domain ("example.com"): it and every
	// host under it are allowed. "" allows none by domain.
	Domain string
	// Hosts are further host names allowed exactly (allowed_return_hosts,
	// and the portal's own host).
	Hosts []string
}

// Allows reports whether host (a lower-case name without port) is one the
// portal may send a user back to.
func (h ReturnHosts) Allows(host string) bool {
	if host == "" {
		return false
	}
	for _, a := range h.Hosts {
		if host == strings.ToLower(a) {
			return true
		}
	}
	d := strings.ToLower(strings.TrimPrefix(h.Domain, "."))
	return d != "" && (host == d || strings.HasSuffix(host, "."+d))
}

// SafeReturnURL returns raw if it is an absolute URL the portal may send a
// user back to after sign-in, and "" otherwise: https (plain http only to
// this machine: localhost, *.localhost and loopback addresses), a host
// that hosts allows, no user info, a numeric port if any, and a path
// outside the portal (portalPrefix). The host must be written plainly, in
// lower-case ASCII: percent-encoded or Unicode host names (IDN lookalikes,
// which browsers map to other hosts) are refused, as are control
// characters, spaces and backslashes anywhere.
func SafeReturnURL(raw, portalPrefix string, hosts ReturnHosts) string {
	if raw == "" || len(raw) > 2048 {
		return ""
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c >= 0x7f || c == '\\' {
			return ""
		}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return ""
	}
	// The authority as written: up to the first of / ? #.
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if authority == "" || strings.ContainsAny(authority, "@%[]") {
		return "" // user info, encoded hosts, IPv6 literals (not needed here)
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return ""
		}
	}
	if host == "" || host != strings.ToLower(host) || strings.HasSuffix(host, ".") || !hostChars(host) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != scheme || u.Hostname() != host || u.Port() != port || u.User != nil || u.Opaque != "" {
		return ""
	}
	if scheme == "http" && !loopbackHost(host) {
		return ""
	}
	if !hosts.Allows(host) {
		return ""
	}
	if strings.ContainsFunc(u.Path, unsafeRune) || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	if u.Path != "" && strings.HasPrefix(path.Clean(u.Path)+"/", portalPrefix) {
		return ""
	}
	return raw
}

// hostChars reports whether host holds only the letters, digits, dots and
// hyphens of a DNS name (punycode "xn--" labels included).
func hostChars(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return !strings.Contains(host, "..")
}

// loopbackHost reports whether host is this machine: localhost, a name
// under .localhost (RFC 6761), or a loopback address.
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
