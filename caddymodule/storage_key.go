package caddymodule

import (
	"bytes"
	"fmt"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
)

// startStorageKey writes, at Start, the storage key that Provision
// generated for a data dir without one (no storage_key configured): not
// at Provision, which `caddy validate` runs too. The file is created
// exclusively; if another process created it since Provision read the
// data dir, its key wins only if it is this one, else the start fails
// (this config's keys were derived from the other), and starting again
// reads the file.
func (a *App) startStorageKey() error {
	if a.newKeyFile == "" {
		return nil
	}
	stored, created, err := seal.CreateKeyFile(a.newKeyFile, a.newKey)
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	if !created && !bytes.Equal(stored, a.newKey) {
		return fmt.Errorf("mfa: the storage key file %s was created by another process while this config started; start again to use it", a.newKeyFile)
	}
	if created {
		a.logger.Warn("no storage_key configured: generated one beside the accounts it protects; set storage_key (e.g. {env.MFA_STORAGE_KEY}) to keep it elsewhere",
			zap.String("path", a.newKeyFile))
	}
	a.newKeyFile, a.newKey = "", nil
	return nil
}
