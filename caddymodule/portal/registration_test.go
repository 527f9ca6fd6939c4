package portal

import (
	"net/netip"
	"testing"
	"time"
)

// Who may register straight after the password, by client address and
// time.
func TestRegistrationFromHere(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	office := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, c := range []struct {
		name  string
		g     Registration
		ip    string
		want  bool
		email bool
	}{
		{"open", Registration{Open: true}, "203.0.113.9", true, false},
		{"open until later", Registration{Open: true, Until: now.Add(time.Hour)}, "203.0.113.9", true, false},
		{"open until now", Registration{Open: true, Until: now}, "203.0.113.9", false, false},
		{"office", Registration{Networks: office}, "10.1.2.3", true, false},
		{"office, mapped", Registration{Networks: office}, "::ffff:10.1.2.3", true, false},
		{"office v6", Registration{Networks: office}, "2001:db8::1", true, false},
		{"outside", Registration{Networks: office}, "203.0.113.9", false, false},
		{"office after until", Registration{Networks: office, Until: now.Add(-time.Second)}, "10.1.2.3", false, false},
		{"no address", Registration{Networks: office}, "", false, false},
		{"pass only", Registration{}, "10.1.2.3", false, false},
		{"e-mail", Registration{VerifiedEmail: true}, "10.1.2.3", false, true},
		{"e-mail after until", Registration{VerifiedEmail: true, Until: now}, "10.1.2.3", false, false},
	} {
		ip, _ := netip.ParseAddr(c.ip)
		if got := c.g.fromHere(now, ip.Unmap()); got != c.want {
			t.Errorf("%s: fromHere(%q) = %v, want %v", c.name, c.ip, got, c.want)
		}
		if got := c.g.byEmail(now); got != c.email {
			t.Errorf("%s: byEmail = %v, want %v", c.name, got, c.email)
		}
	}
}
