package session

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// gorillaCodec is the securecookie codec the gateway signed its session
// cookies with before signedIDs, configured as it was.
func gorillaCodec(key []byte, lifetime time.Duration) *securecookie.SecureCookie {
	c := securecookie.New(key, nil)
	c.SetSerializer(securecookie.NopEncoder{})
	c.MaxAge(int(lifetime / time.Second))
	return c
}

// Cookies signed by securecookie (every gateway of an earlier release) are
// read, and what signedIDs signs is read by securecookie, so gateways of
// both releases can share sessions during an upgrade.
func TestSignedIDsReadAndWriteTheSecurecookieFormat(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	ids := newSignedIDs([][]byte{key}, lifetime)
	now := time.Now()
	id := strings.Repeat("A", 43)

	old, err := securecookie.EncodeMulti("mfa_test", []byte(id), gorillaCodec(key, lifetime))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := ids.verify("mfa_test", old, now)
	if !ok || got != id {
		t.Fatalf("securecookie's cookie read as %q, %v; want %q", got, ok, id)
	}

	mine := ids.sign("mfa_test", id, now)
	var raw []byte
	if err := securecookie.DecodeMulti("mfa_test", mine, &raw, gorillaCodec(key, lifetime)); err != nil {
		t.Fatalf("securecookie refuses the new cookie: %v", err)
	}
	if string(raw) != id {
		t.Fatalf("securecookie read %q, want %q", raw, id)
	}
}

// Anything not signed by one of the keys for this name, or older than the
// lifetime, is refused; a rotated-out key's cookie is read while the key
// is still listed.
func TestSignedIDsRefuse(t *testing.T) {
	key, old := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	now := time.Unix(1_800_000_000, 0)
	ids := newSignedIDs([][]byte{key, old}, lifetime)
	id := "session-id"
	good := ids.sign("mfa_test", id, now)
	byOld := newSignedIDs([][]byte{old}, lifetime).sign("mfa_test", id, now)
	if got, ok := ids.verify("mfa_test", byOld, now); !ok || got != id {
		t.Fatalf("a cookie signed with the second key: %q, %v", got, ok)
	}

	raw, _ := base64.URLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.URLEncoding.EncodeToString(b)
	}
	cases := map[string]string{
		"empty":            "",
		"not base64":       "!!!" + good,
		"another key":      newSignedIDs([][]byte{bytes.Repeat([]byte{3}, 32)}, lifetime).sign("mfa_test", id, now),
		"another name":     ids.sign("other", id, now),
		"time changed":     flip(0),
		"value changed":    flip(12),
		"mac changed":      flip(len(raw) - 1),
		"no separators":    base64.URLEncoding.EncodeToString([]byte("1800000000")),
		"truncated":        good[:len(good)-4],
		"expired":          ids.sign("mfa_test", id, now.Add(-lifetime-time.Second)),
		"too long":         ids.sign("mfa_test", strings.Repeat("x", 4000), now),
		"unsigned payload": base64.URLEncoding.EncodeToString([]byte("1800000000|" + base64.URLEncoding.EncodeToString([]byte(id)) + "|")),
	}
	for name, v := range cases {
		if got, ok := ids.verify("mfa_test", v, now); ok {
			t.Errorf("%s: accepted as %q", name, got)
		}
	}
	// A timestamp that is not a number is refused even with a valid MAC.
	forged := signRaw(key, "mfa_test", "18e8", base64.URLEncoding.EncodeToString([]byte(id)))
	if got, ok := ids.verify("mfa_test", forged, now); ok {
		t.Errorf("a non-numeric timestamp: accepted as %q", got)
	}
	if _, ok := ids.verify("mfa_test", good, now.Add(lifetime-time.Second)); !ok {
		t.Error("a cookie within its lifetime is refused")
	}
}

// signRaw signs date|value as securecookie does, whatever date holds.
func signRaw(key []byte, name, date, value string) string {
	s := newSignedIDs([][]byte{key}, lifetime)
	b := date + "|" + value
	return base64.URLEncoding.EncodeToString([]byte(b + "|" + string(s.mac(0, name, []byte(b)))))
}

// Verifying a cookie allocates only the id it returns.
func TestSignedIDsVerifyAllocatesOnlyTheID(t *testing.T) {
	ids := newSignedIDs([][]byte{testKey}, lifetime)
	now := time.Now()
	c := ids.sign("mfa_test", strings.Repeat("i", 43), now)
	n := testing.AllocsPerRun(200, func() {
		if _, ok := ids.verify("mfa_test", c, now); !ok {
			t.Fatal("refused")
		}
	})
	if raceEnabled {
		// Counted, but not held to: the race detector's sync.Pool drops
		// what it holds at random (race_on_test.go).
		t.Logf("%v allocations per verify under the race detector", n)
		return
	}
	if n > 1 {
		t.Fatalf("%v allocations per verify, want at most 1", n)
	}
}

// Whatever the input, verify agrees with securecookie: it never accepts
// what securecookie refuses, and reads what it accepts the same way.
func FuzzSignedIDsAgreeWithSecurecookie(f *testing.F) {
	key := bytes.Repeat([]byte{9}, 32)
	ids := newSignedIDs([][]byte{key}, lifetime)
	gc := gorillaCodec(key, lifetime)
	now := time.Now()
	f.Add(ids.sign("mfa_test", "abc", now))
	f.Add("")
	f.Add("MTgwMDAwMDAwMHx8")
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := ids.verify("mfa_test", v, now)
		var raw []byte
		err := securecookie.DecodeMulti("mfa_test", v, &raw, gc)
		if ok && (err != nil || string(raw) != got) {
			t.Fatalf("%q: verify gave %q, securecookie %q, %v", v, got, raw, err)
		}
	})
}
