package challenge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// A secret the portal has just made (new recovery codes, an app password)
// is answered with a redirect to the page that shows it (POST/redirect/
// GET). The secret waits for that page sealed in the KV, under the tag of
// the session that made it, for ShownTTL: reloading the page shows the same
// secret and never makes another one, and after ShownTTL it is gone, so the
// secret is on one page, in one session, for a few minutes only.

// ShownTTL is how long a secret just made can be shown again.
const ShownTTL = 2 * time.Minute

// Kinds of Shown.
const (
	// ShownRecovery is a new set of recovery codes.
	ShownRecovery = "recovery"
	// ShownAppPassword is a new app password.
	ShownAppPassword = "app-password"
)

// Shown is a secret just made, kept for the page that shows it.
type Shown struct {
	// Secrets are the recovery codes, or the one app password.
	Secrets []string `json:"secrets"`
	// Return is the same-origin path the page's button leads to.
	Return string `json:"return,omitempty"`
}

// shownRecord is a Shown as the KV keeps it: sealed for its user, kind and
// session.
type shownRecord struct {
	Sealed  []byte    `json:"sealed"`
	Expires time.Time `json:"expires"`
}

func (e *Engine) shownRecords() record[shownRecord] {
	return record[shownRecord]{kv: e.KV, now: e.Now, prefix: "shown:", what: "secret to show",
		expires: func(r shownRecord) time.Time { return r.Expires }}
}

func shownContext(session, user, kind string) string {
	return "shown:" + kind + ":" + session + ":" + user
}

// KeepShown keeps s, of kind, for user's session tagged session, for
// ShownTTL, replacing one of the same kind.
func (e *Engine) KeepShown(ctx context.Context, session, user, kind string, s Shown) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding the secret to show: %w", err)
	}
	sealed, err := e.Keys.Seal(b, shownContext(session, user, kind))
	if err != nil {
		return fmt.Errorf("sealing the secret to show: %w", err)
	}
	return e.shownRecords().Put(ctx, kind+":"+session, shownRecord{Sealed: sealed, Expires: e.Now().Add(ShownTTL)})
}

// ShownResult returns the secret of kind kept for user's session tagged
// session; ok is false if there is none (never made, or its time is up),
// or it does not open for them.
func (e *Engine) ShownResult(ctx context.Context, session, user, kind string) (s Shown, ok bool, err error) {
	r, err := e.shownRecords().Get(ctx, kind+":"+session)
	if errors.Is(err, errNoRecord) || errors.Is(err, errBadRecord) {
		return Shown{}, false, nil
	}
	if err != nil {
		return Shown{}, false, err
	}
	b, err := e.Keys.Open(r.Sealed, shownContext(session, user, kind))
	if err != nil {
		return Shown{}, false, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Shown{}, false, nil
	}
	return s, true, nil
}
