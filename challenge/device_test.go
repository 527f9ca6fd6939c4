package challenge

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRememberedDevices(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		tok, err := f.e.RememberDevice(ctx, "alice", "Firefox on Linux", "", 14*24*time.Hour)
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
		// The same browser for bob keeps its one cookie.
		if tok2, err := f.e.RememberDevice(ctx, "bob", "Firefox on Linux", tok, time.Hour); err != nil || tok2 != tok {
			t.Fatalf("second user: %q, %v", tok2, err)
		}
		want("bob", tok, true)
		// Expiry.
		f.clock.Advance(14*24*time.Hour + time.Second)
		want("alice", tok, false)
		// Forgetting one, then all.
		tok, _ = f.e.RememberDevice(ctx, "alice", "Chrome on Windows", "", time.Hour)
		other, _ := f.e.RememberDevice(ctx, "alice", "Safari on iPhone", "", time.Hour)
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
		tok, err := f.e.RememberDevice(ctx, "alice", "Firefox on Linux", planted, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if tok == planted {
			t.Fatal("RememberDevice returned the token the browser brought")
		}
		if ok, err := f.e.RememberedDevice(ctx, "alice", planted); ok || err != nil {
			t.Fatalf("the planted token is remembered for alice: %v, %v", ok, err)
		}
		if ok, err := f.e.RememberedDevice(ctx, "alice", tok); !ok || err != nil {
			t.Fatalf("the minted token is not remembered: %v, %v", ok, err)
		}
	})
}
