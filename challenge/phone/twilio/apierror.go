package twilio

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// maxMessage bounds how much of Twilio's error message goes into an error.
const maxMessage = 200

// APIError is an answer of the API other than 2xx. It wraps
// phone.ErrProvider; use errors.As to read Twilio's error code, such as
// 21211 for a number Twilio cannot reach.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is Twilio's error code (https://www.twilio.com/docs/errors), or
	// 0 when the body was not Twilio's JSON error.
	Code int
	// Message is Twilio's explanation, cut short and stripped of control
	// characters; empty when the body was not Twilio's JSON error.
	Message string
	// MoreInfo is the address of the code's documentation, if given.
	MoreInfo string
}

// Error gives the code, the message and the HTTP status, such as
// "21211 The 'To' number is not a valid phone number (HTTP 400)".
func (e *APIError) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("%d %s (HTTP %d)", e.Code, e.Message, e.Status)
	case e.Message != "":
		return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
	default:
		return strings.TrimSpace(fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status)))
	}
}

// Unwrap makes every APIError a phone.ErrProvider.
func (e *APIError) Unwrap() error { return phone.ErrProvider }

// decodeAPIError reads Twilio's JSON error body
// {"code":…,"message":…,"more_info":…,"status":…}; any other body (an HTML
// page from a proxy, say) leaves only the HTTP status.
func decodeAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var b struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code = b.Code
		e.Message = maskDigits(clean(b.Message))
		e.MoreInfo = clean(b.MoreInfo)
	}
	return e
}

// digitRuns are runs of digits long enough to be (part of) a phone number.
// Twilio's messages often quote the number ("The 'To' number +8190... is
// not a valid phone number"), and numbers must not reach the log.
var digitRuns = regexp.MustCompile(`\+?[0-9][0-9 ()-]{4,}[0-9]`)

// maskDigits hides every run of five or more digits in s.
func maskDigits(s string) string {
	return digitRuns.ReplaceAllStringFunc(s, func(run string) string {
		if countDigits(run) < 5 {
			return run
		}
		return "[number]"
	})
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// clean shortens s and replaces control characters, so that a message from
// the network cannot forge log lines.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxMessage {
		s = string(r[:maxMessage]) + "…"
	}
	return s
}
