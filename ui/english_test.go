package ui

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// pageEnglishAllowed are the Latin-letter words a Japanese page may show:
// abbreviations and proper names users know, and the operator's and user's
// data that fullPage puts on the page.
var pageEnglishAllowed = []string{
	"SMS", "QR", "PIN", "IP", "JavaScript", "Microsoft", "Google", "Authenticator", "Android", "Play",
	"F", "Droid", "iPhone", "App", "Store", "ntfy", "YubiKey", "Windows", "Hello", "Touch", "ID",
	"Firefox", "Linux", "UTC",
	// fullPage's data
	"Acme", "Alice", "Example", "alice", "Mail", "wiki", "example", "com", "https", "ABCD", "EFGH",
	"IJKL", "MNOP", "aaaa", "bbbb", "cccc", "dddd", "abcd", "efgh", "ijkl", "mnop", "mfa", "abc",
	"Japan", "x", "y", "z",
}

// visibleText is the text of an HTML page a reader sees (and hears: alt
// and aria-label), without scripts and styles.
func visibleText(body string) string {
	body = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>`).ReplaceAllString(body, "")
	var attrs []string
	for _, m := range regexp.MustCompile(`(?:alt|aria-label|placeholder|title)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		attrs = append(attrs, m[1])
	}
	text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
	return html.UnescapeString(text + " " + strings.Join(attrs, " "))
}

// No English is left on a Japanese page, apart from pageEnglishAllowed.
func TestRenderJapaneseHasNoEnglish(t *testing.T) {
	r := newRenderer(t)
	word := regexp.MustCompile(`[A-Za-z]+`)
	for _, page := range Pages {
		for _, recovery := range []bool{false, true} {
			p := fullPage(page, recovery)
			p.Masked = "+1 ••• ••• 0000 ext. •••"
			_, body := render(t, r, "ja", page, p)
			var bad []string
			for _, w := range word.FindAllString(visibleText(body), -1) {
				if !slices.Contains(pageEnglishAllowed, w) && !slices.Contains(bad, w) {
					bad = append(bad, w)
				}
			}
			if len(bad) > 0 {
				t.Errorf("ja %s (recovery %v): English %q", page, recovery, bad)
			}
		}
	}
}
