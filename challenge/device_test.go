package challenge

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

func TestRememberedDevices(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		tok, err := f.e.RememberDevice(ctx, "alice", "Firefox on Linux", 14*24*time.Hour)
		if err != nil || len(tok) != DeviceTokenLen {
			t.Fatalf("RememberDevice = %q, %v", tok, err)
		}
		a, _ := f.e.Account(ctx, "alice")
		if len(a.Devices) != 1 || bytes.Contains(a.Devices[0].Hash, []byte(tok)) || a.Devices[0].Name != "Firefox on Linux" {
			t.Fatalf("stored %+v", a.Devices)
		}
		want := func(user, token string, ok bool) {
			t.Helper()
			if got, err := f.e.RememberedDevice(ctx, user, token); got != ok || err != nil {
				t.Fatalf("RememberedDevice(%s) = %v, %v; want %v", user, got, err, ok)
			}
		}
		want("alice", tok, true)
		want("bob", tok, false) // for its user only
		last := "A"
		if tok[42:] == last {
			last = "B"
		}
		want("alice", tok[:42]+last, false) // the token, not something like it
		want("alice", "", false)
		// The same browser for bob: a token of his own, carried with
		// alice's in the one cookie.
		tok2, err := f.e.RememberDevice(ctx, "bob", "Firefox on Linux", time.Hour)
		if err != nil || tok2 == tok || len(tok2) != DeviceTokenLen {
			t.Fatalf("second user: %q, %v", tok2, err)
		}
		both := DeviceCookie(tok2, tok)
		want("bob", both, true)
		want("alice", both, true)
		want("bob", tok, false)
		// Expiry.
		f.clock.Advance(14*24*time.Hour + time.Second)
		want("alice", tok, false)
		// Forgetting one, then all.
		tok, _ = f.e.RememberDevice(ctx, "alice", "Chrome on Windows", time.Hour)
		other, _ := f.e.RememberDevice(ctx, "alice", "Safari on iPhone", time.Hour)
		a, _ = f.e.Account(ctx, "alice")
		if len(a.Devices) != 2 {
			t.Fatalf("expired device kept: %+v", a.Devices)
		}
		if ok, err := f.e.ForgetDevice(ctx, "alice", a.Devices[0].ID); !ok || err != nil {
			t.Fatalf("ForgetDevice = %v, %v", ok, err)
		}
		want("alice", tok, false)
		want("alice", other, true)
		if err := f.e.ForgetDevices(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		want("alice", other, false)
	})
}

// RememberDevice never adopts a token the browser brings: a token planted
// by a sibling subdomain, a plain-http hop or a shared computer would
// otherwise be remembered for the victim, and the attacker who planted it
// would need only the password.
func TestRememberDeviceNeverAdoptsAToken(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		planted := strings.Repeat("p", DeviceTokenLen)
		tok, err := f.e.RememberDevice(ctx, "alice", "Firefox on Linux", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if tok == planted || len(tok) != DeviceTokenLen {
			t.Fatalf("RememberDevice returned %q", tok)
		}
		// The browser's cookie after remembering carries the planted token
		// behind the new one (for "other users"): it still grants nothing.
		cookie := DeviceCookie(tok, planted)
		if first, _, _ := strings.Cut(cookie, "."); first != tok {
			t.Fatalf("cookie %q does not start with the minted token", cookie)
		}
		if ok, err := f.e.RememberedDevice(ctx, "alice", planted); ok || err != nil {
			t.Fatalf("the planted token is remembered for alice: %v, %v", ok, err)
		}
		if ok, err := f.e.RememberedDevice(ctx, "alice", cookie); !ok || err != nil {
			t.Fatalf("the minted token is not remembered: %v, %v", ok, err)
		}
		// Another remembering mints another token.
		if again, err := f.e.RememberDevice(ctx, "alice", "Firefox on Linux", time.Hour); err != nil || again == tok {
			t.Fatalf("second RememberDevice = %q, %v: the same token", again, err)
		}
	})
}

// A device cookie carries at most MaxDeviceTokens well-formed tokens, the
// newest first, whatever the browser sent.
func TestDeviceCookieIsBounded(t *testing.T) {
	tok := strings.Repeat("n", DeviceTokenLen)
	var old []string
	for i := range 2 * MaxDeviceTokens {
		old = append(old, strings.Repeat(string(rune('a'+i)), DeviceTokenLen), "short", "")
	}
	got := strings.Split(DeviceCookie(tok, strings.Join(old, ".")), ".")
	if len(got) > MaxDeviceTokens || got[0] != tok {
		t.Fatalf("cookie has %d tokens, first %q; want at most %d, the new one first", len(got), got[0], MaxDeviceTokens)
	}
	for _, g := range got {
		if len(g) != DeviceTokenLen {
			t.Fatalf("malformed token %q kept", g)
		}
	}
	if got := DeviceCookie(tok, tok+"."+tok); got != tok {
		t.Fatalf("DeviceCookie repeats a token: %q", got)
	}
	if got := DeviceCookie(tok, strings.Repeat("x", 100000)); got != tok {
		t.Fatalf("DeviceCookie kept garbage: %.60s", got)
	}
}

// A device remembered before the release that stopped adopting tokens a
// browser brought (its hash under the old label) no longer skips the
// second factor: its token may have been planted.
func TestDevicesRememberedBeforeTheFixAreForgotten(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		planted := strings.Repeat("p", DeviceTokenLen)
		now := f.e.Now()
		err := f.e.Accounts.Update(ctx, "alice", func(a *store.Account) error {
			a.Devices = append(a.Devices, store.Device{ID: "0123456789ab", Name: "Firefox on Linux",
				Hash: f.e.Keys.HashCode("device", "alice\x00"+planted), Created: now, LastUsed: now, Expires: now.Add(time.Hour)})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := f.e.RememberedDevice(ctx, "alice", planted); ok || err != nil {
			t.Fatalf("RememberedDevice with a token remembered under the old label = %v, %v; want false", ok, err)
		}
	})
}
