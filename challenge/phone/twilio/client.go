package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// apiVersion is the version segment of every REST path.
const apiVersion = "2010-04-01"

// Client talks to one Twilio account. Build it with New; its fields may be
// read, and HTTP replaced, before first use, never while in use.
type Client struct {
	// AccountSID identifies the account: "AC" and 32 hexadecimal digits.
	AccountSID string
	// AuthToken is the account's secret; it signs requests both ways.
	AuthToken string
	// From is the sender: an E.164 number the account owns, or a
	// Messaging Service SID ("MG" and 32 hexadecimal digits), which can send
	// texts but not place calls.
	From string
	// BaseURL is the API's scheme and host, without a trailing slash.
	BaseURL string
	// HTTP sends the requests; New sets one with a Timeout of
	// phone.SendTimeout that does not follow redirects.
	HTTP *http.Client
}

// The interfaces of package phone are implemented.
var (
	_ phone.TextSender       = (*Client)(nil)
	_ phone.Caller           = (*Client)(nil)
	_ phone.CallbackVerifier = (*Client)(nil)
)

// New checks its arguments and returns a Client for them. baseURL may be
// empty for DefaultBaseURL; tests give a fake's URL.
func New(accountSID, authToken, from, baseURL string) (*Client, error) {
	if !isSID(accountSID, "AC") {
		return nil, errors.New(`twilio: account SID must be "AC" followed by 32 hexadecimal digits`)
	}
	if authToken == "" {
		return nil, errors.New("twilio: auth token is empty")
	}
	if !isE164(from) && !isSID(from, "MG") {
		return nil, errors.New(`twilio: from must be an E.164 number such as "+15005550006" or a Messaging Service SID ("MG" followed by 32 hexadecimal digits)`)
	}
	base, err := checkBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	return &Client{
		AccountSID: accountSID,
		AuthToken:  authToken,
		From:       from,
		BaseURL:    base,
		HTTP:       phone.HTTPClient(),
	}, nil
}

// checkBaseURL defaults, trims and validates the API's base URL.
func checkBaseURL(raw string) (string, error) {
	if raw == "" {
		return DefaultBaseURL, nil
	}
	base := strings.TrimRight(raw, "/")
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("twilio: API URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("twilio: API URL %q must start with https:// or http://", raw)
	case u.Host == "":
		return "", fmt.Errorf("twilio: API URL %q has no host", raw)
	case u.User != nil:
		return "", errors.New("twilio: API URL must not contain credentials; they come from account_sid and auth_token")
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("twilio: API URL %q must not have a query or fragment", raw)
	}
	return base, nil
}

// isSID reports whether s is prefix followed by 32 hexadecimal digits.
func isSID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 32 {
		return false
	}
	for _, c := range []byte(rest) {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// isHex reports whether c is a hexadecimal digit of either case.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isE164 reports whether s is "+", a non-zero digit, and at most 14 more
// digits.
func isE164(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 2 || len(digits) > 15 || digits[0] == '0' {
		return false
	}
	return isDigits(digits)
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
