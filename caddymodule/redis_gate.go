package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// redisGate holds every request a gateway on Redis would serve while its
// start-up checks on Redis (redis_start.go) have not passed: until the
// first check passes (Redis was unreachable at start), and for good once a
// check has failed (another gateway's storage key, an ACL that refuses what
// the gateway needs). A wrong-key gateway that served would seal new
// accounts with a key the others cannot read, the silent breakage the
// fingerprint is there to stop. The hot path reads it with one atomic load.
type redisGate struct {
	hold atomic.Pointer[redisHold]
}

// redisHold is why the gateway serves nothing.
type redisHold struct {
	// why is the log message of every refused request.
	why string
	// err is the check's error, with the details to fix.
	err error
	// retry says a later check may lift the hold (Redis was unreachable),
	// so the page asks to try again.
	retry bool
}

// Holds.
const (
	whyPending  = "this gateway's start-up checks on Redis have not passed yet (Redis was not reachable at start); failing closed until they do"
	whyKey      = "this gateway's storage_key differs from the one the gateways on this Redis use; fix the configuration and reload"
	whyACL      = "this gateway's Redis user may not run what it needs; fix the ACL and reload"
	whyRefusing = "a start-up check on Redis failed; fix the configuration and reload"
)

// newRedisGate returns a gate that holds everything until open is called:
// until Start's checks have run, nothing is served.
func newRedisGate() *redisGate {
	g := &redisGate{}
	g.hold.Store(&redisHold{why: "this gateway's start-up checks on Redis have not run yet; failing closed until they pass", retry: true})
	return g
}

// held is why requests are refused now, or nil to serve them. A nil gate
// (no Redis) never holds.
func (g *redisGate) held() *redisHold {
	if g == nil {
		return nil
	}
	return g.hold.Load()
}

// open lets requests through.
func (g *redisGate) open() { g.hold.Store(nil) }

// close refuses requests for h's reason.
func (g *redisGate) close(h *redisHold) { g.hold.Store(h) }

// error says why, with the check's details.
func (h *redisHold) error() error {
	if h.err == nil {
		return errors.New("mfa: " + h.why)
	}
	return fmt.Errorf("mfa: %s: %w", h.why, h.err)
}

// refuseHeld answers a request the gate holds: the 503 page users meet
// when storage cannot be reached (there is nothing else they can do about
// it), and an error log line that tells the operator why.
func (a *App) refuseHeld(w http.ResponseWriter, r *http.Request, h *redisHold) {
	if ce := a.logger.Check(zapcore.ErrorLevel, h.why); ce != nil {
		ce.Write(zap.String("path", r.URL.Path), zap.Error(h.err))
	}
	a.pages.Held(w, r, h.retry)
}

// answerHeld answers r with refuseHeld if the gate holds requests, and
// reports whether it did.
func (a *App) answerHeld(w http.ResponseWriter, r *http.Request) bool {
	held := a.gate.held()
	if held == nil {
		return false
	}
	a.refuseHeld(w, r, held)
	return true
}
