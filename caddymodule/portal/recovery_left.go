package portal

import (
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/ui"
)

// After a sign-in with a recovery code, the user is told how many codes
// are left before going on, and, with few left, asked to register a method
// again (the phone is likely lost) or to get new codes.

// recoveryLeftPath is the page's path under the portal prefix.
const recoveryLeftPath = "recovery-left"

// recoveryLow is how few codes left make the page ask to register again.
const recoveryLow = 3

// recoveryLeftPage shows a signed-in user how many recovery codes are
// left, with the way on to where they were going.
func (p *Portal) recoveryLeftPage(q *request) error {
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return err
	}
	pg := p.page(q, ui.TitleRecoveryLeft)
	if a != nil {
		pg.RecoveryLeft = len(a.RecoveryCodes)
	}
	pg.RecoveryLow = pg.RecoveryLeft <= recoveryLow
	pg.Return = p.returnPath(q.data.Return)
	pg.SignedIn = true
	return p.render(q, http.StatusOK, "recovery_left", pg)
}
