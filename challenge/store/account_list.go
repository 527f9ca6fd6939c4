package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// AccountLister is an Accounts store that can list the users it holds
// accounts for: at start, the gateway ends the access of those the users
// file no longer has. Every store of this package implements it.
type AccountLister interface {
	// Users returns the names of every account, in no particular order.
	Users(ctx context.Context) ([]string, error)
}

// Interface guards.
var (
	_ AccountLister = (*MemoryAccounts)(nil)
	_ AccountLister = (*BoltAccounts)(nil)
	_ AccountLister = (*RedisAccounts)(nil)
)

// Users implements AccountLister.
func (s *MemoryAccounts) Users(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for u := range s.m {
		out = append(out, u)
	}
	return out, nil
}

// Users implements AccountLister.
func (b *BoltAccounts) Users(context.Context) ([]string, error) {
	var out []string
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(accountsBucket).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	return out, nil
}

// Users implements AccountLister with SCAN over the prefix's account keys.
func (s *RedisAccounts) Users(ctx context.Context) ([]string, error) {
	out, err := scanPrefix(ctx, s.rdb, s.prefix+"account:")
	if err != nil {
		return nil, fmt.Errorf("%w: listing accounts: %w", ErrUnavailable, err)
	}
	return out, nil
}

// scanPrefix returns, sorted and without prefix, every key that starts
// with prefix: SCAN in batches (on every master of a Cluster), so a large
// keyspace is read without blocking Redis.
func scanPrefix(ctx context.Context, rdb redis.UniversalClient, prefix string) ([]string, error) {
	match := globEscape(prefix) + "*"
	var mu sync.Mutex
	seen := map[string]bool{}
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, match, 500).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			seen[strings.TrimPrefix(it.Val(), prefix)] = true
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, rdb)
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// globEscape quotes the characters of s that SCAN's MATCH pattern treats
// as wildcards, so a key prefix such as "app[1]:" matches only itself.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
