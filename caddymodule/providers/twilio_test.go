package providers

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/twilio"
	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "twilio-test-auth-token"
	testFrom  = "+15005550006"
)

func TestTwilioSMSCaddyfile(t *testing.T) {
	expectCaddyfile(t, []caddyfileCase[TwilioSMS]{
		{"no block", "twilio", TwilioSMS{}},
		{"account_sid", "twilio {\n\taccount_sid {env.TWILIO_SID}\n}", TwilioSMS{TwilioAccount{AccountSID: "{env.TWILIO_SID}"}}},
		{"auth_token", "twilio {\n\tauth_token {env.TWILIO_TOKEN}\n}", TwilioSMS{TwilioAccount{AuthToken: "{env.TWILIO_TOKEN}"}}},
		{"from number", "twilio {\n\tfrom +15005550006\n}", TwilioSMS{TwilioAccount{From: "+15005550006"}}},
		{"from messaging service", "twilio {\n\tfrom MG0123456789abcdef0123456789abcdef\n}", TwilioSMS{TwilioAccount{From: "MG0123456789abcdef0123456789abcdef"}}},
		{"api_url", "twilio {\n\tapi_url http://127.0.0.1:9/\n}", TwilioSMS{TwilioAccount{APIURL: "http://127.0.0.1:9/"}}},
	})
}

func TestTwilioVoiceCaddyfile(t *testing.T) {
	expectCaddyfile(t, []caddyfileCase[TwilioVoice]{
		{"every option", "twilio {\n\taccount_sid AC1\n\tauth_token t\n\tfrom +15005550006\n\tapi_url http://127.0.0.1:9\n}",
			TwilioVoice{TwilioAccount{AccountSID: "AC1", AuthToken: "t", From: "+15005550006", APIURL: "http://127.0.0.1:9"}}},
	})
}

func TestTwilioCaddyfileErrors(t *testing.T) {
	tests := []errorCase{
		{"argument", "twilio AC1", []string{"wrong argument count"}},
		{"unknown option", "twilio {\n\tsecret x\n}", []string{`unknown CHANNEL twilio option "secret"`, "Testfile:2"}},
		{"account_sid without value", "twilio {\n\taccount_sid\n}", []string{"account_sid needs a value"}},
		{"auth_token without value", "twilio {\n\tauth_token\n}", []string{"auth_token needs a value"}},
		{"from without value", "twilio {\n\tfrom\n}", []string{"from needs a value"}},
		{"api_url without value", "twilio {\n\tapi_url\n}", []string{"api_url needs a value"}},
		{"from with two values", "twilio {\n\tfrom +1 +2\n}", []string{"from takes one value"}},
	}
	for channel, newModule := range map[string]func() caddyfile.Unmarshaler{
		"sms":   func() caddyfile.Unmarshaler { return new(TwilioSMS) },
		"voice": func() caddyfile.Unmarshaler { return new(TwilioVoice) },
	} {
		t.Run(channel, func(t *testing.T) {
			named := make([]errorCase, len(tests))
			for i, tc := range tests {
				named[i] = tc
				named[i].want = []string{strings.ReplaceAll(tc.want[0], "CHANNEL", channel)}
			}
			expectCaddyfileErrors(t, newModule, named)
		})
	}
}

// Provision replaces the placeholders; the client uses the results.
func TestTwilioProvisionReplacesPlaceholders(t *testing.T) {
	t.Setenv("MFA_TEST_TWILIO_TOKEN", "secret-token")
	t.Setenv("MFA_TEST_TWILIO_SID", testSID)
	for _, id := range []string{"mfa.sms.twilio", "mfa.voice.twilio"} {
		t.Run(id, func(t *testing.T) {
			m, err := load(t, id, `{"account_sid":"{env.MFA_TEST_TWILIO_SID}","auth_token":"{env.MFA_TEST_TWILIO_TOKEN}","from":"+15005550006","api_url":"http://127.0.0.1:9"}`)
			if err != nil {
				t.Fatal(err)
			}
			var c *twilio.Client
			switch m := m.(type) {
			case *TwilioSMS:
				c = m.client
			case *TwilioVoice:
				c = m.client
			}
			if c == nil || c.AccountSID != testSID || c.AuthToken != "secret-token" || c.BaseURL != "http://127.0.0.1:9" {
				t.Fatalf("client %+v; want the placeholders replaced and api_url used", c)
			}
		})
	}
}

