package ntfytest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds the request bodies the fake reads.
const maxBody = 64 << 10

// answer is ntfy's JSON answer to a published message.
type answer struct {
	ID       string   `json:"id"`
	Time     int64    `json:"time"`
	Expires  int64    `json:"expires,omitempty"`
	Event    string   `json:"event"`
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Tags     []string `json:"tags,omitempty"`
	Priority int      `json:"priority,omitempty"`
	Click    string   `json:"click,omitempty"`
	Actions  []action `json:"actions,omitempty"`
}

// authorization is the Authorization header that carries token, as the
// ntfy notifier sends it; "" for no token.
func authorization(token string) string {
	switch {
	case token == "":
		return ""
	case strings.Contains(token, ":"):
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(token))
	default:
		return "Bearer " + token
	}
}

// serve checks and records one request.
func (f *Fake) serve(w http.ResponseWriter, req *http.Request) {
	fail, ok := f.Next(req.Context())
	if !ok {
		return
	}

	if req.URL.Path != "/" {
		f.bad(w, http.StatusNotFound, "path %q, want /", req.URL.Path)
		return
	}
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		f.bad(w, http.StatusMethodNotAllowed, "method %s, want POST or PUT", req.Method)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
	if err != nil {
		f.bad(w, http.StatusBadRequest, "reading body: %v", err)
		return
	}
	p, problem := check(req.Header.Get("Content-Type"), raw)
	if problem != "" {
		f.bad(w, http.StatusBadRequest, "%s", problem)
		return
	}
	cached, problem := cacheParam(req)
	if problem != "" {
		f.bad(w, http.StatusBadRequest, "%s", problem)
		return
	}
	if status, problem := f.checkAuth(req.Header.Get("Authorization")); problem != "" {
		f.refuse(w, status, "%s", problem)
		return
	}
	if fail != 0 {
		writeError(w, fail, 100*fail, strings.ToLower(http.StatusText(fail)))
		return
	}

	now := time.Now()
	m := p.message(rand.Text()[:12], now.Truncate(time.Second))
	m.Cached = cached
	f.mu.Lock()
	f.messages = append(f.messages, m)
	f.mu.Unlock()
	var expires int64 // ntfy gives an expiry only to a message it caches
	if cached {
		expires = now.Add(cacheDuration).Unix()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer{
		ID: m.ID, Time: now.Unix(), Expires: expires, Event: "message",
		Topic: p.Topic, Title: p.Title, Message: p.Message, Tags: p.Tags, Priority: m.Priority,
		Click: p.Click, Actions: p.Actions,
	})
}

// cacheDuration is how long ntfy keeps a cached message by default (its
// cache-duration).
const cacheDuration = 12 * time.Hour

// cacheParam reads whether the publisher lets ntfy cache the message: the
// X-Cache header, or its aliases Cache and the cache query parameter, as
// ntfy reads them ("yes", "true" or "1"; "no", "false" or "0"; any case);
// absent, the message is cached. Another value is a problem.
func cacheParam(req *http.Request) (cached bool, problem string) {
	v := req.Header.Get("X-Cache")
	if v == "" {
		v = req.Header.Get("Cache")
	}
	if v == "" {
		v = req.URL.Query().Get("cache")
	}
	switch strings.ToLower(v) {
	case "":
		return true, ""
	case "yes", "true", "1":
		return true, ""
	case "no", "false", "0":
		return false, ""
	}
	return false, fmt.Sprintf("cache %q, want yes or no", v)
}

// checkAuth compares a request's Authorization header with the one
// expected, and returns ntfy's status and a description when they differ.
func (f *Fake) checkAuth(got string) (int, string) {
	switch {
	case f.auth == "" && got != "":
		// ntfy checks credentials it is given even where none are needed.
		return http.StatusUnauthorized, "credentials given where none are expected"
	case subtle.ConstantTimeCompare([]byte(got), []byte(f.auth)) != 1:
		if got == "" {
			return http.StatusForbidden, "no credentials"
		}
		return http.StatusForbidden, "wrong credentials"
	}
	return 0, ""
}

// bad records, reports and answers a request that breaks the format.
func (f *Fake) bad(w http.ResponseWriter, status int, format string, args ...any) {
	problem := fmt.Sprintf(format, args...)
	f.tb.Errorf("ntfytest: bad request: %s", problem)
	f.refuse(w, status, "%s", problem)
}

// refuse records and answers a refused request, with ntfy's error body.
func (f *Fake) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	problem := f.Reject(format, args...)
	switch status {
	case http.StatusUnauthorized:
		writeError(w, status, 40101, "unauthorized")
	case http.StatusForbidden:
		writeError(w, status, 40301, "forbidden")
	case http.StatusBadRequest:
		writeError(w, status, 40000, "invalid request: "+problem)
	default:
		writeError(w, status, 100*status, strings.ToLower(http.StatusText(status)))
	}
}

// writeError answers with ntfy's JSON error, such as
// {"code":40301,"http":403,"error":"forbidden"}.
func writeError(w http.ResponseWriter, status, code int, text string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Code  int    `json:"code"`
		HTTP  int    `json:"http"`
		Error string `json:"error"`
	}{code, status, text})
}
