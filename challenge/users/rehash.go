package users

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"
)

// rehashTimeout bounds one upgrade: the argon2id hash (waiting for the
// gate included) and the rewrite.
const rehashTimeout = 10 * time.Second

// ErrFileChanged is an upgrade refused because the users file on disk is
// no longer the one read: writing it would lose the edits made since.
var ErrFileChanged = errors.New("the users file changed since it was read")

// startRehash upgrades u's weak hash to argon2id in the background, after
// the sign-in has been answered: at most one upgrade runs at a time, and
// one asked while another runs is left for a later sign-in.
func (db *DB) startRehash(u *User, password string) {
	// Lock-free: a sign-in never waits for the rewrite holding db.mu.
	read := db.t.Load()
	if db.rehashFailed.Load() == read {
		// Said once (below); tried again once the file has changed.
		db.log.Debug("password hash upgrade not tried: one failed on this version of the file", zap.String("user", u.Name))
		return
	}
	select {
	case db.rehashing <- struct{}{}:
	default:
		db.log.Debug("password hash upgrade left for a later sign-in: another is running", zap.String("user", u.Name))
		return
	}
	go func() {
		defer func() { <-db.rehashing }()
		ctx, cancel := context.WithTimeout(context.Background(), rehashTimeout)
		defer cancel()
		err := db.rehash(ctx, u, password)
		if err != nil {
			if !errors.Is(err, ErrBusy) && !errors.Is(err, context.DeadlineExceeded) {
				// Not a passing load: remember it until the file changes, so
				// that each sign-in does not hash and warn again.
				db.rehashFailed.Store(read)
			}
			db.log.Warn("password hash not upgraded; the old one stays in force until the file changes", zap.String("user", u.Name),
				zap.String("file", db.path), zap.Error(err))
		} else {
			db.log.Info("password hash upgraded to argon2id", zap.String("event", "password_hash_upgraded"),
				zap.String("user", u.Name), zap.String("from", u.hash.Kind()), zap.String("file", db.path))
		}
		if db.afterRehash != nil {
			db.afterRehash(u.Name, err)
		}
	}()
}

// rehash rewrites u's password in the users file to an argon2id hash of
// password (DefaultArgon2), changing only that scalar's bytes: comments,
// order, quoting and every other line stay byte for byte. The new file is
// written beside the old (same mode and owner) and renamed over it. If
// the file on disk is not the one last read (an edit not yet re-read, or
// one made during the rewrite), nothing is written: ErrFileChanged.
func (db *DB) rehash(ctx context.Context, u *User, password string) error {
	// Everything that does not need the new hash is checked before it is
	// made (an argon2id hash in a gate slot): a rewrite that cannot be
	// written costs no hashing.
	if err := db.canRewrite(u); err != nil {
		return err
	}
	var newHash string
	var herr error
	if db.beforeHash != nil {
		db.beforeHash()
	}
	if err := db.gate.Do(ctx, func() { newHash, herr = HashPassword(password, DefaultArgon2) }); err != nil {
		return fmt.Errorf("hashing: %w", err)
	}
	if herr != nil {
		return fmt.Errorf("hashing: %w", herr)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	real, data, err := db.asRead(u)
	if err != nil {
		return err
	}
	out, err := replaceHash(data, u.Name, u.rawHash, newHash)
	if err != nil {
		return err
	}
	// The result must read as the same file with that one hash changed.
	t, err := parse(out, db.opts)
	if err != nil {
		return fmt.Errorf("the rewritten file does not read: %w", err)
	}
	if err := sameButOne(db.t.Load().users, t.users, u.Name, newHash); err != nil {
		return err
	}
	if err := db.writeBeside(real, out); err != nil {
		return err
	}
	if _, err := db.reloadLocked(); err != nil {
		return fmt.Errorf("re-reading the rewritten file: %w", err)
	}
	return nil
}

// asRead returns the users file (its path, links followed) and its bytes,
// if u's entry is the one in force and the file is the one last read.
// db.mu is held.
func (db *DB) asRead(u *User) (string, []byte, error) {
	if cur := db.t.Load().users[u.Name]; cur != u {
		return "", nil, errors.New("the user's entry was re-read since the sign-in")
	}
	real, err := filepath.EvalSymlinks(db.path)
	if err != nil {
		return "", nil, fmt.Errorf("users file: %w", err)
	}
	data, err := db.unchanged(real)
	if err != nil {
		return "", nil, err
	}
	return real, data, nil
}

// canRewrite checks, before any hashing, that u's entry is the one in
// force, that the file is the one last read, that u's password can be
// rewritten in place and that the file's directory takes a new file.
func (db *DB) canRewrite(u *User) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	real, data, err := db.asRead(u)
	if err != nil {
		return err
	}
	// A stand-in of the new hash's form: the same quoting rules apply.
	if _, err := replaceHash(data, u.Name, u.rawHash, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".rehash-*")
	if err != nil {
		return fmt.Errorf("the users file's directory takes no new file (a read-only or single-file mount?): %w", err)
	}
	f.Close()
	_ = os.Remove(f.Name())
	return nil
}

