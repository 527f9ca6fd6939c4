package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateKeyFile reads a storage key from path, or, if the file does not
// exist, generates 32 random bytes, writes them hex-encoded with mode 0600 and
// reports created=true so the caller can warn that the key lives beside the data.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	key, ok, err := ReadKeyFile(path)
	if err != nil || ok {
		return key, false, err
	}
	if key, err = NewKey(); err != nil {
		return nil, false, err
	}
	return CreateKeyFile(path, key)
}

// ReadKeyFile reads the storage key at path without writing anything; ok is
// false when there is no such file.
func ReadKeyFile(path string) (key []byte, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading storage key file: %w", err)
	}
	key = []byte(strings.TrimSpace(string(b)))
	if len(key) < MinKeyLen {
		return nil, false, fmt.Errorf("storage key file %s holds %d bytes; at least %d are needed", path, len(key), MinKeyLen)
	}
	return key, true, nil
}

// NewKey generates a storage key: 32 random bytes, hex-encoded, as
// CreateKeyFile writes it.
func NewKey() ([]byte, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generating storage key: %w", err)
	}
	return []byte(hex.EncodeToString(raw)), nil
}

// CreateKeyFile writes key at path with mode 0600 (creating its folder with
// mode 0700), unless the file exists: then it returns the key the file
// holds, with created=false (another process may have created it since it
// was read). The file is created exclusively, so two processes never
// overwrite each other's key.
func CreateKeyFile(path string, key []byte) (stored []byte, created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("creating directory for storage key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		stored, ok, err := ReadKeyFile(path)
		if err == nil && !ok {
			err = fmt.Errorf("storage key file %s vanished while it was being created", path)
		}
		return stored, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating storage key file: %w", err)
	}
	if _, err := f.Write(append(bytes.Clone(key), '\n')); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("writing storage key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("closing storage key file: %w", err)
	}
	return key, true, nil
}
