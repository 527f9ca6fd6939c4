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
	// From is the sender: an E.164 number the account owns; or, for
	// texts only, a Messaging Service SID ("MG" and 32 hexadecimal
	// digits), an alphanumeric sender ID (1 to 11 ASCII letters, digits
	// and spaces, at least one a letter) or a short code (5 or 6 digits).
	// Calls need a number (CheckCaller).
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
	if err := checkFrom(from); err != nil {
		return nil, err
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

// checkFrom accepts the senders of texts that Twilio's Messages resource
// documents: an E.164 number, a Messaging Service SID (sent as
// MessagingServiceSid), an alphanumeric sender ID, a short code.
func checkFrom(from string) error {
	switch {
	case isE164(from), isSID(from, "MG"), isShortCode(from):
		return nil
	case looksLikeServiceSID(from):
		return fmt.Errorf(`twilio: from %q looks like a Messaging Service SID cut short: one is "MG" followed by 32 hexadecimal digits`, from)
	case isAlphanumericSenderID(from):
		return nil
	}
	return fmt.Errorf(`twilio: from %q must be an E.164 number such as "+15005550006", or, for texts, a Messaging Service SID ("MG" followed by 32 hexadecimal digits), `+
		`an alphanumeric sender ID (1 to 11 letters, digits and spaces, at least one letter, such as "Example Co") or a short code (5 or 6 digits)`, from)
}

// CheckCaller checks that from can place calls: only a phone number
// (E.164) can; a Messaging Service SID, an alphanumeric sender ID or a
// short code sends texts only.
func CheckCaller(from string) error {
	if isE164(from) {
		return nil
	}
	what := "not an E.164 number"
	switch {
	case isSID(from, "MG"):
		what = "a Messaging Service SID, which sends texts only"
	case isShortCode(from):
		what = "a short code, which sends texts only"
	case isAlphanumericSenderID(from) && !looksLikeServiceSID(from):
		what = "an alphanumeric sender ID, which sends texts only"
	}
	return fmt.Errorf(`twilio: calls need from to be a phone number of the account in E.164 form, such as "+15005550006": %q is %s`, from, what)
}

// isShortCode reports whether s is a short code: 5 or 6 digits.
func isShortCode(s string) bool {
	return (len(s) == 5 || len(s) == 6) && isDigits(s)
}

// isAlphanumericSenderID reports whether s is an alphanumeric sender ID as
// Twilio documents it: at most 11 characters, each an ASCII letter, a
// digit or a space, and at least one a letter (not numbers only).
func isAlphanumericSenderID(s string) bool {
	if s == "" || len(s) > 11 {
		return false
	}
	letter := false
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9', c == ' ':
		default:
			return false
		}
	}
	return letter
}

// looksLikeServiceSID reports whether s is "MG" and hexadecimal digits
// only, too few for a Messaging Service SID: a SID cut short when copied,
// rather than a sender ID.
func looksLikeServiceSID(s string) bool {
	rest, ok := strings.CutPrefix(s, "MG")
	if !ok || len(rest) >= 32 {
		return false
	}
	for _, c := range []byte(rest) {
		if !isHex(c) {
			return false
		}
	}
	return true
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
