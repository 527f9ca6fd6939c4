package challenge

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// withUsers gives the engine of f a users file with alice, bob and the
// disabled carol.
func withUsers(t *testing.T, f *fixture) {
	t.Helper()
	h, err := users.HashPassword("pw", users.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "users.yml")
	yml := "users:\n  bob:\n    password: \"" + h + "\"\n  alice:\n    password: \"" + h + "\"\n  carol:\n    password: \"" + h + "\"\n    disabled: true\n"
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	if f.e.Users, err = users.Open(p, users.Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestBypassOnceWithinItsTime(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		withUsers(t, f.fixture)
		ctx := context.Background()
		for _, d := range []time.Duration{0, -time.Minute, MaxBypass + time.Second} {
			if err := f.e.GrantBypass(ctx, "alice", d); !errors.Is(err, ErrBypassDuration) {
				t.Errorf("GrantBypass(%v) = %v, want ErrBypassDuration", d, err)
			}
		}
		for _, u := range []string{"mallory", "carol"} {
			if err := f.e.GrantBypass(ctx, u, time.Minute); !errors.Is(err, ErrNoSuchUser) {
				t.Errorf("GrantBypass(%s) = %v, want ErrNoSuchUser", u, err)
			}
		}
		if ok, err := f.e.TakeBypass(ctx, "alice"); ok || err != nil {
			t.Fatalf("TakeBypass with no pass = %v, %v", ok, err)
		}
		if err := f.e.GrantBypass(ctx, "alice", MaxBypass); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.e.TakeBypass(ctx, "bob"); ok || err != nil {
			t.Fatalf("bob took alice's pass: %v, %v", ok, err)
		}
		if ok, err := f.e.TakeBypass(ctx, "alice"); !ok || err != nil {
			t.Fatalf("TakeBypass = %v, %v", ok, err)
		}
		if ok, err := f.e.TakeBypass(ctx, "alice"); ok || err != nil {
			t.Fatalf("the pass worked twice: %v, %v", ok, err)
		}
		// Unused, it lapses.
		if err := f.e.GrantBypass(ctx, "alice", 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		f.advance(10*time.Minute + time.Second)
		if ok, err := f.e.TakeBypass(ctx, "alice"); ok || err != nil {
			t.Fatalf("a lapsed pass worked: %v, %v", ok, err)
		}
	})
}

func TestUserList(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	withUsers(t, f.fixture)
	ctx := context.Background()
	if _, err := f.e.AddPhone(ctx, "alice", mustNumber(t, jpMobile), true); err != nil {
		t.Fatal(err)
	}
	office, err := phone.Parse("", ukLand, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.AddPhone(ctx, "bob", office, true); err != nil {
		t.Fatal(err)
	}
	if err := f.e.Regulation.Block(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	list, err := f.e.UserList(ctx, func(u string) string { return u })
	if err != nil {
		t.Fatal(err)
	}
	want := []UserSummary{
		{User: "alice", Methods: []string{MethodSMS, MethodVoice}, LastSignIn: f.e.Now()},
		{User: "bob", Methods: []string{MethodVoice}, Locked: true, LastSignIn: f.e.Now()},
		{User: "carol", Disabled: true, Methods: []string{}},
	}
	got, _ := json.Marshal(list)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("UserList =\n%s\nwant\n%s", got, exp)
	}
}
