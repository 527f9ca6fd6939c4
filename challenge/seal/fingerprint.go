package seal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"golang.org/x/crypto/hkdf"
)

// fingerprintLabel is the fixed message whose keyed hash fingerprints a
// storage key.
const fingerprintLabel = "caddy-mfa storage key fingerprint v1"

// fingerprint is HMAC-SHA256, under a key derived from storageKey for this
// purpose alone, of a fixed label: the same for the same key, different
// for any other, and it says nothing about the key (nor about the keys that
// seal, sign and hash, which are derived with other labels).
func fingerprint(storageKey []byte) (string, error) {
	k := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, storageKey, nil, []byte("caddy-mfa key fingerprint v1")), k); err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(fingerprintLabel))
	return "v1:" + hex.EncodeToString(m.Sum(nil)), nil
}

// Fingerprint identifies the storage key without revealing it, so that
// gateways sharing state can tell whether they share the key: keep it
// beside the sealed data (never the key itself).
func (k *Keys) Fingerprint() string { return k.fp }
