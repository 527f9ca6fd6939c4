package challenge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/securitykey"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/webauthntest"
)

const keyOrigin = "https://wiki.example.com"

// keyFixture is an engine with security keys on wiki.example.com.
type keyFixture struct {
	*fixture
	site securitykey.Site
}

func newKeyFixture(t *testing.T) *keyFixture {
	t.Helper()
	f := newFixture(t)
	f.e.KV = store.NewMemoryKV()
	f.e.Methods = append(f.e.Methods, MethodWebAuthn)
	if err := f.e.SecurityKeys.Validate(); err != nil {
		t.Fatal(err)
	}
	site, err := f.e.SecurityKeys.Site("wiki.example.com", "Example")
	if err != nil {
		t.Fatal(err)
	}
	return &keyFixture{fixture: f, site: site}
}

// register registers a new key of auth for user from session, as name.
func (f *keyFixture) register(t *testing.T, auth *webauthntest.Authenticator, user, session, name string) ([]string, error) {
	t.Helper()
	opts, err := f.e.BeginKeyRegistration(context.Background(), f.site, user, "Alice Example", session)
	if err != nil {
		t.Fatalf("BeginKeyRegistration: %v", err)
	}
	resp, _, err := auth.Create(opts)
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	return f.e.FinishKeyRegistration(context.Background(), f.site, user, session, name, resp, false)
}

// registration starts registering a key of user from session and has a
// new software key answer it.
func (f *keyFixture) registration(t *testing.T, user, session string) []byte {
	t.Helper()
	opts, err := f.e.BeginKeyRegistration(context.Background(), f.site, user, "Alice Example", session)
	if err != nil {
		t.Fatalf("BeginKeyRegistration: %v", err)
	}
	resp, _, err := webauthntest.New(keyOrigin).Create(opts)
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	return resp
}

// begin starts a sign-in of user from session and has auth answer it.
func (f *keyFixture) begin(t *testing.T, auth *webauthntest.Authenticator, user, session string) []byte {
	t.Helper()
	opts, ok, err := f.e.BeginKeySignIn(context.Background(), f.site, f.account(t, user), session)
	if err != nil || !ok {
		t.Fatalf("BeginKeySignIn = %v, %v", ok, err)
	}
	resp, err := auth.Get(opts)
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	return resp
}

func (f *keyFixture) finish(user, session string, resp []byte) error {
	return f.e.FinishKeySignIn(context.Background(), f.site, user, session, resp)
}

func TestSecurityKeyRegisterAndSignIn(t *testing.T) {
	f := newKeyFixture(t)
	auth := webauthntest.New(keyOrigin)
	codes, err := f.register(t, auth, "alice", "s1", "  YubiKey 5  ")
	if err != nil {
		t.Fatalf("FinishKeyRegistration: %v", err)
	}
	if len(codes) != 10 {
		t.Fatalf("first method gave %d recovery codes, want 10", len(codes))
	}
	a := f.account(t, "alice")
	if len(a.Keys) != 1 || a.Keys[0].Name != "YubiKey 5" || len(a.KeyHandle) != 32 || !a.HasSecondFactor() {
		t.Fatalf("account after registration: handle %x, keys %+v", a.KeyHandle, a.Keys)
	}
	if !a.Keys[0].Added.Equal(f.clock.Now()) {
		t.Fatalf("Added = %v, want %v", a.Keys[0].Added, f.clock.Now())
	}
	if got := methodNames(a); len(got) != 1 || got[0] != MethodWebAuthn {
		t.Fatalf("methodNames = %v, want [webauthn]", got)
	}

	f.clock.Advance(time.Minute)
	if err := f.finish("alice", "s2", f.begin(t, auth, "alice", "s2")); err != nil {
		t.Fatalf("FinishKeySignIn: %v", err)
	}
	a = f.account(t, "alice")
	if a.Keys[0].SignCount != 1 || !a.Keys[0].LastUsed.Equal(f.clock.Now()) || !a.LastSignIn.Equal(f.clock.Now()) {
		t.Fatalf("after sign-in: counter %d, last used %v, last sign-in %v", a.Keys[0].SignCount, a.Keys[0].LastUsed, a.LastSignIn)
	}
}

