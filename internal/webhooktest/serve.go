package webhooktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
)

// e164 is a number in E.164 form.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// body is the documented JSON body; members beyond these are refused.
type body struct {
	Type   string `json:"type"`
	To     string `json:"to"`
	Text   string `json:"text"`
	SentAt string `json:"sent_at"`
}

// serve checks and records one request.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	fail, hang := r.fail, r.hang
	r.fail, r.hang = 0, 0
	r.mu.Unlock()
	if hang > 0 {
		timer := time.NewTimer(hang)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-req.Context().Done():
			return
		case <-r.closing:
			return
		}
	}

	raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 64<<10))
	if err != nil {
		r.reject(w, http.StatusBadRequest, "reading body: %v", err)
		return
	}
	if err := webhook.Verify(r.secret, req.Header.Get(webhook.TimestampHeader), req.Header.Get(webhook.SignatureHeader), raw, time.Now(), MaxSkew); err != nil {
		r.reject(w, http.StatusUnauthorized, "%v", err)
		return
	}
	text, problem := decode(req, raw)
	if problem != "" {
		r.reject(w, http.StatusBadRequest, "%s", problem)
		return
	}
	if fail != 0 {
		w.WriteHeader(fail)
		return
	}
	r.mu.Lock()
	r.texts = append(r.texts, text)
	r.taken = append(r.taken, false)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// decode checks everything of a signed request but its signature, and
// returns its text or what is wrong with it.
func decode(req *http.Request, raw []byte) (Text, string) {
	if req.Method != http.MethodPost {
		return Text{}, "method " + req.Method + ", want POST"
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return Text{}, fmt.Sprintf("Content-Type %q, want application/json", req.Header.Get("Content-Type"))
	}
	if ua := req.Header.Get("User-Agent"); ua != "caddy-mfa" {
		return Text{}, fmt.Sprintf("User-Agent %q, want caddy-mfa", ua)
	}
	var b body
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Text{}, fmt.Sprintf("body %s: %v", raw, err)
	}
	if dec.More() {
		return Text{}, fmt.Sprintf("body %s has data after the object", raw)
	}
	sent, err := time.Parse(time.RFC3339, b.SentAt)
	switch {
	case b.Type != "sms":
		return Text{}, fmt.Sprintf("type %q, want sms", b.Type)
	case !e164.MatchString(b.To):
		return Text{}, fmt.Sprintf("to %q is not E.164", b.To)
	case b.Text == "":
		return Text{}, "empty text"
	case err != nil:
		return Text{}, fmt.Sprintf("sent_at %q is not RFC 3339: %v", b.SentAt, err)
	case sent.Location() != time.UTC:
		return Text{}, fmt.Sprintf("sent_at %q is not in UTC", b.SentAt)
	}
	return Text{To: b.To, Text: b.Text, SentAt: sent}, ""
}

// reject records, reports and answers a request that breaks the format.
func (r *Receiver) reject(w http.ResponseWriter, status int, format string, args ...any) {
	problem := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.rejected = append(r.rejected, problem)
	r.mu.Unlock()
	r.tb.Errorf("webhooktest: bad request: %s", problem)
	http.Error(w, http.StatusText(status), status)
}
