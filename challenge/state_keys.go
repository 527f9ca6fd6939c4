package challenge

import "strings"

// inFlightPrefixes are the KV keys of ceremonies in flight with a phone, a
// browser or a provider: an app notification waiting for its answer, a
// call under way, a security-key challenge. Each lives minutes, and every
// key of one ceremony (its record and its once-only guards) is here, so
// that a restart forgets the ceremony as a whole: the step then says it
// expired and is started again. Nothing can be replayed, since the guard
// and the record it guards go together.
var inFlightPrefixes = []string{
	"push:", "push-session:", "push-answered:", "push-claim:",
	"call:", "call-session:", "call-answered:",
	"webauthn:",
	// A secret just made, waiting minutes for the page that shows it
	// (shown.go): never written to disk, even sealed.
	"shown:",
}

// PersistKey reports whether the embedded store keeps key in the accounts
// file, so that it survives a restart or crash of Caddy: every key but
// those of ceremonies in flight. That is sessions and their per-user index
// ("sign out everywhere" must reach sessions restored after a restart),
// lockouts, fraud blocks, failure runs, send waits and daily counts,
// app-password waits, administrators' passes, texted codes (paid for, and
// used once: the use is written too) and pending enrolments. A key of a
// new kind persists unless it is added to inFlightPrefixes, so that no
// lockout or once-only guard is forgotten by default.
func PersistKey(key string) bool {
	for _, p := range inFlightPrefixes {
		if strings.HasPrefix(key, p) {
			return false
		}
	}
	return true
}
