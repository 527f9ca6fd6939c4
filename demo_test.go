package caddymfa_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-mfa/caddy-mfa"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// demoListeners adapts Caddyfile.example (with the environment as set) and
// returns every listener address of its HTTP servers.
func demoListeners(t *testing.T) []string {
	t.Helper()
	body, err := os.ReadFile("Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(body, map[string]any{"filename": "Caddyfile.example"})
	if err != nil {
		t.Fatalf("adapting Caddyfile.example: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("Caddyfile.example: %s:%d: %s", w.File, w.Line, w.Message)
	}
	var cfg struct {
		Admin struct {
			Listen string `json:"listen"`
		} `json:"admin"`
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string `json:"listen"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	if a := cfg.Admin.Listen; a != "" && !strings.HasPrefix(a, "localhost:") && !strings.HasPrefix(a, "127.0.0.1:") {
		t.Errorf("the admin API listens on %q, not on the loopback interface", a)
	}
	var all []string
	for _, s := range cfg.Apps.HTTP.Servers {
		all = append(all, s.Listen...)
	}
	return all
}

// TestDemoBindsLoopback: the demo, whose password is published, listens on
// 127.0.0.1 only, on port 8080 unless PORT says otherwise.
func TestDemoBindsLoopback(t *testing.T) {
	for _, tc := range []struct{ port, want string }{{"", "127.0.0.1:8080"}, {"9090", "127.0.0.1:9090"}} {
		t.Setenv("PORT", tc.port)
		if tc.port == "" {
			os.Unsetenv("PORT")
		}
		got := demoListeners(t)
		if len(got) == 0 {
			t.Fatal("Caddyfile.example has no servers")
		}
		for _, l := range got {
			if !strings.HasPrefix(l, "127.0.0.1:") && !strings.HasPrefix(l, "tcp/127.0.0.1:") {
				t.Errorf("PORT=%q: a server listens on %q, beyond the loopback interface", tc.port, l)
			}
		}
		if !slices.ContainsFunc(got, func(l string) bool { return strings.HasSuffix(l, tc.want) }) {
			t.Errorf("PORT=%q: the gateway listens on %q, want %s", tc.port, got, tc.want)
		}
	}
}

// TestDemoUsers: the demo users file has a user in staff (who reaches the
// demo app) and one outside it (who meets the 403 page).
func TestDemoUsers(t *testing.T) {
	b, err := os.ReadFile("demo/users.yml")
	if err != nil {
		t.Fatal(err)
	}
	us, err := users.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var in, out int
	for _, u := range us {
		if slices.Contains(u.Groups, "staff") {
			in++
		} else {
			out++
		}
	}
	if in == 0 || out == 0 {
		t.Fatalf("demo users: %d in staff, %d outside; want both", in, out)
	}
}

// TestXcaddyScript: xcaddy.sh parses, runs the demo on $PORT and says how
// to start over.
func TestXcaddyScript(t *testing.T) {
	if out, err := exec.Command("bash", "-n", "xcaddy.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n xcaddy.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile("xcaddy.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"PORT", "127.0.0.1:${PORT}", "localhost:${PORT}", ".demo-data"} {
		if !strings.Contains(s, want) {
			t.Errorf("xcaddy.sh lacks %q", want)
		}
	}
}
