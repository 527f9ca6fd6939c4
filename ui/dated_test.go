package ui

import (
	"strings"
	"testing"
)

// Dates on the security-info and approval pages sit in a span that does
// not break (.nowrap), so that 「2026-01-02 03:04 UTC に追加」 never leaves
// "UTC" or a time alone on a line.
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
				if !strings.Contains(body, `<span class="nowrap">`+d+`</span>`) {
					t.Errorf("%s %s: %q is not in a nowrap span", lang, page, d)
				}
			}
		}
	}
}
