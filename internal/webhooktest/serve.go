package webhooktest

import (
	"io"
	"net/http"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
)

// serve checks and records one request.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	fail, ok := r.Next(req.Context())
	if !ok {
		return
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
	got, problem := decode(req, raw)
	if problem != "" {
		r.reject(w, http.StatusBadRequest, "%s", problem)
		return
	}
	if fail != 0 {
		w.WriteHeader(fail)
		return
	}
	r.mu.Lock()
	switch v := got.(type) {
	case Text:
		r.texts.add(v)
	case Push:
		r.pushes.add(v)
	case Fraud:
		r.frauds.add(v)
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// reject records, reports and answers a request that breaks the format.
func (r *Receiver) reject(w http.ResponseWriter, status int, format string, args ...any) {
	problem := r.Reject(format, args...)
	r.tb.Errorf("webhooktest: bad request: %s", problem)
	http.Error(w, http.StatusText(status), status)
}
