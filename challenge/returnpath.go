package challenge

import (
	"net/url"
	"path"
	"strings"
)

// SafeReturn returns raw if it is a same-origin path to go back to after
// sign-in, and "/" otherwise. Absolute URLs, protocol-relative ("//evil"),
// backslash tricks ("/\evil", which browsers read as "//evil"), and control
// characters are refused, as are paths into the portal itself.
func SafeReturn(raw, portalPrefix string) string {
	if raw == "" || len(raw) > 2048 || raw[0] != '/' {
		return "/"
	}
	if len(raw) > 1 && (raw[1] == '/' || raw[1] == '\\') {
		return "/"
	}
	if strings.ContainsFunc(raw, unsafeRune) {
		return "/"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// The same tricks percent-encoded ("/%0d%0a", "/%2f%2fevil", "/%5cevil")
	// are refused too, for whatever decodes the path later.
	if strings.HasPrefix(u.Path, "//") || strings.ContainsFunc(u.Path, unsafeRune) {
		return "/"
	}
	// Browsers and http.Redirect resolve dot segments ("/x/../.mfa/logout"),
	// so the portal check looks at the cleaned path; the prefix without its
	// trailing slash is the portal too, as the handler serves it.
	if strings.HasPrefix(path.Clean(u.Path)+"/", portalPrefix) {
		return "/"
	}
	return raw
}

// unsafeRune reports control characters and backslashes.
func unsafeRune(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }
