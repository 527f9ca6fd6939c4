// Package seal encrypts secrets at rest (TOTP seeds, later phone numbers) with
// AES-256-GCM and derives the other keys the gateway needs from one storage key.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// MinKeyLen is the shortest storage key accepted, in bytes.
const MinKeyLen = 32

// version prefixes every sealed value so the format can change later.
const version byte = 1

// Keys holds the sub-keys derived from the storage key. Each purpose has its
// own key, so a leak of one (a cookie key, say) says nothing about the others.
type Keys struct {
	aead       cipher.AEAD
	cookieHash []byte
	csrf       []byte
	codeHash   []byte
	fp         string
}

// New derives every sub-key from storageKey with HKDF-SHA256.
func New(storageKey []byte) (*Keys, error) {
	if len(storageKey) < MinKeyLen {
		return nil, fmt.Errorf("storage key is %d bytes; it must be at least %d", len(storageKey), MinKeyLen)
	}
	derive := func(info string, n int) ([]byte, error) {
		out := make([]byte, n)
		if _, err := io.ReadFull(hkdf.New(sha256.New, storageKey, nil, []byte("caddy-mfa "+info)), out); err != nil {
			return nil, fmt.Errorf("deriving %s key: %w", info, err)
		}
		return out, nil
	}
	enc, err := derive("seal v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	k := &Keys{aead: aead}
	if k.cookieHash, err = derive("session cookie v1", 64); err != nil {
		return nil, err
	}
	if k.csrf, err = derive("csrf v1", 32); err != nil {
		return nil, err
	}
	if k.codeHash, err = derive("code hash v1", 32); err != nil {
		return nil, err
	}
	if k.fp, err = fingerprint(storageKey); err != nil {
		return nil, fmt.Errorf("deriving key fingerprint: %w", err)
	}
	return k, nil
}

// CookieHashKey is the HMAC key that signs session cookies.
func (k *Keys) CookieHashKey() []byte { return k.cookieHash }

// CSRFKey is the HMAC key that binds CSRF tokens to a session.
func (k *Keys) CSRFKey() []byte { return k.csrf }

// HashCode returns a keyed hash of a high-entropy secret (a recovery code,
// later an app password). A fast keyed hash is enough for secrets with this
// much entropy, and the key keeps a stolen database from being checked offline.
func (k *Keys) HashCode(purpose, code string) []byte {
	m := hmac.New(sha256.New, k.codeHash)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// Seal encrypts plaintext. context (a user name and a field name, say) is bound
// to the ciphertext, so a sealed value copied into another record will not open.
func (k *Keys) Seal(plaintext []byte, context string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("reading nonce: %w", err)
	}
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, version)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, []byte(context)), nil
}

// ErrOpen is returned when a sealed value cannot be decrypted: wrong key,
// wrong context, or tampered data.
var ErrOpen = errors.New("sealed value cannot be opened (wrong storage key or tampered data)")

// Open decrypts a value made by Seal with the same context.
func (k *Keys) Open(sealed []byte, context string) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(context))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
