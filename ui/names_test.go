package ui

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

// A phone's extension and a browser's description are words on the page:
// in Japanese 「内線」 and 「Linux 上の Firefox」, not "ext." and "on".
func TestRenderLocalizesPhoneAndBrowser(t *testing.T) {
	r := newRenderer(t)
	const masked = "+1 ••• ••• 0000 ext. •••"
	tests := []struct {
		lang, ext, browser string
	}{
		{"en", "+1 ••• ••• 0000 ext. •••", "Firefox on Linux"},
		{"ja", "+1 ••• ••• 0000 内線 •••", "Linux 上の Firefox"},
	}
	for _, tt := range tests {
		for _, page := range []string{"security", "push_approve", "challenge", "phone_wait"} {
			p := fullPage(page, false)
			p.Masked = masked
			p.Message = ""
			p.Others = []Other{{Method: "voice", Masked: masked}}
			p.MethodRows = []MethodRow{{ID: "phone-0", Kind: "phone", Masked: masked, Added: "2026-01-02 03:04 UTC"}}
			p.Devices = []DeviceRow{{ID: "d1", Name: "Firefox on Linux", Created: "x", LastUsed: "y", Expires: "z"}}
			p.Prompt.Browser = "Firefox on Linux"
			_, body := render(t, r, tt.lang, page, p)
			body = html.UnescapeString(body)
			if page != "push_approve" && !strings.Contains(body, tt.ext) {
				t.Errorf("%s %s: no %q in\n%s", tt.lang, page, tt.ext, body)
			}
			if (page == "security" || page == "push_approve") && !strings.Contains(body, tt.browser) {
				t.Errorf("%s %s: no %q in\n%s", tt.lang, page, tt.browser, body)
			}
			// The remove form posts the number back as the account keeps it.
			// (and, until issue 16's item 8 ends that, in the change link).
			body = strings.ReplaceAll(body, `name="masked" value="`+masked+`"`, "")
			body = regexp.MustCompile(`masked=[^"]*`).ReplaceAllString(body, "")
			if tt.lang == "ja" && (strings.Contains(body, "ext.") || strings.Contains(body, " on Linux")) {
				t.Errorf("ja %s: English left:\n%s", page, body)
			}
		}
		// The remove form posts the number as the account has it.
		_, body := render(t, r, tt.lang, "security", func() *Page {
			p := fullPage("security", false)
			p.MethodRows = []MethodRow{{ID: "phone-0", Kind: "phone", Masked: masked, Added: "x"}}
			return p
		}())
		if !strings.Contains(html.UnescapeString(body), `name="masked" value="`+masked+`"`) {
			t.Errorf("%s: the remove form does not carry the stored number", tt.lang)
		}
	}
	if got := r.LocalizeBrowser("ja", "Chrome on Android"); got != "Android 上の Chrome" {
		t.Errorf("LocalizeBrowser(ja) = %q", got)
	}
	for _, name := range []string{"Chrome", "Windows", ""} {
		if got := r.LocalizeBrowser("ja", name); got != name {
			t.Errorf("LocalizeBrowser(ja, %q) = %q", name, got)
		}
	}
}