// unchanged reads the file at path and returns it if it is the one last
// read, else ErrFileChanged.
func (db *DB) unchanged(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if sha256.Sum256(data) != db.sum {
		return nil, ErrFileChanged
	}
	return data, nil
}

// writeBeside writes data to a temporary file in path's directory with
// path's mode and owner, checks once more that path is unchanged, and
// renames it over path.
func (db *DB) writeBeside(path string, data []byte) (err error) {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".rehash-*")
	if err != nil {
		return fmt.Errorf("writing beside the users file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	// The owner first, while the file is still private (0600), then the
	// mode: it is never open to the gateway's group before it is the
	// file's owner's.
	if err = keepOwner(f, st); err != nil {
		f.Close()
		return err
	}
	if db.afterOwner != nil {
		db.afterOwner(f)
	}
	if err = f.Chmod(st.Mode().Perm()); err != nil {
		f.Close()
		return fmt.Errorf("keeping the users file's mode: %w", err)
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if db.beforeRename != nil {
		db.beforeRename()
	}
	if _, err = db.unchanged(path); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing the users file: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// sameButOne checks that after reads as before with only user's hash
// changed, to newHash: the same users, and every other one's password as
// it was (an anchor shared with another entry would change both).
func sameButOne(before, after map[string]*User, user, newHash string) error {
	if len(after) != len(before) {
		return fmt.Errorf("the rewritten file has %d users, not %d", len(after), len(before))
	}
	for name, b := range before {
		a := after[name]
		switch {
		case a == nil:
			return fmt.Errorf("the rewritten file lacks user %q", name)
		case name == user && a.rawHash != newHash:
			return errors.New("the rewritten file does not read back with the new hash")
		case name != user && a.rawHash != b.rawHash:
			return fmt.Errorf("the rewrite would change user %q's password too", name)
		}
	}
	return nil
}

// replaceHash returns data with the password of user, which reads old,
// replaced by newHash in the same quoting style; every other byte stays.
func replaceHash(data []byte, user, old, newHash string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("users file does not read: %v", err)
	}
	usersNode, err := usersMapping(doc.Content[0])
	if err != nil {
		return nil, err
	}
	var pw *yaml.Node
	for i := 0; i+1 < len(usersNode.Content); i += 2 {
		if usersNode.Content[i].Value == user {
			pw = valueOf(usersNode.Content[i+1], "password")
		}
	}
	if pw == nil || pw.Kind != yaml.ScalarNode || pw.Value != old {
		return nil, fmt.Errorf("user %q's password is not a plain value where it was read (an alias?); not rewritten", user)
	}
	if pw.Anchor != "" {
		return nil, fmt.Errorf("line %d: user %q's password is a YAML anchor (&%s) other entries may share; not rewritten", pw.Line, user, pw.Anchor)
	}
	var raw, repl string
	switch pw.Style {
	case 0:
		raw, repl = old, newHash
	case yaml.DoubleQuotedStyle:
		raw, repl = `"`+old+`"`, `"`+newHash+`"`
	case yaml.SingleQuotedStyle:
		raw, repl = `'`+old+`'`, `'`+newHash+`'`
	default:
		return nil, fmt.Errorf("line %d: user %q's password is in a YAML block style; only plain or quoted ones are rewritten", pw.Line, user)
	}
	if strings.ContainsAny(old, "\"'\\\n") {
		return nil, fmt.Errorf("line %d: user %q's password has quotes or escapes; not rewritten", pw.Line, user)
	}
	start, end, ok := lineBounds(data, pw.Line)
	if !ok {
		return nil, fmt.Errorf("line %d: not in the file", pw.Line)
	}
	line := data[start:end]
	if bytes.Count(line, []byte(raw)) != 1 {
		return nil, fmt.Errorf("line %d: user %q's password is not alone on its line; not rewritten", pw.Line, user)
	}
	at := start + bytes.Index(line, []byte(raw))
	out := make([]byte, 0, len(data)-len(raw)+len(repl))
	out = append(out, data[:at]...)
	out = append(out, repl...)
	out = append(out, data[at+len(raw):]...)
	return out, nil
}

// lineBounds is the byte range of line n (from 1) of data, without its
// newline.
func lineBounds(data []byte, n int) (start, end int, ok bool) {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(data[start:], '\n')
		if j < 0 {
			return 0, 0, false
		}
		start += j + 1
	}
	end = len(data)
	if j := bytes.IndexByte(data[start:], '\n'); j >= 0 {
		end = start + j
	}
	return start, end, true
}
