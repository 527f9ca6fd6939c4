package twiliotest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// apiVersion is the version segment of every path.
const apiVersion = "2010-04-01"

// resourcePath matches the two resources served; the account SID is
// checked separately.
var resourcePath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json$`)

// APIError is Twilio's JSON error body, such as
// APIError{Status: 400, Code: 21211, Message: "The 'To' number is not a valid phone number."};
// the fake fills in MoreInfo when it answers with it.
type APIError struct {
	// Status is the HTTP status.
	Status int `json:"status"`
	// Code is Twilio's error code (https://www.twilio.com/docs/api/errors).
	Code int `json:"code"`
	// Message is the error's text.
	Message string `json:"message"`
	// MoreInfo is the code's documentation page.
	MoreInfo string `json:"more_info"`
}

// errorf builds an APIError.
func errorf(status, code int, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// serve handles one API request.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	fail, ok := f.Next(r.Context())
	if !ok {
		return
	}
	resource, form, bad := f.check(r)
	if bad != nil {
		f.violation(r, bad)
		writeError(w, bad)
		return
	}
	if fail != (APIError{}) {
		writeError(w, &fail)
		return
	}
	switch resource {
	case "Messages":
		f.createMessage(w, form)
	case "Calls":
		f.createCall(w, form)
	}
}

// check applies the rules every request must follow, then those of its
// resource; it returns the resource and the form.
func (f *Fake) check(r *http.Request) (string, url.Values, *APIError) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", nil, errorf(http.StatusUnauthorized, 20003, "Authentication Error - No credentials provided")
	}
	if user != f.accountSID || pass != f.authToken {
		return "", nil, errorf(http.StatusUnauthorized, 20003, "Authenticate")
	}
	m := resourcePath.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != f.accountSID {
		return "", nil, errorf(http.StatusNotFound, 20404, "The requested resource %s was not found", r.URL.Path)
	}
	if r.Method != http.MethodPost {
		return "", nil, errorf(http.StatusMethodNotAllowed, 20004, "Method not allowed: this fake only creates %s", m[2])
	}
	if r.URL.RawQuery != "" {
		return "", nil, errorf(http.StatusBadRequest, 20001, "Parameters belong in the form-encoded body, not the query %q", r.URL.RawQuery)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return "", nil, errorf(http.StatusBadRequest, 20001, "Content-Type %q is not application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return "", nil, errorf(http.StatusBadRequest, 20001, "Form does not parse: %v", err)
	}
	var bad *APIError
	if m[2] == "Messages" {
		bad = checkMessage(r.PostForm)
	} else {
		bad = checkCall(r.PostForm)
	}
	return m[2], r.PostForm, bad
}

// violation records and reports a request that broke the rules.
func (f *Fake) violation(r *http.Request, e *APIError) {
	v := f.Reject("%s %s: HTTP %d, code %d: %s", r.Method, r.URL.Path, e.Status, e.Code, e.Message)
	f.tb.Errorf("twiliotest: request breaks Twilio's API rules: %s", v)
}

// writeError answers with Twilio's JSON error body.
func writeError(w http.ResponseWriter, e *APIError) {
	body := *e
	body.MoreInfo = fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code)
	writeJSON(w, e.Status, body)
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newSID is prefix and 32 random hex digits, as Twilio's SIDs are.
func newSID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// resourceURI is the "uri" of a created resource.
func (f *Fake) resourceURI(resource, sid string) string {
	return "/" + apiVersion + "/Accounts/" + f.accountSID + "/" + resource + "/" + sid + ".json"
}

// created is the fields every 201 answer has.
func (f *Fake) created(resource, sid string) map[string]any {
	now := time.Now().UTC().Format(time.RFC1123Z)
	return map[string]any{
		"sid":          sid,
		"account_sid":  f.accountSID,
		"api_version":  apiVersion,
		"status":       "queued",
		"direction":    "outbound-api",
		"date_created": now,
		"date_updated": now,
		"uri":          f.resourceURI(resource, sid),
	}
}
