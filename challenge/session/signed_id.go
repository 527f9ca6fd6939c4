package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strconv"
	"sync"
	"time"
)

// signedIDs signs and verifies the session cookie's value: the session id,
// in gorilla/securecookie's format (base64url of "date|base64url(id)|mac",
// the MAC an HMAC-SHA256 of "name|date|base64url(id)"), so that cookies
// issued by gateways of earlier releases, which used securecookie, stay
// valid, and theirs read ours.
//
// Every signed-in request verifies one, so verify works in pooled buffers:
// securecookie's decode allocates a dozen times (two HMAC states, three
// buffers, a split) for a value the gateway itself signed. It also takes
// the session store's clock rather than the wall clock.
type signedIDs struct {
	keys []*macPool
	// maxAge is the oldest signature accepted, in seconds (the session lifetime).
	maxAge int64
}

// macPool holds the HMAC states of one key, with their scratch buffers.
type macPool struct{ sync.Pool }

// macScratch is one HMAC state and the buffers of one verification.
type macScratch struct {
	h hash.Hash
	// src is the cookie value, decoded is its base64 decoding, in is the
	// MAC input, sum the computed MAC and id the decoded id.
	src, decoded, in, sum, id []byte
}

// maxSignedLen bounds the cookie values verified: the gateway signs
// 43-character ids (about 120 characters signed); anything much longer
// is not one of its cookies.
const maxSignedLen = 512

func newSignedIDs(keys [][]byte, lifetime time.Duration) *signedIDs {
	s := &signedIDs{maxAge: int64(lifetime / time.Second)}
	for _, k := range keys {
		k := append([]byte(nil), k...)
		p := &macPool{}
		p.New = func() any {
			return &macScratch{h: hmac.New(sha256.New, k),
				src: make([]byte, 0, maxSignedLen), decoded: make([]byte, maxSignedLen),
				in: make([]byte, 0, maxSignedLen+64), sum: make([]byte, 0, sha256.Size), id: make([]byte, 0, maxSignedLen+64)}
		}
		s.keys = append(s.keys, p)
	}
	return s
}

// mac is the HMAC with key i of name|b, as securecookie computes it.
func (s *signedIDs) mac(i int, name string, b []byte) []byte {
	m := s.keys[i].Get().(*macScratch)
	defer s.keys[i].Put(m)
	m.h.Reset()
	m.in = append(append(append(m.in[:0], name...), '|'), b...)
	m.h.Write(m.in)
	return m.h.Sum(nil)
}

// sign returns the cookie value for id under name, dated now, signed with
// the first key.
func (s *signedIDs) sign(name, id string, now time.Time) string {
	b := strconv.AppendInt(nil, now.Unix(), 10)
	b = append(b, '|')
	b = base64.URLEncoding.AppendEncode(b, []byte(id))
	b = append(append(b, '|'), s.mac(0, name, b)...)
	return base64.URLEncoding.EncodeToString(b)
}

// verify returns the id in value if one of the keys signed it under name
// and the signature is not older than maxAge at now.
func (s *signedIDs) verify(name, value string, now time.Time) (string, bool) {
	return s.verifyPrefixed(name, value, now, "")
}

// verifyPrefixed is verify returning prefix+id, in one allocation: the
// store key of the session (the id is its tail).
func (s *signedIDs) verifyPrefixed(name, value string, now time.Time, prefix string) (string, bool) {
	if value == "" || len(value) > maxSignedLen {
		return "", false
	}
	for _, p := range s.keys {
		if id, ok := s.verifyWith(p, name, value, now, prefix); ok {
			return id, true
		}
	}
	return "", false
}

// verifyWith is verifyPrefixed with one key.
func (s *signedIDs) verifyWith(p *macPool, name, value string, now time.Time, prefix string) (string, bool) {
	m := p.Get().(*macScratch)
	defer p.Put(m)
	m.src = append(m.src[:0], value...)
	n, err := base64.URLEncoding.Decode(m.decoded, m.src)
	if err != nil {
		return "", false
	}
	b := m.decoded[:n]
	// "date|value|mac": the MAC, last, may itself hold '|'.
	i := indexByte(b, '|')
	if i < 0 {
		return "", false
	}
	j := indexByte(b[i+1:], '|')
	if j < 0 {
		return "", false
	}
	j += i + 1
	date, val, mac := b[:i], b[i+1:j], b[j+1:]
	m.h.Reset()
	m.in = append(append(append(m.in[:0], name...), '|'), b[:j]...)
	m.h.Write(m.in)
	m.sum = m.h.Sum(m.sum[:0])
	if len(mac) != len(m.sum) || subtle.ConstantTimeCompare(mac, m.sum) != 1 {
		return "", false
	}
	t, ok := parseUnix(date)
	if !ok || s.maxAge != 0 && t < now.Unix()-s.maxAge {
		return "", false
	}
	out := append(m.id[:0], prefix...)
	k, err := base64.URLEncoding.Decode(out[len(out):cap(out)], val)
	if err != nil {
		return "", false
	}
	return string(out[:len(out)+k]), true
}

// indexByte is bytes.IndexByte, kept here so the scratch slices stay put.
func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// parseUnix reads a signed decimal timestamp as strconv.ParseInt does.
func parseUnix(b []byte) (int64, bool) {
	neg := len(b) > 0 && (b[0] == '-' || b[0] == '+')
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg && b[0] == '-' {
		v = -v
	}
	return v, true
}
