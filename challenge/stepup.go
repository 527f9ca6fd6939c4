package challenge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// StepUpChange is what a fully signed-in user asked for when their second
// factor was too old (StepUpAge): a change of security info (a portal
// route and its form, without the CSRF token) or a page to go back to (a
// setup page), kept while the second factor is given again, so that the
// user is not made to ask twice. It is only ever shown (a change is
// carried out by the user's own POST from the page that shows it).
type StepUpChange struct {
	// User asked for it.
	User string `json:"user"`
	// Path is the portal route (relative to the prefix): of the change,
	// or of the page to go back to (with its query, if any).
	Path string `json:"path"`
	// Page marks a page to go back to rather than a change to confirm.
	Page bool `json:"page,omitempty"`
	// Form is the change's form, without its CSRF token.
	Form map[string][]string `json:"form,omitempty"`
	// Expires is when it is forgotten.
	Expires time.Time `json:"expires"`
}

// stepUps are the changes kept over a step-up, by a random id.
func (e *Engine) stepUps() record[StepUpChange] {
	return record[StepUpChange]{kv: e.KV, now: e.Now, prefix: "stepup:", what: "change kept over a step-up",
		expires: func(c StepUpChange) time.Time { return c.Expires }}
}

// SaveStepUp keeps c for StepUpAge (the time the user has to give the
// second factor and confirm) and returns its id: 32 hex digits.
func (e *Engine) SaveStepUp(ctx context.Context, c StepUpChange) (string, error) {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	id := hex.EncodeToString(raw)
	c.Expires = e.Now().Add(StepUpAge)
	return id, e.stepUps().Put(ctx, id, c)
}

// StepUp returns user's change kept under id; ok is false if there is none
// (expired, used, malformed, or another user's).
func (e *Engine) StepUp(ctx context.Context, user, id string) (c StepUpChange, ok bool, err error) {
	c, err = e.stepUps().Get(ctx, id)
	if errors.Is(err, errNoRecord) || errors.Is(err, errBadRecord) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	return c, c.User == user, nil
}

// EndStepUp forgets user's change kept under id, once it is carried out.
func (e *Engine) EndStepUp(ctx context.Context, user, id string) error {
	if _, ok, err := e.StepUp(ctx, user, id); err != nil || !ok {
		return err
	}
	return e.stepUps().Delete(ctx, id)
}
