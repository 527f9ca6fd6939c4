package challenge

import (
	"context"
	"errors"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/recovery"
)

func TestRemoveMethodNeverTheLast(t *testing.T) {
	f := newPushFixture(t, shortStoreKinds[0])
	ctx := context.Background()
	first, err := f.e.AddPhone(ctx, "alice", mustNumber(t, jpMobile), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.AddPhone(ctx, "alice", mustNumber(t, ukMobile), false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.AddPush(ctx, "alice", testTopic, false); err != nil {
		t.Fatal(err)
	}
	a, _ := f.e.Account(ctx, "alice")
	rows := Registered(a)
	if len(rows) != 3 || rows[0].ID != "push" || rows[1].ID != "phone-0" || rows[2].ID != "phone-1" || rows[1].Masked == "" {
		t.Fatalf("Registered = %+v", rows)
	}
	// A phone is named by its place and its masked number: a stale list
	// removes nothing else.
	if err := f.e.RemoveMethod(ctx, "alice", "phone-0", rows[2].Masked); !errors.Is(err, ErrNoSuchMethod) {
		t.Fatalf("remove with the wrong number: %v", err)
	}
	for _, id := range []string{"totp", "phone-7", "phone-x", "nonsense"} {
		if err := f.e.RemoveMethod(ctx, "alice", id, ""); !errors.Is(err, ErrNoSuchMethod) {
			t.Errorf("remove %s: %v, want ErrNoSuchMethod", id, err)
		}
	}
	if err := f.e.RemoveMethod(ctx, "alice", "phone-0", rows[1].Masked); err != nil {
		t.Fatal(err)
	}
	if err := f.e.RemoveMethod(ctx, "alice", "push", ""); err != nil {
		t.Fatal(err)
	}
	a, _ = f.e.Account(ctx, "alice")
	rows = Registered(a)
	if len(rows) != 1 || rows[0].ID != "phone-0" {
		t.Fatalf("after removals: %+v", rows)
	}
	if err := f.e.RemoveMethod(ctx, "alice", "phone-0", rows[0].Masked); !errors.Is(err, ErrLastMethod) {
		t.Fatalf("removing the last method: %v", err)
	}
	if len(a.RecoveryCodes) != len(first) {
		t.Errorf("recovery codes changed by removals: %d", len(a.RecoveryCodes))
	}
}

func TestRegenerateRecovery(t *testing.T) {
	f := newPushFixture(t, shortStoreKinds[0])
	ctx := context.Background()
	if _, err := f.e.RegenerateRecovery(ctx, "nobody"); !errors.Is(err, ErrNoSuchMethod) {
		t.Fatalf("codes for a user with no method: %v", err)
	}
	old, err := f.e.AddPush(ctx, "alice", testTopic, true)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.e.RegenerateRecovery(ctx, "alice")
	if err != nil || len(codes) != len(old) {
		t.Fatalf("RegenerateRecovery = %d codes, %v", len(codes), err)
	}
	for _, c := range codes {
		if !recovery.Looks(c) {
			t.Fatalf("code %q", c)
		}
	}
	if err := f.e.UseRecoveryCode(ctx, "alice", old[0]); !errors.Is(err, ErrBadCode) {
		t.Errorf("an old code still works: %v", err)
	}
	if err := f.e.UseRecoveryCode(ctx, "alice", codes[0]); err != nil {
		t.Errorf("a new code does not work: %v", err)
	}
}

func TestSetDefaultMethod(t *testing.T) {
	f := newPushFixture(t, shortStoreKinds[0])
	ctx := context.Background()
	if _, err := f.e.AddPhone(ctx, "alice", mustNumber(t, jpMobile), true); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"totp", "push", "recovery", ""} {
		if err := f.e.SetDefaultMethod(ctx, "alice", m); !errors.Is(err, ErrNoSuchMethod) {
			t.Errorf("default %q: %v, want ErrNoSuchMethod", m, err)
		}
	}
	for _, m := range []string{"voice", "sms"} {
		if err := f.e.SetDefaultMethod(ctx, "alice", m); err != nil {
			t.Fatalf("default %s: %v", m, err)
		}
	}
	if a, _ := f.e.Account(ctx, "alice"); a.Default != "sms" {
		t.Errorf("Default = %q", a.Default)
	}
}
