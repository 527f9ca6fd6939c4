package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// TestJSONConfig: the same gateway configured in Caddy's JSON.
func TestJSONConfig(t *testing.T) {
	dir := t.TempDir()
	g := &gateway{t: t, dir: dir, DataDir: filepath.Join(dir, "mfa"), UsersFile: filepath.Join(dir, "users.yml"), Upstream: newUpstream(t)}
	if err := os.WriteFile(g.UsersFile, []byte(usersYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	g.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	g.config = filepath.Join(dir, "caddy.json")
	cfg := fmt.Sprintf(`{
  "admin": {"listen": "127.0.0.1:%d"},
  "apps": {
    "mfa": {
      "users_file": %q,
      "data_dir": %q,
      "storage_key": "json-storage-key-0123456789abcdef-0123456789",
      "organization": "JSON Corp",
      "session": {"idle_timeout": "10m", "lifetime": "1h"},
      "totp": {"digits": 6, "period": "30s", "skew": 1}
    },
    "http": {"servers": {"srv0": {
      "listen": ["127.0.0.1:%d"],
      "automatic_https": {"disable": true},
      "routes": [{"handle": [
        {"handler": "mfa", "allow_users": ["alice"]},
        {"handler": "reverse_proxy", "upstreams": [{"dial": %q}]}
      ]}]
    }}}
  }
}`, freePort(t), g.UsersFile, g.DataDir, port, strings.TrimPrefix(g.Upstream.URL, "http://"))
	if err := os.WriteFile(g.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.stop)
	g.start()

	b := g.newBrowser()
	expectRedirect(t, b.get("/x"), "/.mfa/login?rd=%2Fx")
	if login := b.get("/.mfa/login"); !strings.Contains(login.Body, "JSON Corp") {
		t.Fatalf("organization not shown:\n%s", login.Body)
	}
	b.firstSignIn("alice", "/x")
	expectStatus(t, b.get("/x"), http.StatusOK)
	bob := g.newBrowser() // the route refuses him: no registration, a 403 that names him
	expectRedirect(t, bob.login("bob", testPassword, "/x"), "/.mfa/setup")
	expectStatus(t, bob.get("/.mfa/setup"), http.StatusForbidden)
}

// validate runs `caddy validate` on a Caddyfile and returns its output.
func validate(t *testing.T, caddyfile string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(p, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddyBin, "validate", "--config", p, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "xdg"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBadConfigIsAClearStartupError: a malformed users file, a missing
// one, and a bad option stop Caddy with an error that says what to fix.
func TestBadConfigIsAClearStartupError(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "users.yml")
	content := "users:\n  alice:\n    displayname: Alice\n    email: a@example.com\n    password: \"$6$rounds=5000$salt$notsupported\"\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yml")
	if err := os.WriteFile(good, []byte(usersYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, global, want string
	}{
		{"bad hash", "users_file " + bad, "line 5"},
		{"missing users file", "users_file " + filepath.Join(dir, "nope.yml"), "nope.yml"},
		{"no users file", "organization X", "users_file is required"},
		{"unknown method", "users_file " + good + "\n methods sms-by-pigeon", "sms-by-pigeon"},
		{"short key", "users_file " + good + "\n storage_key tooshort", "at least 32"},
		{"bad duration", "users_file " + good + "\n session {\n idle_timeout soon\n }", "not a duration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectRefusedConfig(t, dir, c.global, c.want)
		})
	}
}

// TestHashPasswordCommand: `caddy mfa hash-password` reads standard input
// and prints a hash the users file accepts.
func TestHashPasswordCommand(t *testing.T) {
	cmd := exec.Command(caddyBin, "mfa", "hash-password")
	cmd.Stdin = strings.NewReader("s3cret pass\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	h, err := users.ParseHash(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("output %q is not a hash: %v", out, err)
	}
	if !strings.HasPrefix(string(out), "$argon2id$") || !h.Matches("s3cret pass") || h.Matches("s3cret") {
		t.Fatalf("hash %q does not check out", out)
	}
	empty := exec.Command(caddyBin, "mfa", "hash-password")
	empty.Stdin = strings.NewReader("")
	if msg, err := empty.CombinedOutput(); err == nil || !strings.Contains(string(msg), "empty") {
		t.Fatalf("empty password accepted: %s", msg)
	}
}

// expectRefusedConfig validates, with the built binary, a configuration
// whose global mfa block holds global (and data_dir under dir), and fails
// the test unless it is refused with an error that mentions want.
func expectRefusedConfig(t *testing.T, dir, global, want string) {
	t.Helper()
	out, err := validate(t, fmt.Sprintf("{\n admin off\n mfa {\n data_dir %s\n %s\n }\n}\n:0 {\n mfa\n respond ok\n}\n", filepath.Join(dir, "data"), global))
	if err == nil {
		t.Fatalf("config accepted:\n%s", out)
	}
	if !strings.Contains(out, want) {
		t.Fatalf("error does not mention %q:\n%s", want, out)
	}
}
