package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestBoltPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	// A directory that does not exist yet, as on a first start of Caddy.
	path := filepath.Join(t.TempDir(), "mfa", "accounts.db")
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	mustUpdate(t, b, "alice", func(a *Account) error {
		a.TOTP = &TOTP{Secret: []byte("sealed"), LastStep: 42}
		a.RecoveryCodes = [][]byte{{1, 2, 3}}
		return nil
	})
	mustUpdate(t, b, "bob", func(a *Account) error { return nil })
	if err := b.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	created := mustGet(t, b, "alice").Created
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// The used TOTP step survives a restart, so a code cannot be replayed
	// by waiting for Caddy to restart.
	b2 := openTestBolt(t, path)
	a := mustGet(t, b2, "alice")
	if a.TOTP == nil || a.TOTP.LastStep != 42 || string(a.TOTP.Secret) != "sealed" ||
		len(a.RecoveryCodes) != 1 || !a.Created.Equal(created) {
		t.Fatalf("after reopen alice = %+v (TOTP %+v)", a, a.TOTP)
	}
	if _, err := b2.Get(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted account came back after reopen: err = %v", err)
	}
}

func TestBoltFileIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "accounts.db")
	b := openTestBolt(t, path)
	mustUpdate(t, b, "alice", func(a *Account) error { return nil })
	for _, p := range []string{dir, path} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; sealed secrets and code hashes must not be readable by others", p, st.Mode().Perm())
		}
	}
}

// A store that cannot be read must never look like "no account": the gateway
// would then offer to register a new second factor for anyone with the
// password.
func TestBoltFailureIsNotNotFound(t *testing.T) {
	ctx := context.Background()

	t.Run("closed file", func(t *testing.T) {
		b, err := OpenBolt(filepath.Join(t.TempDir(), "accounts.db"))
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		if _, err := b.Get(ctx, "alice"); err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("Get on a closed store: err = %v, want an error other than ErrNotFound", err)
		}
		called := false
		err = b.Update(ctx, "alice", func(*Account) error { called = true; return nil })
		if err == nil || called {
			t.Fatalf("Update on a closed store: err = %v, fn called = %v", err, called)
		}
	})

	t.Run("corrupt record", func(t *testing.T) {
		b := openTestBolt(t, filepath.Join(t.TempDir(), "accounts.db"))
		if err := b.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(accountsBucket).Put([]byte("alice"), []byte("{not json"))
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, "alice"); err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of a corrupt record: err = %v, want an error other than ErrNotFound", err)
		}
		called := false
		err := b.Update(ctx, "alice", func(a *Account) error {
			called = true
			a.TOTP = &TOTP{Secret: []byte("attacker's seed")}
			return nil
		})
		if err == nil || called {
			t.Fatalf("Update over a corrupt record: err = %v, fn called = %v; it must not start a fresh account", err, called)
		}
		var raw []byte
		b.db.View(func(tx *bolt.Tx) error {
			raw = append(raw, tx.Bucket(accountsBucket).Get([]byte("alice"))...)
			return nil
		})
		if string(raw) != "{not json" {
			t.Fatalf("corrupt record was overwritten with %q", raw)
		}
	})
}
