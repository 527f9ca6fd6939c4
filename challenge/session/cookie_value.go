package session

import (
	"net/http"
	"strings"
)

// maxCookies is net/http's limit on the cookies of a request (its
// httpcookiemaxnum default): past it, r.Cookie finds none, and so does
// cookieValue.
const maxCookies = 3000

// cookieValue returns the value of the first cookie named name in the
// request's Cookie headers, as r.Cookie(name).Value would, without making
// a Cookie of every pair: each signed-in request reads one cookie among
// the app's. A pair whose value is not a valid cookie value is passed
// over, as net/http does.
func cookieValue(h http.Header, name string) (string, bool) {
	lines := h["Cookie"]
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	if n > maxCookies {
		return "", false
	}
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(trimASCII(part), "=")
			if trimASCII(k) != name {
				continue
			}
			if v, ok := cookieValueOf(v); ok {
				return v, true
			}
		}
	}
	return "", false
}

// trimASCII trims spaces and tabs (and CR, LF) as textproto.TrimString.
func trimASCII(s string) string {
	for s != "" && isSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// cookieValueOf checks a raw cookie value as net/http's parseCookieValue,
// dropping the double quotes around it.
func cookieValueOf(raw string) (string, bool) {
	if len(raw) > 1 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	for i := 0; i < len(raw); i++ {
		if b := raw[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return "", false
		}
	}
	return raw, true
}
