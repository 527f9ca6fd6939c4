package caddymodule

import (
	"strings"
	"testing"
)

func TestCheckHelpURL(t *testing.T) {
	for _, ok := range []string{"", "https://help.example.com/mfa", "http://intranet/help", "mailto:it@example.com", "tel:+81312345678"} {
		if _, err := checkHelpURL(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"javascript:alert(1)", "data:text/html,x", "help.example.com", "//help.example.com", "https://", "mailto:", "ftp://x"} {
		_, err := checkHelpURL(bad)
		if err == nil || !strings.Contains(err.Error(), "help_url") {
			t.Errorf("%q: error %v, want one naming help_url", bad, err)
		}
	}
}
