package challenge

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
)

func familiarEngine(t *testing.T, key byte, now *time.Time) *Engine {
	t.Helper()
	k, err := seal.New(bytes.Repeat([]byte{key}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Keys: k, Now: func() time.Time { return *now }}
}

func TestFamiliarToken(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e := familiarEngine(t, 1, &now)
	tok := e.FamiliarToken("", "alice")
	if !e.FamiliarBrowser(tok, "alice") {
		t.Fatal("a fresh token is not familiar for its user")
	}
	if e.FamiliarBrowser(tok, "bob") || e.FamiliarBrowser("", "alice") {
		t.Fatal("familiar for another user, or without a token")
	}
	if bytes.Contains([]byte(tok), []byte("alice")) {
		t.Fatal("the token names the user in clear")
	}
	// Signed: a token of another gateway key, or altered, is not valid.
	if familiarEngine(t, 2, &now).FamiliarBrowser(tok, "alice") {
		t.Fatal("a token of another key is accepted")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 1
		if e.FamiliarBrowser(base64.RawURLEncoding.EncodeToString(bad), "alice") {
			t.Fatalf("a token with byte %d altered is accepted", i)
		}
	}
	for _, junk := range []string{"x", "%%%", string(bytes.Repeat([]byte("A"), 4096))} {
		if e.FamiliarBrowser(junk, "alice") {
			t.Fatalf("junk %.10q accepted", junk)
		}
	}

	// A second user keeps the first; a sign-in refreshes its own entry.
	tok = e.FamiliarToken(tok, "bob")
	if !e.FamiliarBrowser(tok, "alice") || !e.FamiliarBrowser(tok, "bob") {
		t.Fatal("a second user's sign-in forgot the first")
	}
	now = now.Add(FamiliarFor - time.Hour)
	tok = e.FamiliarToken(tok, "bob")
	now = now.Add(2 * time.Hour)
	if e.FamiliarBrowser(tok, "alice") {
		t.Fatal("familiar past FamiliarFor after the user's last sign-in")
	}
	if !e.FamiliarBrowser(tok, "bob") {
		t.Fatal("the refreshed user is not familiar")
	}

	// At most eight users, the most recent kept, and a bounded size.
	for i := range 12 {
		tok = e.FamiliarToken(tok, fmt.Sprintf("user%d", i))
	}
	for i := range 12 {
		if got, want := e.FamiliarBrowser(tok, fmt.Sprintf("user%d", i)), i >= 4; got != want {
			t.Fatalf("user%d familiar = %v, want %v", i, got, want)
		}
	}
	if len(tok) > maxFamiliarToken {
		t.Fatalf("token of %d bytes, over the %d read back", len(tok), maxFamiliarToken)
	}
}
