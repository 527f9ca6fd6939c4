package e2e

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// `caddy validate` and `caddy adapt` have no side effects: beside a
// running gateway (whose accounts file is locked) they neither wait for
// the lock, nor write a file, nor open a connection to Redis or LDAP;
// for a config never started, they create no data dir.

// offlineCommandTime is the most a `caddy validate` or `caddy adapt` of
// these configs may take: bbolt's wait for a locked file is 5 s.
const offlineCommandTime = 3 * time.Second

// offlineCaddy runs `caddy <cmd> --config <g's Caddyfile> --adapter
// caddyfile` with the gateway's own data and config homes, as an operator
// would on the machine the gateway runs on, and fails t unless it exits 0
// within offlineCommandTime. It returns the output.
func offlineCaddy(t *testing.T, g *gateway, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, caddyBin, cmd, "--config", g.config, "--adapter", g.adapter)
	c.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(g.dir, "xdg-data"), "XDG_CONFIG_HOME="+filepath.Join(g.dir, "xdg-config"))
	start := time.Now()
	out, err := c.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("caddy %s: %v after %v:\n%s", cmd, err, took, tail(string(out), 3000))
	}
	if took > offlineCommandTime {
		t.Errorf("caddy %s took %v, want under %v:\n%s", cmd, took, offlineCommandTime, tail(string(out), 3000))
	}
	return string(out)
}

// snapshot lists every file and folder under dir with its size, mode and
// time of change ("" if dir does not exist).
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel + " " + fi.Mode().String() + " " + fi.ModTime().Format(time.RFC3339Nano) + " " + strconv.FormatInt(fi.Size(), 10) + "\n")
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b.String()
}

// expectUnchanged fails t if dir changed since before was taken.
func expectUnchanged(t *testing.T, what, dir, before string) {
	t.Helper()
	if after := snapshot(t, dir); after != before {
		t.Errorf("%s changed %s:\nbefore:\n%s\nafter:\n%s", what, dir, before, after)
	}
}

// silentListener accepts connections on a loopback port, counts them and
// never answers: a server a command that connects would wait for.
func silentListener(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int64)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), accepted
}

// TestValidateBesideARunningGateway: with a gateway running on the
// embedded stores (its storage key generated into the data dir), `caddy
// validate` and `caddy adapt` of its Caddyfile succeed at once and leave
// the data dir, and Caddy's own data and config folders, as they were;
// the gateway's sessions are untouched.
func TestValidateBesideARunningGateway(t *testing.T) {
	g := writeGateway(t, gatewayOpts{}, "")
	g.start()
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	expectStatus(t, b.get("/app"), http.StatusOK)
	if _, err := os.Stat(filepath.Join(g.DataDir, "storage.key")); err != nil {
		t.Fatalf("the running gateway generated no storage key: %v", err)
	}
	// Let the journal write what the sign-in left (store.FlushEvery).
	time.Sleep(2 * time.Second)
	before := snapshot(t, g.dir)

	if out := offlineCaddy(t, g, "validate"); !strings.Contains(out, "Valid configuration") {
		t.Errorf("caddy validate did not say the config is valid:\n%s", tail(out, 3000))
	}
	expectUnchanged(t, "caddy validate", g.dir, before)
	if out := offlineCaddy(t, g, "adapt"); !strings.Contains(out, `"mfa"`) {
		t.Errorf("caddy adapt printed no mfa app:\n%s", tail(out, 3000))
	}
	expectUnchanged(t, "caddy adapt", g.dir, before)

	// The gateway serves on, and the session it had still works.
	expectStatus(t, b.get("/app"), http.StatusOK)
}

// TestValidateNeverStartedConfig: `caddy validate` and `caddy adapt` of a
// config that never ran create no data dir (no storage key, no accounts
// file).
func TestValidateNeverStartedConfig(t *testing.T) {
	g := writeGateway(t, gatewayOpts{}, "")
	offlineCaddy(t, g, "validate")
	offlineCaddy(t, g, "adapt")
	if s := snapshot(t, g.DataDir); s != "" {
		t.Errorf("a config never started has a data dir after validate and adapt:\n%s", s)
	}
}

