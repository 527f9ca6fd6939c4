package regulation

import (
	"context"
	"fmt"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Unlock lifts every lockout and block of user (the locks of password
// sources too) and forgets their failures and rate counts: an
// administrator's action. It walks families: each kind of key is lifted
// as its lift says, so a new kind is lifted once it is listed there.
func (r *Regulation) Unlock(ctx context.Context, user string) (wasLocked bool, err error) {
	locked, _, err := r.Locked(ctx, user)
	if err != nil {
		return false, err
	}
	sources, err := r.SourceLocks(ctx, user)
	if err != nil {
		return false, err
	}
	locked = locked || len(sources) > 0
	for _, f := range families() {
		if err := r.liftFamily(ctx, f, user); err != nil {
			return false, err
		}
	}
	return locked, nil
}

// liftFamily lifts the keys of family f for user, as f.lift says.
func (r *Regulation) liftFamily(ctx context.Context, f family, user string) error {
	key := userKey(f.prefix, user)
	switch f.lift {
	case deleted:
		return r.kv.Delete(ctx, key)
	case reset:
		return r.limiter.Reset(ctx, key)
	case advanced:
		if _, err := r.kv.Incr(ctx, key, genMemory); err != nil {
			return fmt.Errorf("%w: lifting password locks: %w", store.ErrUnavailable, err)
		}
	}
	return nil
}
