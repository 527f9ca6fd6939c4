package store

import (
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

func TestRedisKV(t *testing.T) {
	testKV(t, func(t *testing.T) (KV, func(time.Duration)) {
		rdb, prefix := redistest.Client(t)
		return NewRedisKV(rdb, prefix), func(d time.Duration) { redistest.Advance(t, rdb, prefix, d) }
	})
}

func TestRedisAccounts(t *testing.T) {
	testAccounts(t, func(t *testing.T) Accounts {
		rdb, prefix := redistest.Client(t)
		return NewRedisAccounts(rdb, prefix)
	})
}
