package ui

import (
	"html/template"
	"regexp"
)

// dateText matches a date as the portal writes it ("2026-01-02 03:04 UTC",
// with or without seconds and zone).
var dateText = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?(?: UTC)?`)

// nowrapDates escapes s and puts each date in it in a span that does not
// break (.nowrap in style.css).
func nowrapDates(s string) template.HTML {
	return template.HTML(dateText.ReplaceAllString(template.HTMLEscapeString(s), `<span class="nowrap">$0</span>`))
}

// Dated is T for a message that holds dates: each in a span that does not
// break, so that no line is left with "UTC" or the time alone.
func (p *Page) Dated(id string, data ...any) template.HTML { return nowrapDates(p.T(id, data...)) }

// Date is a date alone, in a span that does not break.
func (p *Page) Date(s string) template.HTML { return nowrapDates(s) }
