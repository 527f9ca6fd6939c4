package twiliotest

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
)

var (
	// e164 is a number in E.164 form.
	e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	// shortCode is a short code: 5 or 6 digits.
	shortCode = regexp.MustCompile(`^[0-9]{5,6}$`)
	// alphanumericSenderID is what an alphanumeric sender ID may hold: at
	// most 11 ASCII letters, digits and spaces (and, checked apart, at
	// least one letter: not numbers only).
	alphanumericSenderID = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	// letter is an ASCII letter.
	letter = regexp.MustCompile(`[A-Za-z]`)
	// messagingServiceSID is a Messaging Service SID.
	messagingServiceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	// sendDigits is what SendDigits may hold: keys, and w or W to wait
	// half a second or a second.
	sendDigits = regexp.MustCompile(`^[0-9A-D*#wW]+$`)
)

// params lists a resource's documented parameters; true marks those that
// may be given more than once.
type params map[string]bool

// messageParams are the documented parameters of creating a Message.
var messageParams = params{
	"To": false, "From": false, "MessagingServiceSid": false, "Body": false,
	"MediaUrl": true, "ContentSid": false, "ContentVariables": false,
	"StatusCallback": false, "ApplicationSid": false, "MaxPrice": false,
	"ProvideFeedback": false, "Attempt": false, "ValidityPeriod": false,
	"ForceDelivery": false, "ContentRetention": false, "AddressRetention": false,
	"SmartEncoded": false, "PersistentAction": true, "TrafficType": false,
	"ShortenUrls": false, "ScheduleType": false, "SendAt": false,
	"SendAsMms": false, "RiskCheck": false,
}

// callParams are the documented parameters of creating a Call.
var callParams = params{
	"To": false, "From": false, "Url": false, "Twiml": false, "ApplicationSid": false,
	"Method": false, "FallbackUrl": false, "FallbackMethod": false,
	"StatusCallback": false, "StatusCallbackEvent": true, "StatusCallbackMethod": false,
	"SendDigits": false, "Timeout": false, "TimeLimit": false, "Record": false,
	"RecordingChannels": false, "RecordingStatusCallback": false,
	"RecordingStatusCallbackMethod": false, "RecordingStatusCallbackEvent": true,
	"RecordingTrack": false, "Trim": false, "CallerId": false,
	"SipAuthUsername": false, "SipAuthPassword": false,
	"MachineDetection": false, "MachineDetectionTimeout": false,
	"MachineDetectionSpeechThreshold": false, "MachineDetectionSpeechEndThreshold": false,
	"MachineDetectionSilenceTimeout": false, "AsyncAmd": false,
	"AsyncAmdStatusCallback": false, "AsyncAmdStatusCallbackMethod": false,
	"Byoc": false, "CallReason": false, "CallToken": false,
}

// checkNames refuses parameters a resource does not document, and repeats
// of those it takes once.
func checkNames(form url.Values, known params) *APIError {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		repeatable, ok := known[name]
		if !ok {
			return errorf(http.StatusBadRequest, 20001, "Unknown parameter %q", name)
		}
		if !repeatable && len(form[name]) > 1 {
			return errorf(http.StatusBadRequest, 20001, "Parameter %q given %d times", name, len(form[name]))
		}
	}
	return nil
}

// checkMessage applies the Messages resource's rules.
func checkMessage(form url.Values) *APIError {
	if e := checkNames(form, messageParams); e != nil {
		return e
	}
	to, from, service, body := form.Get("To"), form.Get("From"), form.Get("MessagingServiceSid"), form.Get("Body")
	switch {
	case to == "":
		return errorf(http.StatusBadRequest, 21604, "A 'To' phone number is required.")
	case !e164.MatchString(to):
		return errorf(http.StatusBadRequest, 21211, "The 'To' number %s is not a valid phone number.", to)
	case from == "" && service == "":
		return errorf(http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
	case from != "" && !textSender(from):
		return errorf(http.StatusBadRequest, 21212, "The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", from)
	case service != "" && !messagingServiceSID.MatchString(service):
		return errorf(http.StatusBadRequest, 20001, "Invalid MessagingServiceSid %q", service)
	case body == "":
		return errorf(http.StatusBadRequest, 21602, "Message body is required.")
	case len([]rune(body)) > 1600:
		return errorf(http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
	}
	return nil
}

// textSender reports whether from may send a text as From: a number in
// E.164 form, a short code, or an alphanumeric sender ID (which calls
// cannot use: checkCall takes numbers only).
func textSender(from string) bool {
	return e164.MatchString(from) || shortCode.MatchString(from) ||
		alphanumericSenderID.MatchString(from) && letter.MatchString(from)
}

// checkCall applies the Calls resource's rules.
func checkCall(form url.Values) *APIError {
	if e := checkNames(form, callParams); e != nil {
		return e
	}
	to, from := form.Get("To"), form.Get("From")
	_, hasURL := form["Url"]
	_, hasTwiml := form["Twiml"]
	switch {
	case to == "":
		return errorf(http.StatusBadRequest, 21201, "No 'To' number is specified")
	case !e164.MatchString(to):
		return errorf(http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: %s", to)
	case from == "":
		return errorf(http.StatusBadRequest, 21213, "No 'From' number is specified")
	case !e164.MatchString(from):
		return errorf(http.StatusBadRequest, 21212, "Invalid 'From' Phone Number: %s", from)
	case form.Get("ApplicationSid") != "":
		return errorf(http.StatusBadRequest, 20001, "This fake takes Url or Twiml, not ApplicationSid")
	case hasURL == hasTwiml:
		return errorf(http.StatusBadRequest, 21205, "Exactly one of Url and Twiml is required")
	}
	if hasTwiml {
		if e := checkTwiml(form.Get("Twiml")); e != nil {
			return e
		}
	}
	for _, name := range []string{"Url", "FallbackUrl", "StatusCallback"} {
		if v, ok := form[name]; ok && !isAbsoluteURL(v[0]) {
			return errorf(http.StatusBadRequest, 21205, "%s is not a valid URL: %q", name, v[0])
		}
	}
	for _, name := range []string{"Method", "FallbackMethod", "StatusCallbackMethod"} {
		if v, ok := form[name]; ok && v[0] != http.MethodGet && v[0] != http.MethodPost {
			return errorf(http.StatusBadRequest, 21209, "Invalid %s %q: use GET or POST", name, v[0])
		}
	}
	if v, ok := form["SendDigits"]; ok && !sendDigits.MatchString(v[0]) {
		return errorf(http.StatusBadRequest, 21206, "Invalid SendDigits %q", v[0])
	}
	if v, ok := form["Timeout"]; ok && !isIntIn(v[0], 1, 600) {
		return errorf(http.StatusBadRequest, 20001, "Timeout %q is not a number of seconds from 1 to 600", v[0])
	}
	return nil
}

// isAbsoluteURL reports whether s is an absolute http(s) URL.
func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// isIntIn reports whether s is a decimal integer from lo to hi.
func isIntIn(s string, lo, hi int) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return lo <= n && n <= hi
}
