package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// temporaryPassRE is what `caddy mfa temporary-pass` prints for a person.
var temporaryPassRE = regexp.MustCompile(`^Temporary access pass for (\S+): ([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})\n` +
	`Valid until (\S+) for (\d+) sign-ins?\. Give it to the user by a channel you trust; it is shown only this once\.\n$`)

// issuedPass is a pass as the command printed it.
type issuedPass struct {
	User, Pass string
	Until      time.Time
	Uses       string
}

// issueTemporaryPass runs `caddy mfa temporary-pass` with args and reads
// what it printed.
func (g *gateway) issueTemporaryPass(args ...string) issuedPass {
	g.t.Helper()
	out, err := g.cli(append([]string{"mfa", "temporary-pass"}, args...)...)
	if err != nil {
		g.t.Fatalf("caddy mfa temporary-pass %q: %v\n%s", args, err, out)
	}
	m := temporaryPassRE.FindStringSubmatch(out)
	if m == nil {
		g.t.Fatalf("caddy mfa temporary-pass %q printed:\n%s", args, out)
	}
	until, err := time.Parse(time.RFC3339, m[3])
	if err != nil {
		g.t.Fatalf("valid until %q: %v", m[3], err)
	}
	return issuedPass{User: m[1], Pass: m[2], Until: until, Uses: m[4]}
}

// expectOnlyHashInDataDir checks that the gateway's data dir holds the
// pass record of user (its key "tap:<user>", within the journal's lazy
// flush) and not the pass, with or without its dashes, in either case.
func expectOnlyHashInDataDir(t *testing.T, g *gateway, user, pass string) {
	t.Helper()
	forms := []string{pass, strings.ReplaceAll(pass, "-", ""), strings.ToUpper(pass), strings.ToUpper(strings.ReplaceAll(pass, "-", ""))}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		record := false
		err := filepath.WalkDir(g.DataDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			record = record || strings.Contains(string(b), "tap:"+user)
			for _, f := range forms {
				if strings.Contains(string(b), f) {
					t.Fatalf("%s holds the pass of %s (as %q)", path, user, f)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("reading the data dir: %v", err)
		}
		if record {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the data dir holds no pass record of %s", user)
		}
	}
}

// noticeTo waits for the notice sent to address among the first n
// messages.
func noticeTo(t *testing.T, s *smtptest.Server, n int, address string) smtptest.Parsed {
	t.Helper()
	for i := 1; i <= n; i++ {
		if p := parsed(t, s, i, 10*time.Second); strings.Contains(p.To, "<"+address+">") {
			return p
		}
	}
	t.Fatalf("no notice to %s among %d messages", address, n)
	return smtptest.Parsed{}
}

// expectPassNotice checks the temporary-pass notice p: an administrator
// issued it, until when, and the pass is not in it.
func expectPassNotice(t *testing.T, p smtptest.Parsed, to string, ip issuedPass) {
	t.Helper()
	if p.Subject != "A temporary access pass was issued for your account" || p.To != to {
		t.Errorf("notice %q to %q, want the temporary pass's to %s", p.Subject, p.To, to)
	}
	until := ip.Until.UTC().Format("Monday 2 January 2006, 15:04 UTC")
	for _, part := range []string{p.Text, p.HTML} {
		for _, w := range []string{"An administrator issued a temporary access pass for your E2E Corp account", "until " + until} {
			if !strings.Contains(part, w) {
				t.Errorf("a part of the notice lacks %q:\n%s", w, part)
			}
		}
		if strings.Contains(part, ip.Pass) || strings.Contains(part, strings.ReplaceAll(ip.Pass, "-", "")) {
			t.Errorf("the notice shows the pass:\n%s", part)
		}
	}
}

// TestTemporaryPassAdminUsersFile: `caddy mfa temporary-pass` prints a
// pass for a users-file user, once; the gateway keeps only its hash; the
// log says who got one, for how long, not the pass; the user gets a
// notice without it; unknown and disabled users, and bad flags, are
// refused with a clear message; --revoke removes a pass.
func TestTemporaryPassAdminUsersFile(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startGateway(t, gatewayOpts{global: smtpGlobal(t, s)})

	start := time.Now()
	ip := g.issueTemporaryPass("alice", "--for", "2h", "--uses", "2")
	if ip.User != "alice" || ip.Uses != "2" || ip.Until.Before(start.Add(2*time.Hour-time.Second)) || ip.Until.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("issued %+v, want alice's, for 2 sign-ins until 2h from now", ip)
	}
	// --json: the admin API's answer, with the defaults (8h, 1 sign-in).
	out, err := g.cli("mfa", "temporary-pass", "bob", "--json")
	var res struct {
		User          string    `json:"user"`
		TemporaryPass string    `json:"temporary_pass"`
		Expires       time.Time `json:"expires"`
		Uses          int       `json:"uses"`
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res.User != "bob" || len(res.TemporaryPass) != 19 || res.Uses != 1 ||
		res.Expires.Sub(start) < 8*time.Hour-time.Second || res.Expires.Sub(time.Now()) > 8*time.Hour {
		t.Fatalf("caddy mfa temporary-pass bob --json: %v\n%s", err, out)
	}
	if res.TemporaryPass == ip.Pass {
		t.Fatal("bob got alice's pass")
	}

	// Only a hash is kept: neither the data dir nor the log holds a pass.
	expectOnlyHashInDataDir(t, g, "alice", ip.Pass)
	expectOnlyHashInDataDir(t, g, "bob", res.TemporaryPass)
	lines := g.waitLog("temporary_pass_issued", `"user":"alice"`)
	if len(lines) != 1 {
		t.Fatalf("temporary_pass_issued log lines for alice: %q", lines)
	}
	for _, w := range []string{`"level":"warn"`, `"by":"admin"`, `"uses":2`, `"expires":"` + ip.Until.UTC().Format(time.RFC3339) + `"`} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("the log line lacks %s: %s", w, lines[0])
		}
	}
	for _, p := range []string{ip.Pass, res.TemporaryPass} {
		if strings.Contains(g.log.String(), p) || strings.Contains(g.log.String(), strings.ReplaceAll(p, "-", "")) {
			t.Error("the log holds a pass")
		}
	}

	// Each user is told, without the pass.
	expectPassNotice(t, noticeTo(t, s, 2, "alice@example.com"), `"Alice Example" <alice@example.com>`, ip)
	expectPassNotice(t, noticeTo(t, s, 2, "bob@example.com"), `"Bob Example" <bob@example.com>`,
		issuedPass{User: "bob", Pass: res.TemporaryPass, Until: res.Expires})
	for _, m := range s.Messages() {
		if strings.Contains(string(m.Raw), ip.Pass) || strings.Contains(string(m.Raw), res.TemporaryPass) {
			t.Error("a raw message holds a pass")
		}
	}

	// Refused: no such user, a disabled user, bad flags (before any
	// request: the log has no admin request for them).
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mallory"}, `the gateway refused (HTTP 404): no such user "mallory", or the user is disabled`},
		{[]string{"carol"}, `the gateway refused (HTTP 404): no such user "carol", or the user is disabled`},
		{[]string{"alice", "--for", "25h"}, "--for \"25h\": give a duration such as 8h, more than 0 and at most 24h"},
		{[]string{"alice", "--uses", "11"}, "--uses 11: give a number of sign-ins from 1 to 10"},
		{[]string{"alice", "--revoke", "--uses", "2"}, "--revoke removes the pass: it takes no --for or --uses"},
	} {
		out, err := g.cli(append([]string{"mfa", "temporary-pass"}, tc.args...)...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("caddy mfa temporary-pass %q: %v, want a failure saying %s:\n%s", tc.args, err, tc.want, out)
		}
		if temporaryPassRE.MatchString(out) {
			t.Errorf("caddy mfa temporary-pass %q printed a pass", tc.args)
		}
	}
	if n := len(g.logLines("temporary_pass_issued")); n != 2 {
		t.Errorf("%d passes issued, want 2", n)
	}

	// Revoked.
	out, err = g.cli("mfa", "temporary-pass", "alice", "--revoke")
	if err != nil || out != "Revoked the temporary access pass of alice, if there was one.\n" {
		t.Fatalf("caddy mfa temporary-pass alice --revoke: %v\n%s", err, out)
	}
	if lines := g.waitLog("temporary_pass_revoked", `"user":"alice"`, `"by":"admin"`); len(lines) != 1 {
		t.Errorf("temporary_pass_revoked log lines: %q", lines)
	}
}

