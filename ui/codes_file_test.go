package ui

import (
	"html"
	"net/url"
	"strings"
	"testing"
)

// The Download link of the recovery codes is a data: URL of a text file
// that names the account and organisation, in the page's language, holds
// each code on its own line, and cannot break out of its attribute
// whatever the organisation's name.
func TestCodesFile(t *testing.T) {
	const evil = `"><script>alert(1)</script> & Co`
	r := newRenderer(t)
	for lang, title := range map[string]string{"en": "Recovery codes for alice at " + evil, "ja": evil + " のアカウント alice の回復コード"} {
		p := fullPage("recovery", false)
		p.Org, p.CodesAccount, p.Codes = evil, "alice", []string{"1111-2222", "3333-4444"}
		_, body := render(t, r, lang, "recovery", p)
		start := strings.Index(body, `href="data:text/plain;charset=utf-8,`)
		if start < 0 {
			t.Fatalf("%s: no data: link in\n%s", lang, body)
		}
		href := body[start+len(`href="`):]
		href = html.UnescapeString(href[:strings.IndexByte(href, '"')])
		text, err := url.PathUnescape(strings.TrimPrefix(href, "data:text/plain;charset=utf-8,"))
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		lines := strings.Split(text, "\r\n")
		if lines[0] != title || lines[3] != "1111-2222" || lines[4] != "3333-4444" || len(lines) != 6 {
			t.Errorf("%s: the file is %q", lang, lines)
		}
		if !strings.Contains(body, `download="recovery-codes.txt"`) {
			t.Errorf("%s: the link does not download a .txt file", lang)
		}
	}
}
