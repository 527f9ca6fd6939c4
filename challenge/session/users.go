package session

import (
	"context"
	"fmt"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Users lists the users who have sessions (an index of session ids that
// has not expired), for the start-up sweep that ends those of users the
// users file no longer lists. ok is false when the store cannot list keys.
func (s *Store) Users(ctx context.Context) (names []string, ok bool, err error) {
	l, ok := s.kv.(store.KeyLister)
	if !ok {
		return nil, false, nil
	}
	names, err = l.Keys(ctx, userIndex(""))
	if err != nil {
		return nil, true, fmt.Errorf("%w: listing users with sessions: %w", store.ErrUnavailable, err)
	}
	return names, true, nil
}