func TestTwilioValidateErrors(t *testing.T) {
	for _, channel := range []string{"sms", "voice"} {
		t.Run(channel, func(t *testing.T) {
			expectLoadErrors(t, "mfa."+channel+".twilio", []errorCase{
				{"bad account_sid", `{"account_sid":"nope","auth_token":"t","from":"+15005550006"}`, []string{channel + " twilio", "account SID"}},
				{"no auth_token", `{"account_sid":"` + testSID + `","from":"+15005550006"}`, []string{channel + " twilio", "auth token"}},
				{"auth_token placeholder unset", `{"account_sid":"` + testSID + `","auth_token":"{env.MFA_TEST_UNSET_TOKEN}","from":"+15005550006"}`, []string{channel + " twilio", "auth token"}},
				{"bad from", `{"account_sid":"` + testSID + `","auth_token":"t","from":"5550006"}`, []string{channel + " twilio", "from"}},
				{"bad api_url", `{"account_sid":"` + testSID + `","auth_token":"t","from":"+15005550006","api_url":"ftp://x"}`, []string{channel + " twilio"}},
				{"unknown field", `{"account_sid":"` + testSID + `","auth_token":"t","from":"+15005550006","secret":"x"}`, []string{"secret"}},
			})
		})
	}
}

// The modules send through the client they built.
func TestTwilioSendsTextsAndPlacesCalls(t *testing.T) {
	f := twiliotest.New(t, testSID, testToken)
	cfg := `{"account_sid":"` + testSID + `","auth_token":"` + testToken + `","from":"` + testFrom + `","api_url":"` + f.URL() + `"}`
	to, err := phone.Parse("", "+16502530000", "")
	if err != nil {
		t.Fatal(err)
	}
	s := mustLoad[*TwilioSMS](t, "mfa.sms.twilio", cfg)
	if err := s.SendText(context.Background(), phone.Text{To: to, Body: "Your code is 123456"}); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	if m := f.WaitMessage(t, to.E164, 5*time.Second); m.Body != "Your code is 123456" || m.From != testFrom {
		t.Errorf("message %+v", m)
	}
	v := mustLoad[*TwilioVoice](t, "mfa.voice.twilio", cfg)
	if _, err := v.PlaceCall(context.Background(), phone.Call{To: to, Say: "Press pound", Language: "en-US",
		GatherURL: "https://login.example.com/.mfa/voice/twilio?event=gather", StatusURL: "https://login.example.com/.mfa/voice/twilio?event=status"}); err != nil {
		t.Fatalf("PlaceCall: %v", err)
	}
	f.WaitCall(t, to.E164, 5*time.Second)
}

// The voice module checks Twilio's signature on callbacks.
func TestTwilioVoiceVerifiesCallbacks(t *testing.T) {
	v := mustLoad[*TwilioVoice](t, "mfa.voice.twilio", `{"account_sid":"`+testSID+`","auth_token":"`+testToken+`","from":"`+testFrom+`"}`)
	const callback = "https://login.example.com/.mfa/voice/twilio?call=c1&event=gather"
	form := url.Values{"AccountSid": {testSID}, "CallSid": {"CA1"}, "Digits": {"#"}}
	post := func(signature string) error {
		r := httptest.NewRequest("POST", callback, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if signature != "" {
			r.Header.Set(twilio.SignatureHeader, signature)
		}
		_, err := v.VerifyCallback(r, callback)
		return err
	}
	if err := post(twiliotest.Sign(testToken, callback, form)); err != nil {
		t.Fatalf("a signed callback is refused: %v", err)
	}
	if err := post(""); err == nil {
		t.Error("an unsigned callback is accepted")
	}
	if err := post(twiliotest.Sign("another-token", callback, form)); err == nil {
		t.Error("a callback signed with another token is accepted")
	}
}

// Texts may come from an alphanumeric sender ID or a short code, sent to
// the fake (which checks From as Twilio's API documents it); calls refuse
// both, and a Messaging Service SID, when the config is loaded.
func TestTwilioTextSendersAndCalls(t *testing.T) {
	f := twiliotest.New(t, testSID, testToken)
	to, err := phone.Parse("", "+447400123456", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"Example Co", "12345"} {
		cfg := `{"account_sid":"` + testSID + `","auth_token":"` + testToken + `","from":"` + from + `","api_url":"` + f.URL() + `"}`
		s := mustLoad[*TwilioSMS](t, "mfa.sms.twilio", cfg)
		if err := s.SendText(context.Background(), phone.Text{To: to, Body: "Your code is 123456"}); err != nil {
			t.Fatalf("from %q: SendText: %v", from, err)
		}
		if m := f.WaitMessage(t, to.E164, 5*time.Second); m.From != from || m.MessagingServiceSID != "" {
			t.Errorf("from %q: message %+v", from, m)
		}
	}
	expectLoadErrors(t, "mfa.voice.twilio", []errorCase{
		{"alphanumeric sender ID", `{"account_sid":"` + testSID + `","auth_token":"t","from":"Example Co"}`, []string{"voice twilio", "alphanumeric sender ID", "E.164"}},
		{"short code", `{"account_sid":"` + testSID + `","auth_token":"t","from":"12345"}`, []string{"voice twilio", "short code", "E.164"}},
		{"messaging service", `{"account_sid":"` + testSID + `","auth_token":"t","from":"MG0123456789abcdef0123456789abcdef"}`, []string{"voice twilio", "Messaging Service SID", "E.164"}},
	})
}
