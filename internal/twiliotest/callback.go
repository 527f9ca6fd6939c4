package twiliotest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SignatureHeader carries Twilio's signature of a callback.
const SignatureHeader = "X-Twilio-Signature"

// Sign is the X-Twilio-Signature Twilio sends with a form-encoded POST of
// form to rawURL: HMAC-SHA1 keyed by the auth token over rawURL followed by
// each parameter's name and value, names sorted byte-wise (a name with
// several values contributes each, in order), in standard base64.
func Sign(authToken, rawURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	sort.Strings(names)
	var data strings.Builder
	data.WriteString(rawURL)
	for _, name := range names {
		for _, value := range form[name] {
			data.WriteString(name)
			data.WriteString(value)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(data.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// PostSigned posts form to rawURL as Twilio posts a callback, signed with
// authToken (give another token to forge one). The answer's body has been
// read in full and closed: resp.Body reads it again from memory, and closing
// it is optional. A request that cannot be made fails the test.
func (f *Fake) PostSigned(t testing.TB, rawURL string, form url.Values, authToken string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("twiliotest: callback to %q: %v", rawURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set(SignatureHeader, Sign(authToken, rawURL, form))
	resp, err := f.callbacks.Do(req)
	if err != nil {
		t.Fatalf("twiliotest: callback to %q: %v", rawURL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("twiliotest: reading the answer to the callback to %q: %v", rawURL, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

// callForm is the parameters Twilio sends with every callback about call.
func (f *Fake) callForm(call CallRecord, status string) url.Values {
	return url.Values{
		"AccountSid": {f.accountSID},
		"CallSid":    {call.SID},
		"From":       {call.From},
		"To":         {call.To},
		"CallStatus": {status},
		"Direction":  {"outbound-api"},
		"ApiVersion": {apiVersion},
	}
}

// Press is the callee pressing digits (possibly none: a <Gather> that timed
// out with actionOnEmptyResult): it posts, signed, to call.GatherURL what
// Twilio posts to a <Gather> action. See PostSigned for the answer.
func (f *Fake) Press(t testing.TB, call CallRecord, digits string) *http.Response {
	t.Helper()
	if call.GatherURL == "" {
		t.Fatalf("twiliotest: call %s has no <Gather action> to post digits to", call.SID)
	}
	form := f.callForm(call, "in-progress")
	form.Set("Digits", digits)
	return f.PostSigned(t, call.GatherURL, form, f.authToken)
}

// Hangup is the call ending with status ("completed", "busy", "no-answer",
// "failed" or "canceled"): it posts, signed, to call.StatusURL what Twilio
// posts to a StatusCallback, with CallDuration (12 seconds if completed,
// else 0). See PostSigned for the answer.
func (f *Fake) Hangup(t testing.TB, call CallRecord, status string) *http.Response {
	t.Helper()
	duration := 0
	switch status {
	case "completed":
		duration = 12
	case "busy", "no-answer", "failed", "canceled":
	default:
		t.Fatalf("twiliotest: %q is not a final call status", status)
	}
	if call.StatusURL == "" {
		t.Fatalf("twiliotest: call %s has no StatusCallback", call.SID)
	}
	form := f.callForm(call, status)
	form.Set("CallDuration", strconv.Itoa(duration))
	form.Set("Timestamp", time.Now().UTC().Format(time.RFC1123Z))
	form.Set("CallbackSource", "call-progress-events")
	form.Set("SequenceNumber", "0")
	return f.PostSigned(t, call.StatusURL, form, f.authToken)
}
