package caddymodule

import (
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// Satellite numbers are refused with the default list of countries, and
// allowed when sms_countries lists their code explicitly (issue 14, item 12).
func TestSMSCountriesSatelliteOnlyWhenListed(t *testing.T) {
	expectGlobalApps(t, []globalCase{
		{"sms_countries with a satellite code", "mfa {\n\tsms_countries +81 +881\n}", App{SMSCountries: []string{"+81", "+881"}}},
	})
	iridium, err := phone.Parse("", "+881622123456", "")
	if err != nil {
		t.Fatal(err)
	}
	mobile, err := phone.Parse("JP", "090-1234-5678", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		countries []string
		satellite bool
	}{
		{"default list", nil, false},
		{"+81 only", []string{"+81"}, false},
		{"+881 listed", []string{"+81", "+881"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := phoneApp(t)
			a.SMSRaw, a.Development = rawJSON(`{"provider":"log"}`), true
			a.SMSCountries = tt.countries
			if err := provision(t, a); err != nil {
				t.Fatalf("Provision: %v", err)
			}
			c := a.engine.Phone.Countries
			if got := c.AllowsNumber(iridium); got != tt.satellite {
				t.Errorf("+881 622 123456 allowed: %v, want %v", got, tt.satellite)
			}
			if !c.AllowsNumber(mobile) {
				t.Error("a Japanese mobile is refused")
			}
		})
	}
}
