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
		{"from short MG", testSID, testToken, "MG0123", "", "Messaging Service SID cut short"},
		{"sender ID too long", testSID, testToken, "Example Corp", "", "alphanumeric sender ID"},
		{"sender ID digits only", testSID, testToken, "1234567", "", "at least one letter"},
		{"sender ID punctuation", testSID, testToken, "Example-Co", "", "from"},
		{"sender ID not ASCII", testSID, testToken, "Exämple", "", "from"},
		{"short code too short", testSID, testToken, "1234", "", "short code"},
		{"empty from", testSID, testToken, "", "", "from"},
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

// TestNewAcceptsTextSenders: for texts, from may also be an alphanumeric
// sender ID (1 to 11 ASCII letters, digits and spaces, at least one a
// letter, as Twilio documents) or a short code (5 or 6 digits).
func TestNewAcceptsTextSenders(t *testing.T) {
	for _, from := range []string{"A", "ExampleCo", "Example Co1", "ABCDEFGHIJK", "2FA", "MGM Resorts", "12345", "123456"} {
		if _, err := New(testSID, testToken, from, ""); err != nil {
			t.Errorf("from %q: %v", from, err)
		}
	}
}

// TestCheckCaller: only an E.164 number places calls; every other sender
// is refused with a message that names what it is.
func TestCheckCaller(t *testing.T) {
	if err := CheckCaller(testFrom); err != nil {
		t.Errorf("number: %v", err)
	}
	for from, want := range map[string]string{
		testMG:      "Messaging Service SID",
		"ExampleCo": "alphanumeric sender ID",
		"12345":     "short code",
		"0312345":   "not an E.164 number",
	} {
		err := CheckCaller(from)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "E.164") {
			t.Errorf("from %q: %v, want an error that says it is %s and calls need an E.164 number", from, err, want)
		}
	}
}
