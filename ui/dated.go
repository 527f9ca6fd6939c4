package ui

import (
	"html/template"
	"regexp"
	"strings"
)

// dateText matches a date as the portal writes it ("2026-01-02 03:04 UTC",
// with or without seconds and zone).
var dateText = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?(?: UTC)?`)

// nowrapDates escapes s and puts each date in it in an element that does
// not break (.nowrap and time in style.css). A UTC date becomes a <time>
// whose datetime local-time.js shows in the browser's own time zone, with
// the UTC text kept as its title; without JavaScript the UTC text stays.
func nowrapDates(s string) template.HTML {
	return template.HTML(dateText.ReplaceAllStringFunc(template.HTMLEscapeString(s), func(d string) string {
		if stamp, ok := strings.CutSuffix(d, " UTC"); ok {
			return `<time datetime="` + strings.Replace(stamp, " ", "T", 1) + `Z" title="` + d + `">` + d + `</time>`
		}
		return `<span class="nowrap">` + d + `</span>`
	}))
}

// Dated is T for a message that holds dates: each in an element that does
// not break, so that no line is left with "UTC" or the time alone.
func (p *Page) Dated(id string, data ...any) template.HTML { return nowrapDates(p.T(id, data...)) }

// Date is a date alone, in an element that does not break.
func (p *Page) Date(s string) template.HTML { return nowrapDates(s) }
