package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

var accountsBucket = []byte("accounts")

// BoltAccounts keeps accounts in a bbolt file: the embedded default, which
// survives restarts of Caddy.
type BoltAccounts struct {
	db  *bolt.DB
	now func() time.Time
}

// OpenBolt opens (creating if needed) the bbolt file at path.
func OpenBolt(path string) (*BoltAccounts, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating accounts directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening accounts file %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(accountsBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing accounts file %s: %w", path, err)
	}
	return &BoltAccounts{db: db, now: time.Now}, nil
}

// Close closes the file.
func (b *BoltAccounts) Close() error { return b.db.Close() }

// Get implements Accounts.
func (b *BoltAccounts) Get(_ context.Context, user string) (*Account, error) {
	var a *Account
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(accountsBucket).Get([]byte(user))
		if v == nil {
			return ErrNotFound
		}
		a = new(Account)
		return json.Unmarshal(v, a)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("reading account %q: %w", user, err)
	}
	return a, nil
}

// Update implements Accounts.
func (b *BoltAccounts) Update(_ context.Context, user string, fn func(*Account) error) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(accountsBucket)
		v, err := applyUpdate(user, bk.Get([]byte(user)), b.now(), fn)
		if err != nil {
			return err
		}
		if err := bk.Put([]byte(user), v); err != nil {
			return fmt.Errorf("writing account %q: %w", user, err)
		}
		return nil
	})
}

// Delete implements Accounts.
func (b *BoltAccounts) Delete(_ context.Context, user string) error {
	if err := b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(accountsBucket).Delete([]byte(user))
	}); err != nil {
		return fmt.Errorf("deleting account %q: %w", user, err)
	}
	return nil
}
