package securitykey

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	c := Config{RPID: " Example.COM ", Origins: []string{"https://Wiki.Example.com", "https://example.com:8443/"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.RPID != "example.com" || !slices.Equal(c.Origins, []string{"https://wiki.example.com", "https://example.com:8443"}) {
		t.Fatalf("after Validate: rp id %q, origins %q", c.RPID, c.Origins)
	}
	if c.UserVerification != "preferred" || c.Attestation != "none" || c.Timeout != DefaultTimeout {
		t.Fatalf("defaults: user verification %q, attestation %q, timeout %s", c.UserVerification, c.Attestation, c.Timeout)
	}
	bad := []struct {
		c    Config
		want string
	}{
		{Config{RPID: "https://example.com"}, "domain name"},
		{Config{RPID: "example.com:443"}, "domain name"},
		{Config{RPID: "192.0.2.1"}, "domain name"},
		{Config{Origins: []string{"example.com"}}, "scheme and host"},
		{Config{Origins: []string{"https://example.com/login"}}, "no path"},
		{Config{Origins: []string{"ftp://example.com"}}, "scheme and host"},
		{Config{Origins: []string{"http://example.com"}}, "must be https"},
		{Config{Origins: []string{"http://127.0.0.1:8080"}}, "domain name"},
		{Config{Origins: []string{"https://[::1]"}}, "domain name"},
		{Config{RPID: "example.com", Origins: []string{"https://example.org"}}, "not on example.com"},
		{Config{RPID: "example.com", Origins: []string{"https://notexample.com"}}, "not on example.com"},
		{Config{UserVerification: "always"}, "user_verification"},
		{Config{Attestation: "enterprise"}, "attestation"},
		{Config{Timeout: time.Second}, "timeout"},
	}
	for _, b := range bad {
		err := b.c.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %q", b.c, err, b.want)
		}
	}
	ok := Config{Origins: []string{"http://localhost:8080", "http://a.localhost"}, UserVerification: "required", Attestation: "direct"}
	if err := ok.Validate(); err != nil {
		t.Errorf("http on localhost: %v", err)
	}
}

func TestConfigSite(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := c.Site("Wiki.Example.com:8443", "Example")
	if err != nil {
		t.Fatal(err)
	}
	if s.RPID != "wiki.example.com" || s.Name != "Example" ||
		!slices.Equal(s.Origins, []string{"https://wiki.example.com:8443"}) {
		t.Fatalf("default site = %+v, want only its https origin", s)
	}
	// Plain http only where browsers use keys over it: localhost.
	s, err = c.Site("app.localhost:8080", "Example")
	if err != nil || !slices.Equal(s.Origins, []string{"https://app.localhost:8080", "http://app.localhost:8080"}) {
		t.Fatalf("localhost site = %+v, %v", s, err)
	}
	for _, host := range []string{"127.0.0.1:8080", "[::1]:443", "192.0.2.7"} {
		var oe *OriginError
		if _, err := c.Site(host, "x"); !errors.As(err, &oe) || !oe.Address || !strings.Contains(err.Error(), "domain name") {
			t.Errorf("Site(%q) = %v, want *OriginError (addresses cannot be relying-party ids)", host, err)
		}
	}

	shared := Config{RPID: "example.com", Origins: []string{"https://a.example.com"}}
	if err := shared.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err = shared.Site("b.example.com", "Example")
	if err != nil || s.RPID != "example.com" || !slices.Equal(s.Origins, []string{"https://a.example.com"}) {
		t.Fatalf("site under a shared rp id = %+v, %v", s, err)
	}
	_, err = shared.Site("example.org", "Example")
	var oe *OriginError
	if !errors.As(err, &oe) || oe.Origin != "example.org" || oe.RPID != "example.com" {
		t.Fatalf("site outside the rp id: err = %v, want *OriginError", err)
	}
	if !strings.Contains(err.Error(), "example.org may not use security keys of example.com") {
		t.Fatalf("error text %q does not say which site and which keys", err)
	}
}

func TestCheckOrigin(t *testing.T) {
	s := Site{RPID: "example.com", Origins: []string{"https://a.example.com"}}
	if err := checkOrigin(s, "https://A.example.com"); err != nil {
		t.Errorf("same origin, other case: %v", err)
	}
	for _, o := range []string{"https://b.example.com", "http://a.example.com", "https://a.example.com:8443", "https://a.example.com.evil.test", ""} {
		var oe *OriginError
		if err := checkOrigin(s, o); !errors.As(err, &oe) || oe.Origin != o {
			t.Errorf("checkOrigin(%q) = %v, want *OriginError", o, err)
		}
	}
}