func TestSecurityKeyCeremonyIsSingleUse(t *testing.T) {
	f := newKeyFixture(t)
	auth := webauthntest.New(keyOrigin)
	if _, err := f.register(t, auth, "alice", "s1", "key"); err != nil {
		t.Fatal(err)
	}
	resp := f.begin(t, auth, "alice", "s1")
	if err := f.finish("alice", "s1", resp); err != nil {
		t.Fatalf("first answer: %v", err)
	}
	if err := f.finish("alice", "s1", resp); !errors.Is(err, ErrCeremony) {
		t.Fatalf("the same answer again: err = %v, want ErrCeremony", err)
	}
	// An answer to an older challenge does not fit a new one.
	old := f.begin(t, auth, "alice", "s1")
	f.begin(t, auth, "alice", "s1")
	if err := f.finish("alice", "s1", old); !errors.Is(err, securitykey.ErrRejected) {
		t.Fatalf("answer to a replaced challenge: err = %v, want ErrRejected", err)
	}
	// A refused answer uses the ceremony up too.
	if err := f.finish("alice", "s1", f.begin(t, auth, "alice", "s1")[:40]); !errors.Is(err, securitykey.ErrRejected) {
		t.Fatalf("a cut-off answer: err = %v, want ErrRejected", err)
	}
	if err := f.finish("alice", "s1", resp); !errors.Is(err, ErrCeremony) {
		t.Fatalf("after a refused answer: err = %v, want ErrCeremony", err)
	}

	// Registration ceremonies are used once as well.
	reg := f.registration(t, "alice", "s1")
	if _, err := f.e.FinishKeyRegistration(context.Background(), f.site, "alice", "s1", "second", reg, false); err != nil {
		t.Fatalf("second key: %v", err)
	}
	if _, err := f.e.FinishKeyRegistration(context.Background(), f.site, "alice", "s1", "again", reg, false); !errors.Is(err, ErrCeremony) {
		t.Fatalf("registration answer replayed: err = %v, want ErrCeremony", err)
	}
	if n := len(f.account(t, "alice").Keys); n != 2 {
		t.Fatalf("keys after a replayed registration = %d, want 2", n)
	}
}

func TestSecurityKeyCeremonyExpires(t *testing.T) {
	f := newKeyFixture(t)
	auth := webauthntest.New(keyOrigin)
	if _, err := f.register(t, auth, "alice", "s1", "key"); err != nil {
		t.Fatal(err)
	}
	resp := f.begin(t, auth, "alice", "s1")
	f.clock.Advance(securitykey.DefaultTimeout)
	if err := f.finish("alice", "s1", resp); !errors.Is(err, ErrCeremony) {
		t.Fatalf("answer after %s: err = %v, want ErrCeremony", securitykey.DefaultTimeout, err)
	}
	resp = f.begin(t, auth, "alice", "s1")
	f.clock.Advance(securitykey.DefaultTimeout - time.Second)
	if err := f.finish("alice", "s1", resp); err != nil {
		t.Fatalf("answer just in time: %v", err)
	}

	reg := f.registration(t, "alice", "s1")
	f.clock.Advance(securitykey.DefaultTimeout)
	if _, err := f.e.FinishKeyRegistration(context.Background(), f.site, "alice", "s1", "late", reg, false); !errors.Is(err, ErrCeremony) {
		t.Fatalf("late registration: err = %v, want ErrCeremony", err)
	}
}

