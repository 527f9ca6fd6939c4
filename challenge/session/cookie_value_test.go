package session

import (
	"net/http"
	"strings"
	"testing"
)

// cookieValue finds what r.Cookie finds, for every shape of Cookie header
// a client can send.
func TestCookieValueAgreesWithNetHTTP(t *testing.T) {
	cases := [][]string{
		nil,
		{""},
		{"mfa=abc"},
		{"app=1; mfa=abc"},
		{"  mfa = abc ;app=2"},
		{"mfa=\"abc\""},
		{"mfa=\"abc"},
		{"mfa=a\\b; mfa=second"},
		{"mfa=a\"b"},
		{"mfa=; mfa=x"},
		{"mfax=1; xmfa=2"},
		{"app=1", "mfa=from-second-line"},
		{"mfa"},
		{"mfa=é; mfa=ok"},
		{"\tmfa=tab\t"},
		{strings.Repeat("a=b;", 3000) + "mfa=over-the-limit"},
		{strings.Repeat("a=b;", 2990) + "mfa=under-the-limit"},
	}
	for _, lines := range cases {
		r := &http.Request{Header: http.Header{}}
		if lines != nil {
			r.Header["Cookie"] = lines
		}
		want, werr := r.Cookie("mfa")
		got, ok := cookieValue(r.Header, "mfa")
		if ok != (werr == nil) || ok && got != want.Value {
			t.Errorf("%.60q: got %q, %v; net/http %v, %v", lines, got, ok, want, werr)
		}
	}
}

func FuzzCookieValue(f *testing.F) {
	f.Add("app=1; mfa=abc")
	f.Add("mfa=\"x\"; mfa=y")
	f.Fuzz(func(t *testing.T, line string) {
		r := &http.Request{Header: http.Header{"Cookie": {line}}}
		want, werr := r.Cookie("mfa")
		got, ok := cookieValue(r.Header, "mfa")
		if ok != (werr == nil) || ok && got != want.Value {
			t.Fatalf("%q: got %q, %v; net/http %v, %v", line, got, ok, want, werr)
		}
	})
}
