package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
)

const gatherURL = "https://mfa.example.com/mfa/phone/gather?c=abc"

// gatherForm is what Twilio posts to a Gather action.
func gatherForm() url.Values {
	return url.Values{
		"AccountSid": {testSID},
		"CallSid":    {"CA0123456789abcdef0123456789abcdef"},
		"Digits":     {"0#"},
		"From":       {testFrom},
		"To":         {"+819012345678"},
		"CallStatus": {"in-progress"},
		"Direction":  {"outbound-api"},
		"ApiVersion": {"2010-04-01"},
	}
}

// sign is Twilio's signature, written out here from its documentation:
// HMAC-SHA1 keyed by the auth token over the URL followed by each
// parameter's name and value, sorted by name, in base64.
func sign(token, u string, form url.Values) string {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	sort.Strings(names)
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(u))
	for _, name := range names {
		for _, v := range form[name] {
			mac.Write([]byte(name + v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// callback is a POST of body with signature (none if empty).
func callback(body, signature string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, gatherURL, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		r.Header.Set(SignatureHeader, signature)
	}
	return r
}

func testClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(testSID, testToken, testFrom, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifyCallbackAccepts(t *testing.T) {
	form := gatherForm()
	r := callback(form.Encode(), sign(testToken, gatherURL, form))
	got, err := testClient(t).VerifyCallback(r, gatherURL)
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("Digits") != "0#" || got.Get("CallSid") != "CA0123456789abcdef0123456789abcdef" {
		t.Errorf("form %v", got)
	}
}

func TestVerifyCallbackAcceptsParsedForm(t *testing.T) {
	form := gatherForm()
	r := callback(form.Encode(), sign(testToken, gatherURL, form))
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if _, err := testClient(t).VerifyCallback(r, gatherURL); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCallbackRefuses(t *testing.T) {
	signed := gatherForm()
	signature := sign(testToken, gatherURL, signed)
	changed := gatherForm()
	changed.Set("Digits", "1#")
	otherAccount := gatherForm()
	otherAccount.Set("AccountSid", "ACffffffffffffffffffffffffffffffff")
	repeated := gatherForm()
	repeated.Add("Digits", "1#")

	for _, tc := range []struct {
		name string
		req  *http.Request
		url  string
	}{
		{"changed digits", callback(changed.Encode(), signature), gatherURL},
		{"wrong URL", callback(signed.Encode(), signature), "https://mfa.example.com/mfa/phone/status?c=abc"},
		{"wrong token", callback(signed.Encode(), sign("another-token", gatherURL, signed)), gatherURL},
		{"missing header", callback(signed.Encode(), ""), gatherURL},
		{"other account", callback(otherAccount.Encode(), sign(testToken, gatherURL, otherAccount)), gatherURL},
		{"repeated parameter", callback(repeated.Encode(), sign(testToken, gatherURL, repeated)), gatherURL},
		{"GET", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, gatherURL+"&"+signed.Encode(), nil)
			r.Header.Set(SignatureHeader, signature)
			return r
		}(), gatherURL},
		{"JSON", func() *http.Request {
			r := callback(signed.Encode(), signature)
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), gatherURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form, err := testClient(t).VerifyCallback(tc.req, tc.url)
			if !errors.Is(err, ErrCallback) {
				t.Fatalf("VerifyCallback = %v, %v; want ErrCallback", form, err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}
