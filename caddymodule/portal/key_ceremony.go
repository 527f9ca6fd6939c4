package portal

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Each showing of a security-key page starts a ceremony of its own, named
// by a random nonce that the page's form posts back with the key's answer.
// A second showing (another tab, or a link from another site followed in
// this browser) thus never replaces the ceremony of a tab in use: both
// tabs work. (Keeping one ceremony per session and showing it again would
// also resist the link, but would hand two tabs one challenge, and the
// second would fail once the first used it.) A session may keep at most
// challenge.MaxKeyPages ceremonies in the time one lasts (the security-key
// timeout, 5 minutes by default), so a GET cannot fill the store.

// keyNonceLen is the length of a ceremony nonce: 16 random bytes, base64url.
const keyNonceLen = 22

// newKeyCeremony names a new ceremony of this session: its nonce for the
// page and its scope for the engine. ok is false, with the message shown
// and its data, when the session opened too many key pages.
func (p *Portal) newKeyCeremony(q *request) (nonce, scope string, ok bool, data map[string]any, err error) {
	timeout := p.engine.SecurityKeys.Timeout
	if ok, err := p.engine.StartKeyPage(q.r.Context(), p.sessionTag(q)); err != nil {
		return "", "", false, nil, err
	} else if !ok {
		return "", "", false, map[string]any{"Minutes": int((timeout + time.Minute - 1) / time.Minute)}, nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", false, nil, fmt.Errorf("making a ceremony nonce: %w", err)
	}
	nonce = base64.RawURLEncoding.EncodeToString(b)
	return nonce, p.keyScope(q, nonce), true, nil, nil
}

// keyScope is the scope of the engine's ceremony named nonce in this
// session. A nonce of another shape names none (the answer is then
// "expired").
func (p *Portal) keyScope(q *request, nonce string) string {
	if len(nonce) != keyNonceLen || strings.Trim(nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		nonce = "-"
	}
	return p.sessionTag(q) + ":" + nonce
}

// postedKeyScope is the scope of the ceremony whose page posted q.
func (p *Portal) postedKeyScope(q *request) string {
	return p.keyScope(q, q.r.PostFormValue("ceremony"))
}
