package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The text of a code names the site for WebOTP autofill only when a host
// is given (the gateway gives public_url's, never a client's Host header).
func TestSMSBody(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range Languages {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept-Language", lang)
		with, got, err := r.Localize(req, SMSBody, map[string]any{"Code": "123456", "Org": "Acme", "Host": "login.example.com"})
		if err != nil || got != lang {
			t.Fatalf("%s: Localize = %q, %q, %v", lang, with, got, err)
		}
		if !strings.Contains(with, "123456") || !strings.Contains(with, "Acme") || !strings.HasSuffix(with, "\n\n@login.example.com #123456") {
			t.Errorf("%s text with a host = %q; want the code, the organisation and a last line @host #code", lang, with)
		}
		without, _, err := r.Localize(req, SMSBody, map[string]any{"Code": "123456", "Org": "Acme", "Host": ""})
		if err != nil || strings.Contains(without, "@") || strings.Contains(without, "#") {
			t.Errorf("%s text without a host = %q, %v; want no WebOTP line", lang, without, err)
		}
	}
}
