package session

import (
	"testing"

	"github.com/gorilla/securecookie"
)

// BenchmarkCookieDecode is the signed-cookie check alone (HMAC-SHA256 and
// base64), the first step of every signed-in request.
func BenchmarkCookieDecode(b *testing.B) {
	f := newFixture(b, nil)
	c := f.signIn(b, false)
	codecs := f.s.codecs
	b.ReportAllocs()
	for b.Loop() {
		var raw []byte
		if err := securecookie.DecodeMulti("mfa_test", c.Value, &raw, codecs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionLoad is the whole lookup: cookie, store read, decode,
// expiry check.
func BenchmarkSessionLoad(b *testing.B) {
	f := newFixture(b, nil)
	c := f.signIn(b, false)
	req := request(c, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, d, err := f.s.Lookup(req); err != nil || d == nil {
			b.Fatal("no session")
		}
	}
}
