package challenge

import "strings"

// cleanName is a name a user gives to an app password or a security key,
// trimmed; ok is false if it is empty, over 64 characters, or holds
// control characters.
func cleanName(name string) (string, bool) {
	name = strings.TrimSpace(name)
	return name, name != "" && len([]rune(name)) <= 64 && !strings.ContainsFunc(name, unsafeRune)
}
