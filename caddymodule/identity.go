package caddymodule

import (
	"io"
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// identityNames are the identity headers of one route: the names it sets
// (user, groups, name, email) and the folded names it strips from what a
// client sends, which are those and the default Remote-* ones.
type identityNames struct {
	set   [4]string
	strip []string
	// lens has bit n set when a name to strip is n bytes long: most
	// header names are rejected on their length alone.
	lens uint64
}

// newIdentityNames makes the names of a route from its configuration (nil
// for the defaults).
func newIdentityNames(c *IdentityHeaders) *identityNames {
	n := &identityNames{set: c.resolved()}
	defaults := (*IdentityHeaders)(nil).resolved()
	for _, name := range append(defaults[:], n.set[:]...) {
		f := foldHeaderName(name)
		if !containsString(n.strip, f) {
			n.strip = append(n.strip, f)
		}
		if len(f) < 64 {
			n.lens |= 1 << len(f)
		}
	}
	return n
}

// containsString reports whether s is in list.
func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// stripFrom removes every client-sent copy of the identity headers, in any
// case and also with underscores or dots (Remote_User), which some back
// ends (CGI, PHP, nginx with underscores_in_headers) read as the same.
func (n *identityNames) stripFrom(h http.Header) {
	for k := range h {
		if len(k) < 64 && n.lens&(1<<len(k)) == 0 {
			continue
		}
		for _, f := range n.strip {
			if sameFolded(k, f) {
				delete(h, k)
				break
			}
		}
	}
}

// sameFolded reports whether foldHeaderName(k) == folded, without making
// the folded copy.
func sameFolded(k, folded string) bool {
	if len(k) != len(folded) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if foldByte(k[i]) != folded[i] {
			return false
		}
	}
	return true
}

// setOn tells the upstream who the user is. The four values share one
// allocation; each header gets a slice capped at its one value, so a later
// Add to one of them copies instead of writing into the next.
func (n *identityNames) setOn(h http.Header, u *users.User) {
	v := make([]string, 4)
	v[0], v[1], v[2], v[3] = u.Name, u.GroupsHeader(), u.DisplayName, u.Email
	h[n.set[0]] = v[0:1:1]
	h[n.set[1]] = v[1:2:2]
	h[n.set[2]] = v[2:3:3]
	h[n.set[3]] = v[3:4:4]
}

// stripTrailers removes identity names from the request's trailers as
// stripFrom does from its headers: Caddy's reverse proxy forwards the
// trailers a client sends after a chunked body. The other trailers
// (checksums, digests) stay. Go fills r.Trailer only when the body has been
// read to its end, with every field the client sent there, declared or
// not, so the names declared up front go now and the body is wrapped to
// remove them again at its end. A request of known length without declared
// trailers (every signed-in GET) costs a comparison.
func (n *identityNames) stripTrailers(r *http.Request) {
	if r.Trailer == nil && r.ContentLength >= 0 {
		return
	}
	n.stripFrom(r.Trailer)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &trailerStripper{ReadCloser: r.Body, r: r, names: n}
	}
}

// trailerStripper is a request body that removes identity trailers from
// its request once the body ends, before anything downstream sees them.
type trailerStripper struct {
	io.ReadCloser
	r     *http.Request
	names *identityNames
}

// Read reads the body; at its end the trailers are in, and are cleaned.
func (b *trailerStripper) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.names.stripFrom(b.r.Trailer)
	}
	return n, err
}
