package ui

import "strings"

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
