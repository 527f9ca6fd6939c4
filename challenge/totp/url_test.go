package totp

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pquerna/otp"
)

// TestURLAnyOrganisation: the otpauth:// URI parses back, with net/url and
// with pquerna/otp, to the issuer and account it was made for, whatever
// characters the organisation name has; Generate and URL build the same
// string for one seed.
func TestURLAnyOrganisation(t *testing.T) {
	for _, tc := range []struct{ issuer, account string }{
		{"Demo Corp", "alice"},
		{"Smith & Sons", "alice"},
		{"A&B=C?d", "bob@example.com"},
		{"Acme: Research", "alice"},
		{"Team #1", "al ice"},
		{"株式会社 日本", "山田"},
		{"100% + more", "x+y"},
	} {
		c := defaults()
		c.Issuer = tc.issuer
		en, err := c.Generate(tc.account)
		if err != nil {
			t.Fatal(err)
		}
		if rebuilt := c.URL(tc.account, en.Secret); rebuilt != en.URL {
			t.Errorf("%q: Generate built %q, URL %q: the page and the QR code must show one string", tc.issuer, en.URL, rebuilt)
		}
		u, err := url.Parse(en.URL)
		if err != nil {
			t.Fatalf("%q: %q does not parse: %v", tc.issuer, en.URL, err)
		}
		q := u.Query()
		if u.Scheme != "otpauth" || u.Host != "totp" || u.Fragment != "" || q.Get("issuer") != tc.issuer || q.Get("secret") != en.Secret {
			t.Errorf("%q: %q parses to scheme %q host %q fragment %q issuer %q secret %q", tc.issuer, en.URL, u.Scheme, u.Host, u.Fragment, q.Get("issuer"), q.Get("secret"))
		}
		if strings.Contains(u.RawQuery, "+") {
			t.Errorf("%q: %q: spaces in the query must be %%20 (some apps show a +)", tc.issuer, en.URL)
		}
		label := strings.TrimPrefix(u.Path, "/")
		if iss, acct, ok := strings.Cut(label, ":"); !ok || iss != tc.issuer || acct != tc.account {
			if strings.Contains(tc.issuer, ":") && label == tc.account {
				// An issuer with a colon cannot prefix the label; the
				// issuer parameter names it.
			} else {
				t.Errorf("%q: label %q, want %q:%q", tc.issuer, label, tc.issuer, tc.account)
			}
		}
		k, err := otp.NewKeyFromURL(en.URL)
		if err != nil {
			t.Fatalf("%q: pquerna/otp cannot read %q: %v", tc.issuer, en.URL, err)
		}
		if k.Issuer() != tc.issuer || k.AccountName() != tc.account || k.Secret() != en.Secret {
			t.Errorf("%q: pquerna/otp reads issuer %q account %q", tc.issuer, k.Issuer(), k.AccountName())
		}
	}
}