// TestValidateContactsNoServer: `caddy validate` of a config on Redis or
// LDAP connects to neither: with nothing listening on Redis's port it
// succeeds at once and says nothing of Redis being unreachable; with a
// Redis and an LDAP server that accept and never answer, neither is
// connected to.
func TestValidateContactsNoServer(t *testing.T) {
	t.Run("redis nothing listens", func(t *testing.T) {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
		g := writeGateway(t, gatewayOpts{global: "redis {\n url redis://" + addr + "/0\n timeout 2s\n }"}, testStorageKey)
		out := offlineCaddy(t, g, "validate")
		for _, s := range []string{"not reachable", "connection refused", "dial tcp"} {
			if strings.Contains(out, s) {
				t.Errorf("caddy validate tried to reach Redis (%q):\n%s", s, tail(out, 3000))
			}
		}
		offlineCaddy(t, g, "adapt")
		if s := snapshot(t, g.DataDir); s != "" {
			t.Errorf("caddy validate on Redis wrote into the data dir:\n%s", s)
		}
	})
	t.Run("redis and ldap silent", func(t *testing.T) {
		redisAddr, redisConns := silentListener(t)
		ldapAddr, ldapConns := silentListener(t)
		g := writeGateway(t, gatewayOpts{global: "redis {\n url redis://" + redisAddr + "/0\n timeout 2s\n }"}, testStorageKey)
		cf, err := os.ReadFile(g.config)
		if err != nil {
			t.Fatal(err)
		}
		ldap := "ldap {\n\t\t\turl ldap://" + ldapAddr + "\n\t\t\tbind_dn cn=gw,dc=example,dc=com\n\t\t\tbind_password pw\n\t\t\tbase_dn dc=example,dc=com\n\t\t\ttimeout 2s\n\t\t}"
		s := strings.Replace(string(cf), "users_file "+g.UsersFile, ldap, 1)
		if err := os.WriteFile(g.config, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		offlineCaddy(t, g, "validate")
		offlineCaddy(t, g, "adapt")
		// Give a connection made at the end of the command time to be
		// counted.
		time.Sleep(100 * time.Millisecond)
		if n := redisConns.Load(); n != 0 {
			t.Errorf("caddy validate or adapt connected to Redis %d times", n)
		}
		if n := ldapConns.Load(); n != 0 {
			t.Errorf("caddy validate or adapt connected to LDAP %d times", n)
		}
		if s := snapshot(t, g.DataDir); s != "" {
			t.Errorf("caddy validate wrote into the data dir:\n%s", s)
		}
	})
}

// TestConfigReloadKeepsSessions: a config reload (`caddy reload` with a
// changed Caddyfile) shares the open stores of the config it replaces: a
// signed-in browser stays signed in, from the first request after the
// reload on, the new config is in force, and a second sign-in reads the
// account registered before. On the embedded stores (whose accounts file
// the new config must not try to open again) and on Redis.
func TestConfigReloadKeepsSessions(t *testing.T) {
	for _, backend := range []string{"embedded", "redis"} {
		t.Run(backend, func(t *testing.T) {
			o, key := gatewayOpts{}, ""
			if backend == "redis" {
				o.global, _, _ = redisGlobal(t, redistest.Addr())
				key = testStorageKey
			}
			g := writeGateway(t, o, key)
			g.start()
			b := g.newBrowser()
			e := b.firstSignIn("alice", "/")
			expectStatus(t, b.get("/app"), http.StatusOK)

			cf, err := os.ReadFile(g.config)
			if err != nil {
				t.Fatal(err)
			}
			changed := strings.Replace(string(cf), `organization "E2E Corp"`, `organization "E2E Reloaded"`, 1)
			if err := os.WriteFile(g.config, []byte(changed), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(caddyBin, "reload", "--config", g.config, "--adapter", g.adapter).CombinedOutput(); err != nil {
				t.Fatalf("caddy reload: %v\n%s", err, out)
			}
			// At once: no request is refused while the new config starts.
			expectStatus(t, b.get("/app"), http.StatusOK)
			if r := g.newBrowser().get("/.mfa/login"); !strings.Contains(r.Body, "E2E Reloaded") {
				t.Errorf("the reloaded config is not in force: the sign-in page does not show the new organization:\n%s", tail(r.Body, 1500))
			}
			expectRedirect(t, g.newBrowser().secondSignIn("alice", e, "/", 1), "/")
			if l := g.log.String(); strings.Contains(l, "accounts.db: timeout") || strings.Contains(l, "not open") {
				t.Errorf("the reload tried to open the accounts file again:\n%s", tail(l, 3000))
			}
		})
	}
}
