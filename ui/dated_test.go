package ui

import (
	"strings"
	"testing"
)

// Dates on the security-info and approval pages sit in a <time> that does
// not break, so that 「2026-01-02 03:04 UTC に追加」 never leaves "UTC" or a
// time alone on a line; its datetime is the same instant for local-time.js,
// and its title keeps the UTC text.
func TestRenderDatesUnbroken(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range Languages {
		for page, dates := range map[string][]string{
			"security":     {"2026-01-02 03:04 UTC", "2026-01-03 03:04 UTC"},
			"push_approve": {"2026-01-02 03:04 UTC", "2026-01-02 03:06:00 UTC"},
		} {
			p := fullPage(page, false)
			_, body := render(t, r, lang, page, p)
			for _, d := range dates {
				stamp := strings.Replace(strings.TrimSuffix(d, " UTC"), " ", "T", 1) + "Z"
				if want := `<time datetime="` + stamp + `" title="` + d + `">` + d + `</time>`; !strings.Contains(body, want) {
					t.Errorf("%s %s: %q is not shown as %s", lang, page, d, want)
				}
			}
		}
	}
}
