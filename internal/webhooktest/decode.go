package webhooktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	// e164 is a number in E.164 form.
	e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	// deviceAddress is the form of a device address: an ntfy topic.
	deviceAddress = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)
	// methodName is the form of a method's name, such as "push" or "sms".
	methodName = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)
)

// members lists the members a body of type typ must have, all of them and
// no others; nil for an unknown type.
func members(typ string) []string {
	switch typ {
	case "sms":
		return []string{"type", "to", "text", "sent_at"}
	case "push":
		return []string{"type", "user", "device", "title", "message", "action", "url", "site", "ip", "browser", "time", "expires", "test"}
	case "fraud_reported":
		return []string{"type", "user", "method", "site", "ip", "browser", "time"}
	}
	return nil
}

// smsBody is the body of type "sms".
type smsBody struct {
	To     string `json:"to"`
	Text   string `json:"text"`
	SentAt string `json:"sent_at"`
}

// pushBody is the body of type "push".
type pushBody struct {
	User    string `json:"user"`
	Device  string `json:"device"`
	Title   string `json:"title"`
	Message string `json:"message"`
	Action  string `json:"action"`
	URL     string `json:"url"`
	Site    string `json:"site"`
	IP      string `json:"ip"`
	Browser string `json:"browser"`
	Time    string `json:"time"`
	Expires string `json:"expires"`
	Test    bool   `json:"test"`
}

// fraudBody is the body of type "fraud_reported".
type fraudBody struct {
	User    string `json:"user"`
	Method  string `json:"method"`
	Site    string `json:"site"`
	IP      string `json:"ip"`
	Browser string `json:"browser"`
	Time    string `json:"time"`
}

// decode checks everything of a signed request but its signature, and
// returns what it carried (a Text, Push or Fraud) or what is wrong with it.
func decode(req *http.Request, raw []byte) (any, string) {
	if req.Method != http.MethodPost {
		return nil, "method " + req.Method + ", want POST"
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, fmt.Sprintf("Content-Type %q, want application/json", req.Header.Get("Content-Type"))
	}
	if ua := req.Header.Get("User-Agent"); ua != "caddy-mfa" {
		return nil, fmt.Sprintf("User-Agent %q, want caddy-mfa", ua)
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, fmt.Sprintf("body %s is not a JSON object: %v", raw, err)
	}
	if dec.More() {
		return nil, fmt.Sprintf("body %s has data after the object", raw)
	}
	var typ string
	if err := json.Unmarshal(obj["type"], &typ); err != nil {
		return nil, fmt.Sprintf("body %s: type is not a string", raw)
	}
	want := members(typ)
	if want == nil {
		return nil, fmt.Sprintf("type %q, want sms, push or fraud_reported", typ)
	}
	for _, m := range want {
		if _, ok := obj[m]; !ok {
			return nil, fmt.Sprintf("body %s lacks %q", raw, m)
		}
	}
	for m := range obj {
		if !slices.Contains(want, m) {
			return nil, fmt.Sprintf("body %s has unknown member %q", raw, m)
		}
	}
	switch typ {
	case "sms":
		return decodeText(raw)
	case "push":
		return decodePush(raw)
	default:
		return decodeFraud(raw)
	}
}

// decodeText checks and returns the text of an "sms" body.
func decodeText(raw []byte) (any, string) {
	var b smsBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Sprintf("body %s: %v", raw, err)
	}
	sent, problem := utc("sent_at", b.SentAt)
	switch {
	case !e164.MatchString(b.To):
		return nil, fmt.Sprintf("to %q is not E.164", b.To)
	case b.Text == "":
		return nil, "empty text"
	case problem != "":
		return nil, problem
	}
	return Text{To: b.To, Text: b.Text, SentAt: sent}, ""
}

// decodePush checks and returns the prompt of a "push" body.
func decodePush(raw []byte) (any, string) {
	var b pushBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Sprintf("body %s: %v", raw, err)
	}
	at, problem := utc("time", b.Time)
	expires, problem2 := utc("expires", b.Expires)
	switch {
	case b.User == "":
		return nil, "empty user"
	case !deviceAddress.MatchString(b.Device):
		return nil, fmt.Sprintf("device %q is not 1 to 64 of [-_A-Za-z0-9]", b.Device)
	case b.Title == "" || b.Message == "" || b.Action == "":
		return nil, fmt.Sprintf("empty title, message or action in %s", raw)
	case !absoluteHTTP(b.URL):
		return nil, fmt.Sprintf("url %q is not an absolute http(s) URL", b.URL)
	case b.Site == "":
		return nil, "empty site"
	case !validIP(b.IP):
		return nil, fmt.Sprintf("ip %q is not an IP address", b.IP)
	case problem != "":
		return nil, problem
	case problem2 != "":
		return nil, problem2
	case !expires.After(at):
		return nil, fmt.Sprintf("expires %s is not after time %s", b.Expires, b.Time)
	}
	return Push{
		User: b.User, Device: b.Device, Title: b.Title, Message: b.Message, Action: b.Action,
		URL: b.URL, Site: b.Site, IP: b.IP, Browser: b.Browser, Time: at, Expires: expires, Test: b.Test,
	}, ""
}

// decodeFraud checks and returns the report of a "fraud_reported" body.
func decodeFraud(raw []byte) (any, string) {
	var b fraudBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Sprintf("body %s: %v", raw, err)
	}
	at, problem := utc("time", b.Time)
	switch {
	case b.User == "":
		return nil, "empty user"
	case !methodName.MatchString(b.Method):
		return nil, fmt.Sprintf("method %q is not a method's name", b.Method)
	case b.Site == "":
		return nil, "empty site"
	case !validIP(b.IP):
		return nil, fmt.Sprintf("ip %q is not an IP address", b.IP)
	case problem != "":
		return nil, problem
	}
	return Fraud{User: b.User, Method: b.Method, Site: b.Site, IP: b.IP, Browser: b.Browser, Time: at}, ""
}

// utc parses the member name, which must be RFC 3339 in UTC.
func utc(name, s string) (time.Time, string) {
	t, err := time.Parse(time.RFC3339, s)
	switch {
	case err != nil:
		return time.Time{}, fmt.Sprintf("%s %q is not RFC 3339: %v", name, s, err)
	case t.Location() != time.UTC:
		return time.Time{}, fmt.Sprintf("%s %q is not in UTC", name, s)
	}
	return t, ""
}

// absoluteHTTP reports whether s is an absolute http or https URL.
func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\r\n")
}

// validIP reports whether s is an IPv4 or IPv6 address.
func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
