package seal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKeys(t *testing.T, key string) *Keys {
	t.Helper()
	k, err := New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTripAndBinding(t *testing.T) {
	k := testKeys(t, "0123456789abcdef0123456789abcdef")
	sealed, err := k.Seal([]byte("JBSWY3DPEHPK3PXP"), "alice/totp")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := k.Open(sealed, "alice/totp")
	if err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, "bob/totp"); !errors.Is(err, ErrOpen) {
		t.Fatalf("value moved to another user opened: %v", err)
	}
	other := testKeys(t, "another-storage-key-of-enough-length!!")
	if _, err := other.Open(sealed, "alice/totp"); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened with wrong key: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed, "alice/totp"); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered value opened: %v", err)
	}
	if _, err := k.Open([]byte{1, 2}, "alice/totp"); !errors.Is(err, ErrOpen) {
		t.Fatalf("short value: %v", err)
	}
}

func TestShortKeyRefused(t *testing.T) {
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestDerivedKeysDiffer(t *testing.T) {
	k := testKeys(t, "0123456789abcdef0123456789abcdef")
	if bytes.Equal(k.CSRFKey(), k.CookieHashKey()[:32]) {
		t.Fatal("csrf and cookie keys are equal")
	}
	if bytes.Equal(k.HashCode("recovery", "x"), k.HashCode("app", "x")) {
		t.Fatal("purpose not bound into code hash")
	}
}

func TestKeyFileCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "storage.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: created=%v err=%v same=%v", created, err, bytes.Equal(k1, k2))
	}
	if err := os.WriteFile(path, []byte("tiny"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("short key file accepted")
	}
}

// TestFingerprint: the same key gives the same fingerprint, another key
// another one, and the fingerprint holds nothing of the key.
func TestFingerprint(t *testing.T) {
	k1 := []byte("fingerprint-test-key-one-0123456789abcdef")
	a, _ := New(k1)
	b, _ := New(append([]byte(nil), k1...))
	c, _ := New([]byte("fingerprint-test-key-two-0123456789abcdef"))
	if a.Fingerprint() != b.Fingerprint() || a.Fingerprint() == c.Fingerprint() || len(a.Fingerprint()) != 3+64 {
		t.Fatalf("fingerprints %q %q %q", a.Fingerprint(), b.Fingerprint(), c.Fingerprint())
	}
	if strings.Contains(a.Fingerprint(), hex.EncodeToString(k1[:8])) || strings.Contains(a.Fingerprint(), string(k1[:8])) {
		t.Fatal("the fingerprint shows the key")
	}
}

// TestReadKeyFileWritesNothing: reading a key file that does not exist
// creates neither it nor its folder; CreateKeyFile then writes the key
// given, and keeps a file that exists (handing back what it holds).
func TestReadKeyFileWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	path := filepath.Join(dir, "storage.key")
	if _, ok, err := ReadKeyFile(path); err != nil || ok {
		t.Fatalf("ReadKeyFile of no file: ok=%v err=%v", ok, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadKeyFile created the folder (stat: %v)", err)
	}
	k1, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	stored, created, err := CreateKeyFile(path, k1)
	if err != nil || !created || !bytes.Equal(stored, k1) {
		t.Fatalf("CreateKeyFile: created=%v err=%v same=%v", created, err, bytes.Equal(stored, k1))
	}
	k2, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	stored, created, err = CreateKeyFile(path, k2)
	if err != nil || created || !bytes.Equal(stored, k1) {
		t.Fatalf("CreateKeyFile over a key file: created=%v err=%v kept=%v", created, err, bytes.Equal(stored, k1))
	}
	got, ok, err := ReadKeyFile(path)
	if err != nil || !ok || !bytes.Equal(got, k1) {
		t.Fatalf("ReadKeyFile: ok=%v err=%v same=%v", ok, err, bytes.Equal(got, k1))
	}
}
