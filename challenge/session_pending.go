package challenge

import (
	"context"
	"errors"
	"fmt"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// EndSessionPending ends everything the session tagged session of user
// has pending: a code texted for it, its call and its prompt, whatever
// their purpose. A sign-in or step-up that completes calls it (before the
// session gets its new id), so that none of them can be entered, answered
// or finished afterwards, in this session or a later one.
func (e *Engine) EndSessionPending(ctx context.Context, user, session string) error {
	_, _, err := e.codes().TakeIf(ctx, user, func(r codeRecord) bool { return r.Session == session })
	if errors.Is(err, errBadRecord) {
		err = e.codes().Delete(ctx, user)
	}
	if err != nil {
		return err
	}
	id, err := e.KV.Get(ctx, callSessionKey(session))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("%w: reading the call to end: %w", store.ErrUnavailable, err)
	default:
		if err := e.calls().Delete(ctx, string(id)); err != nil {
			return err
		}
		if err := e.KV.Delete(ctx, callSessionKey(session)); err != nil {
			return fmt.Errorf("%w: ending call: %w", store.ErrUnavailable, err)
		}
	}
	if err := e.dropSessionPush(ctx, session); err != nil {
		return err
	}
	if err := e.KV.Delete(ctx, pushSessionKey(session)); err != nil {
		return fmt.Errorf("%w: ending push request: %w", store.ErrUnavailable, err)
	}
	return nil
}

// CallPurpose is the purpose (PurposeSignIn or PurposeEnrol) of call id,
// for the words the callee hears: ErrCallUnknown once it has expired.
func (e *Engine) CallPurpose(ctx context.Context, id string) (string, error) {
	rec, err := e.loadCall(ctx, id)
	return rec.Purpose, err
}
