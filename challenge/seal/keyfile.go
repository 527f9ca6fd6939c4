package seal

import (
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
	b, err := os.ReadFile(path)
	if err == nil {
		key = []byte(strings.TrimSpace(string(b)))
		if len(key) < MinKeyLen {
			return nil, false, fmt.Errorf("storage key file %s holds %d bytes; at least %d are needed", path, len(key), MinKeyLen)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("reading storage key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("creating directory for storage key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("generating storage key: %w", err)
	}
	key = []byte(hex.EncodeToString(raw))
	// O_EXCL: if another process created the file meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating storage key file: %w", err)
	}
	if _, err := f.Write(append(key, '\n')); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("writing storage key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("closing storage key file: %w", err)
	}
	return key, true, nil
}
