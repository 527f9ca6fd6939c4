package twilio

import (
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

func TestNewDefaults(t *testing.T) {
	c, err := New(testSID, testToken, testFrom, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://api.twilio.com" {
		t.Errorf("BaseURL %q", c.BaseURL)
	}
	if c.HTTP == nil || c.HTTP.Timeout != phone.SendTimeout {
		t.Errorf("HTTP client %+v, want Timeout %v", c.HTTP, phone.SendTimeout)
	}
	if c.AccountSID != testSID || c.AuthToken != testToken || c.From != testFrom {
		t.Errorf("fields %+v", c)
	}
}

func TestNewAcceptsMessagingServiceAndTrimsURL(t *testing.T) {
	c, err := New(testSID, testToken, testMG, "http://127.0.0.1:8080//")
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "http://127.0.0.1:8080" {
		t.Errorf("BaseURL %q", c.BaseURL)
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name                string
		sid, token, from, u string
		want                string
	}{
		{"short SID", "AC0123", testToken, testFrom, "", "account SID"},
		{"wrong SID prefix", "MG0123456789abcdef0123456789abcdef", testToken, testFrom, "", "account SID"},
		{"SID not hex", "AC0123456789abcdef0123456789abcdeg", testToken, testFrom, "", "account SID"},
		{"empty token", testSID, "", testFrom, "", "auth token"},
		{"from without plus", testSID, testToken, "15005550006", "", "from"},
		{"from with letters", testSID, testToken, "+1500555000a", "", "from"},
		{"from too long", testSID, testToken, "+1234567890123456", "", "from"},
		{"from short MG", testSID, testToken, "MG0123", "", "from"},
		{"API URL scheme", testSID, testToken, testFrom, "ftp://api.twilio.com", "https://"},
		{"API URL relative", testSID, testToken, testFrom, "api.twilio.com", "https://"},
		{"API URL credentials", testSID, testToken, testFrom, "https://u:p@api.twilio.com", "credentials"},
		{"API URL query", testSID, testToken, testFrom, "https://api.twilio.com/?x=1", "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.sid, tc.token, tc.from, tc.u)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}
