package session

import (
	"testing"

	"github.com/gorilla/securecookie"
)

// BenchmarkCookieDecode is the signed-cookie check alone (HMAC-SHA256 and
// base64), the first step of every signed-in request: the store's own
// (signedIDs), and gorilla/securecookie's on the same cookie, which the
// store used before.
func BenchmarkCookieDecode(b *testing.B) {
	f := newFixture(b, nil)
	c := f.signIn(b, false)
	b.Run("signedIDs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := f.s.ids.verify("mfa_test", c.Value, f.s.now()); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("securecookie", func(b *testing.B) {
		codec := gorillaCodec(testKey, lifetime)
		// securecookie dates by the wall clock, the fixture by its own.
		value, err := securecookie.EncodeMulti("mfa_test", []byte("0123456789abcdef0123456789abcdef0123456789a"), codec)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			var raw []byte
			if err := securecookie.DecodeMulti("mfa_test", value, &raw, codec); err != nil {
				b.Fatal(err)
			}
		}
	})
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
