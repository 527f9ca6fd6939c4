package challenge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Remembered devices: "Don't ask again on this device". A browser that
// gave the second factor keeps a random token in a cookie; for as long as
// the operator allows, the password alone signs its user in there. The
// account keeps a keyed hash of the token, listed on the security-info
// page, where it can be forgotten. Tokens are only ever minted here, one
// per remembering, bound to the user by the hash: a token the browser
// brings is never adopted. A browser shared by several users carries one
// token for each (at most MaxDeviceTokens), in one cookie.

// MaxDevices is how many remembered devices a user may have; the oldest
// goes when another is added.
const MaxDevices = 20

// DeviceTokenLen is the length of a device token: base64url of 32 bytes.
const DeviceTokenLen = 43

// MaxDeviceTokens is how many tokens one browser's device cookie carries
// (one per user remembered there); the oldest goes when another is added.
const MaxDeviceTokens = 5

// deviceTokenSep separates the tokens in a device cookie; base64url has no
// dot.
const deviceTokenSep = "."

// deviceHash is what an account keeps of a device token. Its label names
// the release that stopped adopting tokens a browser brought (issue 14):
// devices remembered before it, whose tokens may have been planted or
// read from an upstream's logs, no longer match and are asked for the
// second factor once more.
func (e *Engine) deviceHash(user, token string) []byte {
	return e.Keys.HashCode("device v2", user+"\x00"+token)
}

// RememberDevice remembers, for ttl, the browser of user described by name
// ("Firefox on Linux"), under a new random token that it returns and the
// browser's cookie must carry (see DeviceCookie). It takes no token from
// the browser: one planted there by a sibling subdomain, a plain-http hop
// or a shared computer would otherwise be remembered for the victim, and
// whoever planted it would need only the password.
func (e *Engine) RememberDevice(ctx context.Context, user, name string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a device token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return "", fmt.Errorf("making a device id: %w", err)
	}
	now, h := e.Now(), e.deviceHash(user, token)
	err := e.updateAccount(ctx, user, "remembering a device", func(a *store.Account) error {
		a.Devices = slices.DeleteFunc(a.Devices, func(d store.Device) bool { return !now.Before(d.Expires) })
		if len(a.Devices) >= MaxDevices {
			a.Devices = a.Devices[len(a.Devices)-MaxDevices+1:]
		}
		a.Devices = append(a.Devices, store.Device{ID: hex.EncodeToString(id), Name: name, Hash: h,
			Created: now, LastUsed: now, Expires: now.Add(ttl)})
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// DeviceCookie is the device cookie's value once token is minted: token,
// then the well-formed tokens of old (the cookie as the browser sent it,
// for the other users of the browser), at most MaxDeviceTokens in all.
// Carrying old's tokens grants nothing: a token works only for a user
// whose account keeps its hash, and only RememberDevice makes those.
func DeviceCookie(token, old string) string {
	out := []string{token}
	for _, t := range deviceTokens(old) {
		if len(out) == MaxDeviceTokens {
			break
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return strings.Join(out, deviceTokenSep)
}

// deviceTokens are the well-formed tokens among the first MaxDeviceTokens
// fields of a device cookie.
func deviceTokens(cookie string) []string {
	var out []string
	for i := 0; i < MaxDeviceTokens && cookie != ""; i++ {
		var t string
		t, cookie, _ = strings.Cut(cookie, deviceTokenSep)
		if len(t) == DeviceTokenLen {
			out = append(out, t)
		}
	}
	return out
}

// RememberedDevice reports whether the device cookie (as the browser sent
// it) carries a token of user remembered and not expired, and records its
// use.
func (e *Engine) RememberedDevice(ctx context.Context, user, cookie string) (bool, error) {
	tokens := deviceTokens(cookie)
	if len(tokens) == 0 {
		return false, nil
	}
	now := e.Now()
	hashes := make([][]byte, len(tokens))
	for i, t := range tokens {
		hashes[i] = e.deviceHash(user, t)
	}
	var found bool
	err := e.updateAccount(ctx, user, "reading remembered devices", func(a *store.Account) error {
		for i, d := range a.Devices {
			if !now.Before(d.Expires) {
				continue
			}
			for _, h := range hashes {
				if subtle.ConstantTimeCompare(d.Hash, h) == 1 {
					a.Devices[i].LastUsed, found = now, true
					return nil
				}
			}
		}
		return errNoChange
	})
	if err != nil {
		return false, err
	}
	return found, nil
}

// ForgetDevice forgets device id of user; false if there was none.
func (e *Engine) ForgetDevice(ctx context.Context, user, id string) (bool, error) {
	return removeByID(ctx, e, user, "device", func(a *store.Account) *[]store.Device { return &a.Devices },
		func(d store.Device) bool { return d.ID == id })
}

// ForgetDevices forgets every remembered device of user.
func (e *Engine) ForgetDevices(ctx context.Context, user string) error {
	return e.updateAccount(ctx, user, "forgetting devices", func(a *store.Account) error {
		if len(a.Devices) == 0 {
			return errNoChange
		}
		a.Devices = nil
		return nil
	})
}