// TestTemporaryPassAdminLDAPUserWhoNeverSignedIn: a directory user who has
// never signed in (the gateway has not met them) gets a pass, and the
// notice at the address the directory gives; a name the directory lacks
// gets none.
func TestTemporaryPassAdminLDAPUserWhoNeverSignedIn(t *testing.T) {
	dir := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "e2e-smtp-password"})
	g := startLDAPGateway(t, dir.URL, "", gatewayOpts{global: smtpGlobal(t, s)})
	if out, err := g.cli("mfa", "users"); err != nil || strings.Contains(out, "carol") {
		t.Fatalf("before: caddy mfa users: %v\n%s", err, out)
	}
	ip := g.issueTemporaryPass("carol", "--for", "30m")
	if ip.User != "carol" || ip.Uses != "1" {
		t.Errorf("issued %+v", ip)
	}
	expectOnlyHashInDataDir(t, g, "carol", ip.Pass)
	if lines := g.waitLog("temporary_pass_issued", `"user":"carol"`, `"level":"warn"`); len(lines) != 1 {
		t.Errorf("temporary_pass_issued log lines: %q", lines)
	}
	expectPassNotice(t, parsed(t, s, 1, 10*time.Second), `"Carol Danvers" <carol@example.com>`, ip)

	out, err := g.cli("mfa", "temporary-pass", "nobody")
	if err == nil || !strings.Contains(out, `the gateway refused (HTTP 404): no such user "nobody", or the user is disabled`) {
		t.Errorf("caddy mfa temporary-pass nobody: %v\n%s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d notices, want carol's alone", n)
	}
}
