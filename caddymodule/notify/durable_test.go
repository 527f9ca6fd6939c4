package notify

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// openDurable opens the embedded KV on path as the app does (what
// challenge.PersistKey keeps is kept in the file).
func openDurable(t *testing.T, path string) (*store.MemoryKV, func()) {
	t.Helper()
	bolt, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	j := store.NewJournal(bolt, nil)
	kv, err := store.OpenDurableKV(j, challenge.PersistKey)
	if err != nil {
		t.Fatal(err)
	}
	return kv, func() { _ = j.Close(); _ = bolt.Close() }
}

// The embedded outbox survives a restart: a notice queued while the mail
// server was down is sent by the next process.
func TestEmbeddedOutboxSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.db")
	kv, closeKV := openDurable(t, path)
	n := sampleNotice(RecoveryCodesCreated, "ja")
	if err := (&Outbox{KV: kv}).Enqueue(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	closeKV()

	kv, closeKV = openDurable(t, path)
	t.Cleanup(closeKV)
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	o := &Outbox{KV: kv}
	runWorker(t, fastWorker(o, testMailer(t, s, TLSStartTLS), zap.NewNop()))
	got := decodeMessage(t, s.Wait(t, 1, 3*time.Second)[0])
	if got.MessageID != "<"+n.ID+"@example.com>" || got.Subject != "アカウントの新しい回復コードが作成されました" {
		t.Errorf("after the restart: %q %q", got.MessageID, got.Subject)
	}
}
