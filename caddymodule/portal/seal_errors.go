package portal

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/ui"
)

// SealUnreadable answers a request that needed a secret sealed in user's
// account (an authenticator seed, a phone number, a push topic) that does
// not open. That is no outage and no wrong code: almost always this
// gateway's storage_key is not the one the secret was sealed with (a
// gateway given another key, a key replaced, a backup restored under
// another key), else the record was altered. The user gets a page that
// says to ask an administrator (never an empty 500), and the log names the
// user and the likely cause. user may be empty where the caller does not
// know it; the error then names it.
func (pg *Pages) SealUnreadable(w http.ResponseWriter, r *http.Request, user string, err error) {
	pg.Logger.Error("a secret sealed in this account cannot be opened: storage_key differs from the one that sealed this account? (else the record was altered); give this gateway the key the account was sealed with",
		zap.String("user", user), zap.Error(err), zap.String("path", r.URL.Path))
	pg.Message(w, r, http.StatusInternalServerError, ui.TitleSealUnreadable, ui.MsgSealUnreadable)
}
