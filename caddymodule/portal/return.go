package portal

import (
	"net/url"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
)

// A user who gave the password and opens another page of the app before
// the second factor is sent to the login page with that page as "rd". A
// GET never changes the session, so rd is not saved there: the challenge
// pages carry it in their links and forms, and the POST that completes the
// second factor makes it the place to go back to (secondFactorPassed).

// carriedReturn is the validated return path a challenge page carries in
// its URL or form ("rd"), for a session between the two factors; "" if
// none, or if it is no safe return path (then the path saved at the
// password or the step-up keeps its place: a link with a junk rd must not
// replace it with "/").
func (p *Portal) carriedReturn(q *request) string {
	if q.data.Level != session.OneFactor {
		return ""
	}
	rd := q.value("rd")
	if rd == "" {
		return ""
	}
	if ret := p.requestedReturn(rd); ret == rd {
		return ret
	}
	return ""
}

// withReturn is the portal path with the carried return path, if any.
func (p *Portal) withReturn(q *request, path string) string {
	ret := p.carriedReturn(q)
	if ret == "" {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "rd=" + url.QueryEscape(ret)
}
