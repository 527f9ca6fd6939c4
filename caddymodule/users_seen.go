package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// usersSeenName is the name, in the data dir, of the record of the users
// this gateway has seen in its users file (see userEnder): one record for
// each users file and store, so that gateways that share a data dir but
// not a users file (or not a Redis and key prefix) never take each other's
// users for users that left.
func usersSeenName(usersFile, store string) string {
	if abs, err := filepath.Abs(usersFile); err == nil {
		usersFile = abs
	}
	sum := sha256.Sum256([]byte(usersFile + "\x00" + store))
	return "users-seen-" + hex.EncodeToString(sum[:6]) + ".json"
}

// usersSeen is the record: every user of the users file this gateway last
// loaded, and whether the file disabled them, plus the users it saw leave
// whose access it has not finished ending (as they were: enabled), so that
// a restart before the end still ends it.
type usersSeen struct {
	// Users maps a user name to true when the file disabled that user.
	Users map[string]bool `json:"users"`
}

// loadUsersSeen reads the record at path; ok is false when there is none
// (this gateway's first start with this data dir).
func loadUsersSeen(path string) (seen map[string]bool, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the record of users seen: %w", err)
	}
	var s usersSeen
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, false, fmt.Errorf("record of users seen %s: %w", path, err)
	}
	if s.Users == nil {
		s.Users = map[string]bool{}
	}
	return s.Users, true, nil
}

// saveUsersSeen writes the record at path atomically (a temporary file in
// the same folder, synced, then renamed over it), so a crash leaves the
// old record or the new one, never half of one.
func saveUsersSeen(path string, seen map[string]bool) error {
	b, err := json.Marshal(usersSeen{Users: seen})
	if err != nil {
		return fmt.Errorf("encoding the record of users seen: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("record of users seen: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("record of users seen: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing the record of users seen %s: %w", path, err)
	}
	return nil
}

// storeName names the store the gateway keeps accounts in, for the name
// of its record of users seen: the Redis key prefix it shares, or the
// embedded stores of its data dir.
func (a *App) storeName() string {
	if a.rdb == nil {
		return "embedded"
	}
	return "redis " + a.redisPrefix
}
