package challenge

import (
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

// TestRegulationKeysPersist: the embedded KV keeps every kind of key of
// lockouts, failure runs and send limits across a restart (the embedded
// limiter keeps all of its own), so that a restart hands no guesser a
// fresh allowance and lifts no lock.
func TestRegulationKeysPersist(t *testing.T) {
	for _, p := range regulation.KeyPrefixes() {
		if key := p + "alice"; !PersistKey(key) {
			t.Errorf("PersistKey(%q) = false: a restart would forget it", key)
		}
	}
}
