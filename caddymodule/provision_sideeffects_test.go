package caddymodule

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// TestProvisionBesideARunningGateway: a config provisioned (as `caddy
// validate` does) while another opener holds the accounts file locked
// provisions at once, writes nothing, and its stores fail closed rather
// than wait for Start forever; Start then opens the file.
func TestProvisionBesideARunningGateway(t *testing.T) {
	dir := t.TempDir()
	held, err := store.OpenBolt(filepath.Join(dir, "accounts.db"))
	if err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	a := &App{UsersFile: validUsersFile(t), DataDir: dir}
	start := time.Now()
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Provision took %v beside a locked accounts file", d)
	}
	if after := listDir(t, dir); after != before {
		t.Errorf("Provision changed the data dir:\nbefore %s\nafter  %s", before, after)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.engine.Accounts.Get(ctx, "alice"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Get before Start: %v, want ErrUnavailable", err)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.startStorageKey(); err != nil {
		t.Fatal(err)
	}
	if err := a.startEmbedded(); err != nil {
		t.Fatalf("startEmbedded: %v", err)
	}
	if _, err := a.engine.Accounts.Get(context.Background(), "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Start: %v, want ErrNotFound", err)
	}
}

// TestStartWritesTheKeyProvisionDerived: the key Start writes is the one
// whose keys Provision derived; one written by another process in between
// fails the start, with a message that says to start again.
func TestStartWritesTheKeyProvisionDerived(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mfa")
	a := &App{UsersFile: validUsersFile(t), DataDir: dir}
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	fp := a.engine.Keys.Fingerprint()
	if err := a.startStorageKey(); err != nil {
		t.Fatal(err)
	}
	k, ok, err := seal.ReadKeyFile(filepath.Join(dir, "storage.key"))
	if err != nil || !ok {
		t.Fatalf("no key file after Start: ok=%v err=%v", ok, err)
	}
	keys, err := seal.New(k)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Fingerprint() != fp {
		t.Error("the key file holds another key than the one Provision derived its keys from")
	}

	dir2 := filepath.Join(t.TempDir(), "mfa")
	b := &App{UsersFile: validUsersFile(t), DataDir: dir2}
	if err := provision(t, b); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	other, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := seal.CreateKeyFile(filepath.Join(dir2, "storage.key"), other); err != nil {
		t.Fatal(err)
	}
	err = b.startStorageKey()
	if err == nil || !strings.Contains(err.Error(), "start again") {
		t.Fatalf("Start over a key file written meanwhile: %v", err)
	}
	got, _, _ := seal.ReadKeyFile(filepath.Join(dir2, "storage.key"))
	if !bytes.Equal(got, other) {
		t.Error("the other process's key file was overwritten")
	}
}

// listDir names every file of dir with its size and time of change.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + " " + fi.ModTime().Format(time.RFC3339Nano) + " " + fi.Mode().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRequestBeforeStartWaits: Caddy may start the HTTP server before the
// mfa app; a request that reaches the stores in between waits for Start to
// open the accounts file, then is served.
func TestRequestBeforeStartWaits(t *testing.T) {
	a := &App{UsersFile: validUsersFile(t), DataDir: t.TempDir()}
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := a.engine.Accounts.Get(context.Background(), "alice")
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Get before Start returned at once: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := a.startEmbedded(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get that waited for Start: %v, want ErrNotFound", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Get still waits after Start")
	}
}
