package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// update rewrites the golden files: go test ./caddymodule -run TestAdaptGolden -update
var update = flag.Bool("update", false, "rewrite testdata/adapt/*.json from the Caddyfiles")

// TestAdaptGolden adapts each testdata/adapt/*.caddyfile as `caddy adapt
// --pretty` does and compares the JSON with its golden file: the providers
// appear as guest modules named by their inline key ("provider" for sms
// and voice, "notifier" for push). The golden JSON is then loaded,
// provisioned and validated as `caddy validate` would, so that the shape
// the adapter writes is one the app reads.
func TestAdaptGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "adapt", "*.caddyfile"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/adapt/*.caddyfile: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".caddyfile"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, err := adapt(t, string(src))
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "\t"); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden := strings.TrimSuffix(file, ".caddyfile") + ".json"
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("adapted %s differs from %s (run with -update after checking):\n%s", file, golden, pretty.Bytes())
			}
			validateGolden(t, want)
		})
	}
}

// validateGolden provisions and validates the config cfg, with the
// placeholders of the testdata set.
func validateGolden(t *testing.T, cfg []byte) {
	t.Helper()
	t.Setenv("MFA_TEST_USERS_FILE", validUsersFile(t))
	t.Setenv("MFA_TEST_DATA_DIR", t.TempDir())
	t.Setenv("MFA_TEST_STORAGE_KEY", testStorageKey)
	t.Setenv("MFA_TEST_TWILIO_TOKEN", "twilio-auth-token")
	t.Setenv("MFA_TEST_NTFY_TOKEN", "tk_abcdefghijklmnopqrstuvwxyz012")
	t.Setenv("MFA_TEST_FRAUD_SECRET", "0123456789abcdef-fraud")
	t.Setenv("MFA_TEST_HOOK_SECRET", "0123456789abcdef-hook")
	var c caddy.Config
	if err := json.Unmarshal(cfg, &c); err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(&c); err != nil {
		t.Fatalf("the adapted config does not load: %v", err)
	}
}
