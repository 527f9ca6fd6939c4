package portal

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// countingDirectory counts the lookups of typed names that may reach the
// directory (an LDAP search each).
type countingDirectory struct {
	challenge.Directory
	lookups atomic.Int32
}

func (d *countingDirectory) CanonicalName(ctx context.Context, typed string) (string, error) {
	d.lookups.Add(1)
	return d.Directory.CanonicalName(ctx, typed)
}

// A client address over login_per_ip is refused before the typed name is
// looked up: with LDAP that lookup is a directory search through the
// bounded gate, and a flood of made-up names from one address must not
// spend it (nor keep real users' sign-ins waiting for it).
func TestLookupOnlyWithinTheAddressRate(t *testing.T) {
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	p := testPortalUsers(t, "users:\n  alice:\n    password: \""+hash+"\"\n", users.Options{})
	dir := &countingDirectory{Directory: p.engine.Users}
	p.engine.Users = dir
	srv := portalServer(t, p)
	perIP := regulation.DefaultLimits().LoginPerIP.Rate
	tries, refused := perIP+10, 0
	for i := range tries {
		if code := signInOver(t, srv, fmt.Sprintf("nobody%d", i), "pw"); code == http.StatusTooManyRequests {
			refused++
		}
	}
	// The rate refills as the sign-ins go on (one a 2 s at 30/1m), so a
	// slow run refuses a few fewer: what matters is that no refused one
	// was looked up.
	if refused < 5 {
		t.Fatalf("%d of %d sign-ins over login_per_ip (%d) refused, want most of the last 10", refused, tries, perIP)
	}
	if n := int(dir.lookups.Load()); n != tries-refused {
		t.Errorf("%d names looked up for %d sign-ins from one address, %d of them refused by its rate: want %d (none for a refused one)", n, tries, refused, tries-refused)
	}
}
