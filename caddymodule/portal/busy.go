package portal

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// HashBusy answers a password attempt that the gate on password checks
// refused (users.ErrBusy: as many checks as there are cores run, and the
// short queue is full or its wait ran out): 503 with Retry-After and the
// portal's message page, so a flood is answered at once and costs no
// memory, and a person is told to try again in a few seconds. It reports
// whether err was that refusal.
func (pg *Pages) HashBusy(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(err, users.ErrBusy) {
		return false
	}
	secs := int(math.Ceil(pg.BusyRetry().Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	pg.Message(w, r, http.StatusServiceUnavailable, ui.TitleBusy, ui.MsgBusy)
	return true
}
