package challenge

import (
	"net/url"
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
	for _, c := range raw {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if strings.HasPrefix(u.Path, portalPrefix) {
		return "/"
	}
	return raw
}
