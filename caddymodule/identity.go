package caddymodule

import (
	"io"
	"net/http"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// stripIdentityHeaders removes every client-sent copy of the identity
// headers, in any case and also with underscores (Remote_User), which some
// back ends (CGI, PHP, nginx with underscores_in_headers) read as the same.
func stripIdentityHeaders(h http.Header) {
	for k := range h {
		if len(k) < len("remote-user") || !strings.EqualFold(k[:7], "remote-") && !strings.EqualFold(k[:7], "remote_") {
			continue
		}
		rest := k[7:]
		if strings.EqualFold(rest, "user") || strings.EqualFold(rest, "groups") ||
			strings.EqualFold(rest, "name") || strings.EqualFold(rest, "email") {
			delete(h, k)
		}
	}
}

// setIdentityHeaders tells the upstream who the user is.
func setIdentityHeaders(h http.Header, u *users.User) {
	h["Remote-User"] = []string{u.Name}
	h["Remote-Groups"] = []string{u.GroupsHeader()}
	h["Remote-Name"] = []string{u.DisplayName}
	h["Remote-Email"] = []string{u.Email}
}

// stripIdentityTrailers removes identity names from the request's trailers
// as stripIdentityHeaders does from its headers: Caddy's reverse proxy
// forwards the trailers a client sends after a chunked body. The other
// trailers (checksums, digests) stay. Go fills r.Trailer only when the body
// has been read to its end, with every field the client sent there,
// declared or not, so the names declared up front go now and the body is
// wrapped to remove them again at its end. A request of known length
// without declared trailers (every signed-in GET) costs a comparison.
func stripIdentityTrailers(r *http.Request) {
	if r.Trailer == nil && r.ContentLength >= 0 {
		return
	}
	stripIdentityHeaders(r.Trailer)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &trailerStripper{ReadCloser: r.Body, r: r}
	}
}

// trailerStripper is a request body that removes identity trailers from
// its request once the body ends, before anything downstream sees them.
type trailerStripper struct {
	io.ReadCloser
	r *http.Request
}

// Read reads the body; at its end the trailers are in, and are cleaned.
func (b *trailerStripper) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		stripIdentityHeaders(b.r.Trailer)
	}
	return n, err
}