func TestSecurityKeyCeremonyUserMismatch(t *testing.T) {
	f := newKeyFixture(t)
	alice, bob := webauthntest.New(keyOrigin), webauthntest.New(keyOrigin)
	if _, err := f.register(t, alice, "alice", "s1", "alice's key"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.register(t, bob, "bob", "s2", "bob's key"); err != nil {
		t.Fatal(err)
	}
	// Alice's ceremony, answered by alice, finished as bob in the same
	// browser session (signed in as someone else meanwhile).
	resp := f.begin(t, alice, "alice", "s1")
	if err := f.finish("bob", "s1", resp); !errors.Is(err, ErrCeremony) {
		t.Fatalf("alice's ceremony finished as bob: err = %v, want ErrCeremony", err)
	}
	// Bob's ceremony answered with alice's key (she holds it to his login).
	opts, _, err := f.e.BeginKeySignIn(context.Background(), f.site, f.account(t, "bob"), "s2")
	if err != nil {
		t.Fatal(err)
	}
	var aliceCred *webauthntest.Credential
	for _, c := range alice.Creds {
		aliceCred = c
	}
	resp, err = alice.Sign(aliceCred, challengeOf(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.finish("bob", "s2", resp); !errors.Is(err, securitykey.ErrRejected) {
		t.Fatalf("bob's ceremony answered with alice's key: err = %v, want ErrRejected", err)
	}
	// Another browser session's ceremony is not this one's.
	resp = f.begin(t, alice, "alice", "s1")
	if err := f.finish("alice", "s3", resp); !errors.Is(err, ErrCeremony) {
		t.Fatalf("ceremony of session s1 finished in s3: err = %v, want ErrCeremony", err)
	}
}

// challengeOf is the challenge of request options.
func challengeOf(t *testing.T, opts []byte) string {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options %s: %v", opts, err)
	}
	return o.PublicKey.Challenge
}

func TestSecurityKeyWrongOrigin(t *testing.T) {
	f := newKeyFixture(t)
	evil := webauthntest.New("https://wiki.example.com.evil.test")
	_, err := f.register(t, evil, "alice", "s1", "key")
	var oe *securitykey.OriginError
	if !errors.As(err, &oe) || oe.Origin != "https://wiki.example.com.evil.test" || oe.RPID != "wiki.example.com" {
		t.Fatalf("registration from another origin: err = %v, want *OriginError", err)
	}
	if a := f.account(t, "alice"); a.HasSecondFactor() {
		t.Fatalf("a refused registration saved %+v", a.Keys)
	}
	auth := webauthntest.New(keyOrigin)
	if _, err := f.register(t, auth, "alice", "s1", "key"); err != nil {
		t.Fatal(err)
	}
	auth.Origin = "http://wiki.example.com:8443"
	if err := f.finish("alice", "s1", f.begin(t, auth, "alice", "s1")); !errors.As(err, &oe) {
		t.Fatalf("sign-in from another origin: err = %v, want *OriginError", err)
	}
	if a := f.account(t, "alice"); a.Keys[0].SignCount != 0 {
		t.Fatalf("a refused sign-in recorded counter %d", a.Keys[0].SignCount)
	}
}

func TestSecurityKeyCloneWarning(t *testing.T) {
	f := newKeyFixture(t)
	auth := webauthntest.New(keyOrigin)
	if _, err := f.register(t, auth, "alice", "s1", "my key"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := f.finish("alice", "s1", f.begin(t, auth, "alice", "s1")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range auth.Creds {
		c.Counter = 1 // a copy of the key made after its first use
	}
	err := f.finish("alice", "s1", f.begin(t, auth, "alice", "s1"))
	if !errors.Is(err, securitykey.ErrCloned) || !strings.Contains(err.Error(), `key "my key"`) {
		t.Fatalf("sign-in with a counter gone back: err = %v; want ErrCloned naming the key", err)
	}
	if a := f.account(t, "alice"); a.Keys[0].SignCount != 3 {
		t.Fatalf("counter after a clone warning = %d, want 3 (unchanged)", a.Keys[0].SignCount)
	}
}

func TestSecurityKeysSeveralRenameRemove(t *testing.T) {
	f := newKeyFixture(t)
	one, two := webauthntest.New(keyOrigin), webauthntest.New(keyOrigin)
	if _, err := f.register(t, one, "alice", "s1", "one"); err != nil {
		t.Fatal(err)
	}
	codes, err := f.register(t, two, "alice", "s1", "two")
	if err != nil || codes != nil {
		t.Fatalf("second key = %v, %v; want no new recovery codes", codes, err)
	}
	// The same key again: the options exclude it, and the browser says so.
	opts, err := f.e.BeginKeyRegistration(context.Background(), f.site, "alice", "Alice", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := one.Create(opts); err == nil {
		t.Fatal("options of a new registration do not exclude the registered keys")
	}
	// A key that answers anyway is refused where keys are saved.
	for _, c := range one.Creds {
		one.Reuse = c
	}
	if _, err := f.register(t, one, "alice", "s1", "one again"); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("the same key registered again: err = %v, want ErrKeyExists", err)
	}
	one.Reuse = nil
	a := f.account(t, "alice")
	if len(Registered(a)) != 2 {
		t.Fatalf("Registered = %+v, want two keys", Registered(a))
	}
	if got := methodNames(a); len(got) != 1 || got[0] != MethodWebAuthn {
		t.Fatalf("methodNames with two keys = %v, want [webauthn] once", got)
	}
	idOne := KeyID(a.Keys[0].CredentialID)
	if err := f.e.RenameKey(context.Background(), "alice", idOne, " Blue key "); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "   ", string(make([]byte, 65)), "a\nb"} {
		if err := f.e.RenameKey(context.Background(), "alice", idOne, bad); !errors.Is(err, ErrBadKeyName) {
			t.Errorf("RenameKey(%q) = %v, want ErrBadKeyName", bad, err)
		}
	}
	if err := f.e.RenameKey(context.Background(), "alice", "key-nope", "x"); !errors.Is(err, ErrNoSuchMethod) {
		t.Errorf("RenameKey of an unknown key = %v, want ErrNoSuchMethod", err)
	}
	if got := f.account(t, "alice").Keys[0].Name; got != "Blue key" {
		t.Fatalf("name after rename = %q", got)
	}
	if err := f.e.RemoveMethod(context.Background(), "alice", idOne, ""); err != nil {
		t.Fatalf("RemoveMethod(key one): %v", err)
	}
	if err := f.finish("alice", "s1", f.begin(t, two, "alice", "s1")); err != nil {
		t.Fatalf("sign-in with the key kept: %v", err)
	}
	// The removed key no longer signs in, even for a ceremony begun before.
	opts, _, err = f.e.BeginKeySignIn(context.Background(), f.site, f.account(t, "alice"), "s1")
	if err != nil {
		t.Fatal(err)
	}
	var c1 *webauthntest.Credential
	for _, c := range one.Creds {
		c1 = c
	}
	resp, err := one.Sign(c1, challengeOf(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.finish("alice", "s1", resp); !errors.Is(err, securitykey.ErrRejected) {
		t.Fatalf("sign-in with the removed key: err = %v, want ErrRejected", err)
	}
	last := KeyID(f.account(t, "alice").Keys[0].CredentialID)
	if err := f.e.RemoveMethod(context.Background(), "alice", last, ""); !errors.Is(err, ErrLastMethod) {
		t.Fatalf("removing the only key: err = %v, want ErrLastMethod", err)
	}
}

func TestSecurityKeyRegistrationRefusals(t *testing.T) {
	f := newKeyFixture(t)
	auth := webauthntest.New(keyOrigin)
	if _, err := f.register(t, auth, "alice", "s1", "\x00"); !errors.Is(err, ErrBadKeyName) {
		t.Fatalf("control character in the name: err = %v, want ErrBadKeyName", err)
	}
	if _, err := f.e.FinishKeyRegistration(context.Background(), f.site, "alice", "s1", "key", []byte(`{"id":"x"}`), false); !errors.Is(err, securitykey.ErrRejected) {
		t.Fatalf("malformed answer: err = %v, want ErrRejected", err)
	}
	if _, err := f.e.FinishKeyRegistration(context.Background(), f.site, "alice", "never", "key", []byte(`{}`), false); !errors.Is(err, ErrCeremony) {
		t.Fatalf("answer with no ceremony: err = %v, want ErrCeremony", err)
	}
	if a := f.account(t, "alice"); a.HasSecondFactor() {
		t.Fatalf("refused registrations saved %+v", a.Keys)
	}
	if _, err := f.register(t, auth, "alice", "s1", "key"); err != nil {
		t.Fatal(err)
	}
	resp := f.registration(t, "alice", "s1")
	if _, err := f.e.FinishKeyRegistration(context.Background(), f.site, "alice", "s1", "key", resp, true); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("a first-method registration for a user who has one: err = %v, want ErrAlreadyEnrolled", err)
	}
	err := f.e.Accounts.Update(context.Background(), "alice", func(a *store.Account) error {
		for len(a.Keys) < MaxKeys {
			a.Keys = append(a.Keys, store.SecurityKey{CredentialID: []byte{byte(len(a.Keys))}, Name: "k"})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.register(t, webauthntest.New(keyOrigin), "alice", "s1", "one too many"); !errors.Is(err, ErrTooManyKeys) {
		t.Fatalf("key number %d: err = %v, want ErrTooManyKeys", MaxKeys+1, err)
	}
}

func TestKeyID(t *testing.T) {
	id := []byte{0xfb, 0xff, 0x01}
	if got, want := KeyID(id), "key-"+base64.RawURLEncoding.EncodeToString(id); got != want {
		t.Fatalf("KeyID = %q, want %q", got, want)
	}
	a := &store.Account{Keys: []store.SecurityKey{{CredentialID: id}}}
	if keyIndex(a, KeyID(id)) != 0 || keyIndex(a, "phone-0") != -1 || keyIndex(a, "key-") != -1 {
		t.Fatal("keyIndex does not find keys by KeyID only")
	}
}
