package store

import (
	"context"
	"fmt"
	"strings"
)

// KeyLister is a KV that can list its live keys under a prefix: at start,
// the gateway finds the users with sessions this way, to end those of
// users the users file no longer lists. MemoryKV and RedisKV implement it.
type KeyLister interface {
	// Keys returns the live keys that start with prefix, without it, in no
	// particular order.
	Keys(ctx context.Context, prefix string) ([]string, error)
}

// Interface guards.
var (
	_ KeyLister = (*MemoryKV)(nil)
	_ KeyLister = (*RedisKV)(nil)
)

// Keys implements KeyLister.
func (s *MemoryKV) Keys(_ context.Context, prefix string) ([]string, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for k, e := range s.m {
		if rest, ok := strings.CutPrefix(k, prefix); ok && now.Before(e.exp) {
			out = append(out, rest)
		}
	}
	return out, nil
}

// Keys implements KeyLister with SCAN under the store's prefix.
func (s *RedisKV) Keys(ctx context.Context, prefix string) ([]string, error) {
	out, err := scanPrefix(ctx, s.rdb, s.prefix+prefix)
	if err != nil {
		return nil, fmt.Errorf("%w: listing keys: %w", ErrUnavailable, err)
	}
	return out, nil
}
