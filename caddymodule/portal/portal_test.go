package portal

import (
	"net/http/httptest"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
)

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64", // same /64: one budget
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"not an address":       "not an address",
		"fe80::1%eth0":         "fe80::/64",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientIPDropsThePort(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "198.51.100.4:51234"
	if got := events.ClientIP(r); got != "198.51.100.4" {
		t.Fatalf("clientIP = %q: each connection would get its own budget", got)
	}
}
