package ui

import (
	"html/template"
	"strings"
)

// MaskEmail hides most of an e-mail address for a page that shows which
// address a code goes to: its first character and its domain stay,
// "a•••@example.com".
func MaskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "•••"
	}
	first := []rune(local)[0]
	return string(first) + "•••@" + domain
}

// addressMark stands for the address while a sentence is translated.
const addressMark = "\x00address\x00"

// WithAddress is the sentence id with the e-mail address addr in it
// ({{.Email}}), the address marked as not to be translated (it is the
// user's data, not words of the page's language).
func (p *Page) WithAddress(id, addr string) template.HTML {
	s := template.HTMLEscapeString(p.T(id, map[string]any{"Email": addressMark}))
	mark := template.HTMLEscapeString(addressMark)
	return template.HTML(strings.Replace(s, mark, `<span class="address" translate="no">`+template.HTMLEscapeString(addr)+`</span>`, 1))
}
