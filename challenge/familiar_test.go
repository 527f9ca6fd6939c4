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

// familiarOK reports whether tok is familiar for user on e.
func familiarOK(e *Engine, tok, user string) bool {
	_, ok := e.FamiliarBrowser(tok, user)
	return ok
}

// nextToken is e's token after user signs in where tok was kept.
func nextToken(t *testing.T, e *Engine, tok, user string) string {
	t.Helper()
	next, err := e.FamiliarToken(tok, user)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func TestFamiliarToken(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e := familiarEngine(t, 1, &now)
	tok := nextToken(t, e, "", "alice")
	if !familiarOK(e, tok, "alice") {
		t.Fatal("a fresh token is not familiar for its user")
	}
	if familiarOK(e, tok, "bob") || familiarOK(e, "", "alice") {
		t.Fatal("familiar for another user, or without a token")
	}
	if bytes.Contains([]byte(tok), []byte("alice")) {
		t.Fatal("the token names the user in clear")
	}
	// Signed: a token of another gateway key, or altered, is not valid.
	if familiarOK(familiarEngine(t, 2, &now), tok, "alice") {
		t.Fatal("a token of another key is accepted")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 1
		if familiarOK(e, base64.RawURLEncoding.EncodeToString(bad), "alice") {
			t.Fatalf("a token with byte %d altered is accepted", i)
		}
	}
	for _, junk := range []string{"x", "%%%", string(bytes.Repeat([]byte("A"), 4096))} {
		if familiarOK(e, junk, "alice") {
			t.Fatalf("junk %.10q accepted", junk)
		}
	}

	// A second user keeps the first; a sign-in refreshes its own entry.
	tok = nextToken(t, e, tok, "bob")
	if !familiarOK(e, tok, "alice") || !familiarOK(e, tok, "bob") {
		t.Fatal("a second user's sign-in forgot the first")
	}
	now = now.Add(FamiliarFor - time.Hour)
	tok = nextToken(t, e, tok, "bob")
	now = now.Add(2 * time.Hour)
	if familiarOK(e, tok, "alice") {
		t.Fatal("familiar past FamiliarFor after the user's last sign-in")
	}
	if !familiarOK(e, tok, "bob") {
		t.Fatal("the refreshed user is not familiar")
	}

	// At most eight users, the most recent kept, and a bounded size.
	for i := range 12 {
		tok = nextToken(t, e, tok, fmt.Sprintf("user%d", i))
	}
	for i := range 12 {
		if got, want := familiarOK(e, tok, fmt.Sprintf("user%d", i)), i >= 4; got != want {
			t.Fatalf("user%d familiar = %v, want %v", i, got, want)
		}
	}
	// The browser keeps its id through every sign-in in it; another
	// browser has another.
	id, _ := e.FamiliarBrowser(tok, "user11")
	first, _ := e.FamiliarBrowser(nextToken(t, e, "", "user11"), "user11")
	if len(id) != 2*familiarIDLen || first == id {
		t.Fatalf("browser ids %q and %q: want %d hex digits, different per browser", id, first, 2*familiarIDLen)
	}
	if again, _ := e.FamiliarBrowser(nextToken(t, e, tok, "user3"), "user3"); again != id {
		t.Fatalf("a sign-in changed the browser id from %q to %q", id, again)
	}
	if len(tok) > maxFamiliarToken {
		t.Fatalf("token of %d bytes, over the %d read back", len(tok), maxFamiliarToken)
	}
}
