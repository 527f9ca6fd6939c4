package ui

import "strings"

// Sentences joins sentences as the page's language writes them: with a
// space in English, with none in Japanese (after 。).
func (p *Page) Sentences(s ...string) string {
	if p.Lang == "ja" {
		return strings.Join(s, "")
	}
	return strings.Join(s, " ")
}
