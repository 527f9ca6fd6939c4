package challenge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Remembered devices: "Don't ask again on this device". A browser that
// gave the second factor keeps a random token in a cookie; for as long as
// the operator allows, the password alone signs its user in there. The
// account keeps a keyed hash of the token, listed on the security-info
// page, where it can be forgotten.

// MaxDevices is how many remembered devices a user may have; the oldest
// goes when another is added.
const MaxDevices = 20

// DeviceTokenLen is the length of a device token: base64url of 32 bytes.
const DeviceTokenLen = 43

func (e *Engine) deviceHash(user, token string) []byte {
	return e.Keys.HashCode("device", user+"\x00"+token)
}

// RememberDevice remembers, for ttl, the browser of user described by name
// ("Firefox on Linux"), and returns the token its cookie must carry.
// token, if well-formed, is the browser's token already (from another
// user): it is kept, so one cookie serves every user of the browser.
func (e *Engine) RememberDevice(ctx context.Context, user, name, token string, ttl time.Duration) (string, error) {
	if len(token) != DeviceTokenLen {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("making a device token: %w", err)
		}
		token = base64.RawURLEncoding.EncodeToString(b)
	}
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return "", fmt.Errorf("making a device id: %w", err)
	}
	now, h := e.Now(), e.deviceHash(user, token)
	err := e.Accounts.Update(ctx, user, func(a *store.Account) error {
		a.Devices = slices.DeleteFunc(a.Devices, func(d store.Device) bool {
			return !now.Before(d.Expires) || subtle.ConstantTimeCompare(d.Hash, h) == 1
		})
		if len(a.Devices) >= MaxDevices {
			a.Devices = a.Devices[len(a.Devices)-MaxDevices+1:]
		}
		a.Devices = append(a.Devices, store.Device{ID: hex.EncodeToString(id), Name: name, Hash: h,
			Created: now, LastUsed: now, Expires: now.Add(ttl)})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: remembering a device: %w", store.ErrUnavailable, err)
	}
	return token, nil
}

// RememberedDevice reports whether token is a device of user remembered
// and not expired, and records its use.
func (e *Engine) RememberedDevice(ctx context.Context, user, token string) (bool, error) {
	if len(token) != DeviceTokenLen {
		return false, nil
	}
	now, h := e.Now(), e.deviceHash(user, token)
	var found bool
	err := e.Accounts.Update(ctx, user, func(a *store.Account) error {
		for i, d := range a.Devices {
			if subtle.ConstantTimeCompare(d.Hash, h) == 1 && now.Before(d.Expires) {
				a.Devices[i].LastUsed, found = now, true
				return nil
			}
		}
		return errNothingToSave
	})
	if err != nil && !errors.Is(err, errNothingToSave) {
		return false, fmt.Errorf("%w: reading remembered devices: %w", store.ErrUnavailable, err)
	}
	return found, nil
}

// errNothingToSave ends an Accounts.Update that changes nothing.
var errNothingToSave = errors.New("nothing to save")

// ForgetDevice forgets device id of user; false if there was none.
func (e *Engine) ForgetDevice(ctx context.Context, user, id string) (bool, error) {
	return removeByID(ctx, e, user, "device", func(a *store.Account) *[]store.Device { return &a.Devices },
		func(d store.Device) bool { return d.ID == id })
}

// ForgetDevices forgets every remembered device of user.
func (e *Engine) ForgetDevices(ctx context.Context, user string) error {
	err := e.Accounts.Update(ctx, user, func(a *store.Account) error {
		if len(a.Devices) == 0 {
			return errNothingToSave
		}
		a.Devices = nil
		return nil
	})
	if err != nil && !errors.Is(err, errNothingToSave) {
		return fmt.Errorf("%w: forgetting devices: %w", store.ErrUnavailable, err)
	}
	return nil
}
