package challenge

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// A familiar browser is one in which a user completed a sign-in (password
// and second factor) lately. It grants nothing: its user still gives both
// factors there. It only keeps the user's wrong passwords there apart from
// everyone else's (see regulation/source.go), so that an attacker who
// knows the user name cannot lock the user out of it.
//
// The browser keeps a token, signed by the gateway, that names the users
// by a keyed hash (a shared computer does not tell who signed in on it):
//
//	version (1) | browser id (12) | entries: tag (16) | signed in at, Unix seconds (8) | MAC (32)
//
// with the most recent sign-in first and at most maxFamiliarUsers
// entries, each valid for FamiliarFor after its sign-in. The browser id is
// random, made with the browser's first token and kept by the next ones:
// smart lockout counts a familiar browser's wrong passwords by it, so that
// a copy of the cookie can lock out only the browser it came from.

// FamiliarFor is how long a browser stays familiar for a user after their
// last complete sign-in in it.
const FamiliarFor = 90 * 24 * time.Hour

const (
	familiarVersion  = 2
	familiarIDLen    = 12
	familiarTagLen   = 16
	familiarEntryLen = familiarTagLen + 8
	familiarMACLen   = 32
	maxFamiliarUsers = 8
	// maxFamiliarToken bounds a token read from a request, before decoding.
	maxFamiliarToken = 512
)

// familiarTag names user in a token.
func (e *Engine) familiarTag(user string) []byte {
	return e.Keys.HashCode("familiar browser user v1", user)[:familiarTagLen]
}

func (e *Engine) familiarMAC(body []byte) []byte {
	return e.Keys.HashCode("familiar browser v1", string(body))
}

type familiarEntry struct {
	tag []byte
	at  time.Time
}

// familiarEntries decodes and checks token: its browser id and entries,
// nil if it is not a valid token of this gateway. Entries past
// FamiliarFor are left out.
func (e *Engine) familiarEntries(token string) (id []byte, entries []familiarEntry) {
	if token == "" || len(token) > maxFamiliarToken {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+familiarIDLen+familiarMACLen || raw[0] != familiarVersion {
		return nil, nil
	}
	body, mac := raw[:len(raw)-familiarMACLen], raw[len(raw)-familiarMACLen:]
	if !hmac.Equal(mac, e.familiarMAC(body)) || (len(body)-1-familiarIDLen)%familiarEntryLen != 0 {
		return nil, nil
	}
	now := e.Now()
	var out []familiarEntry
	for b := body[1+familiarIDLen:]; len(b) > 0; b = b[familiarEntryLen:] {
		at := time.Unix(int64(binary.BigEndian.Uint64(b[familiarTagLen:familiarEntryLen])), 0)
		if now.Sub(at) < FamiliarFor && !at.After(now.Add(time.Minute)) {
			out = append(out, familiarEntry{tag: b[:familiarTagLen], at: at})
		}
	}
	return body[1 : 1+familiarIDLen], out
}

// FamiliarBrowser reports whether token, the familiar-browser cookie of a
// request, is valid and names user, and the browser's id (hex) if so.
func (e *Engine) FamiliarBrowser(token, user string) (string, bool) {
	tag := e.familiarTag(user)
	id, entries := e.familiarEntries(token)
	for _, en := range entries {
		if hmac.Equal(en.tag, tag) {
			return hex.EncodeToString(id), true
		}
	}
	return "", false
}

// FamiliarToken is the familiar-browser token to keep after a complete
// sign-in of user: the browser id of prev (the token the browser had, if
// valid; else a new one), user first, then the other users of prev that
// are still familiar, at most maxFamiliarUsers in all.
func (e *Engine) FamiliarToken(prev, user string) (string, error) {
	tag := e.familiarTag(user)
	id, old := e.familiarEntries(prev)
	if id == nil {
		id = make([]byte, familiarIDLen)
		if _, err := rand.Read(id); err != nil {
			return "", fmt.Errorf("making a familiar-browser id: %w", err)
		}
	}
	entries := []familiarEntry{{tag: tag, at: e.Now()}}
	for _, en := range old {
		if len(entries) < maxFamiliarUsers && !hmac.Equal(en.tag, tag) {
			entries = append(entries, en)
		}
	}
	body := make([]byte, 1, 1+familiarIDLen+len(entries)*familiarEntryLen+familiarMACLen)
	body[0] = familiarVersion
	body = append(body, id...)
	for _, en := range entries {
		body = append(body, en.tag...)
		body = binary.BigEndian.AppendUint64(body, uint64(en.at.Unix()))
	}
	mac := e.familiarMAC(body)
	return base64.RawURLEncoding.EncodeToString(append(body, mac...)), nil
}
