package caddymodule

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// runHashPassword runs the hash-password command with stdin and args.
func runHashPassword(t *testing.T, stdin string, args ...string) (stdout string, err error) {
	t.Helper()
	c := hashPasswordCommand()
	var out bytes.Buffer
	c.SetIn(strings.NewReader(stdin))
	c.SetOut(&out)
	c.SetErr(io.Discard)
	// Without SetArgs cobra would read os.Args, the test binary's flags.
	if args == nil {
		args = []string{}
	}
	c.SetArgs(args)
	err = c.Execute()
	return out.String(), err
}

func TestHashPasswordCommand(t *testing.T) {
	for _, in := range []string{"s3cret\n", "s3cret\r\n", "s3cret", "s3cret\nsecond line ignored\n"} {
		t.Run(strings.ReplaceAll(strings.ReplaceAll(in, "\n", `\n`), "\r", `\r`), func(t *testing.T) {
			out, err := runHashPassword(t, in)
			if err != nil {
				t.Fatalf("hash-password: %v", err)
			}
			if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("output %q is not one line", out)
			}
			line := strings.TrimSuffix(out, "\n")
			if !strings.HasPrefix(line, "$argon2id$") {
				t.Errorf("output %q is not an argon2id hash", line)
			}
			h, err := users.ParseHash(line)
			if err != nil {
				t.Fatalf("ParseHash(%q): %v", line, err)
			}
			if !h.Matches("s3cret") {
				t.Error("hash does not match s3cret")
			}
			if h.Matches("other") {
				t.Error("hash matches other")
			}
			if h.Matches("s3cret\n") || h.Matches("") {
				t.Error("hash matches the password with its newline, or the empty password")
			}
		})
	}
}

func TestHashPasswordCommandSalted(t *testing.T) {
	a, err := runHashPassword(t, "s3cret\n")
	if err != nil {
		t.Fatal(err)
	}
	b, err := runHashPassword(t, "s3cret\n")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of the same password are equal (%q): no random salt", a)
	}
}

func TestHashPasswordCommandErrors(t *testing.T) {
	tests := []struct {
		name, in string
		args     []string
		want     string
	}{
		{"empty input", "", nil, "empty"},
		{"empty line", "\n", nil, "empty"},
		{"CRLF only", "\r\n", nil, "empty"},
		{"argument given", "s3cret\n", []string{"s3cret"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runHashPassword(t, tc.in, tc.args...)
			if err == nil {
				t.Fatalf("no error; output %q", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			// Cobra prints usage to the configured output on errors; no
			// hash may be printed, though.
			if strings.Contains(out, "$argon2") {
				t.Errorf("output %q has a hash despite the error", out)
			}
		})
	}
}

func TestMFACommandRegistered(t *testing.T) {
	cmd, ok := caddycmd.Commands()["mfa"]
	if !ok {
		t.Fatal(`no "caddy mfa" command registered`)
	}
	if cmd.CobraFunc == nil {
		t.Fatal("mfa command has no CobraFunc")
	}
	parent := &cobra.Command{Use: "mfa"}
	cmd.CobraFunc(parent)
	for _, name := range []string{"hash-password", "users", "unlock", "reset", "bypass", "temporary-pass", "sessions"} {
		sub, _, err := parent.Find([]string{name})
		if err != nil || sub == nil || sub.Name() != name {
			t.Errorf("mfa has no %s subcommand (found %v, err %v)", name, sub, err)
		}
	}
}

func TestPrintUsers(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	err := printUsers(&buf, []challenge.UserSummary{
		{User: "alice", Methods: []string{"totp", "push"}, LastSignIn: at},
		{User: "bob", Methods: []string{}, Locked: true},
		{User: "carol", Disabled: true, Methods: []string{"sms", "voice"}},
		{User: "dave", Methods: []string{"totp"}, LockedSources: []regulation.SourceLock{regulation.LockedAddresses, regulation.LockedUnfamiliar}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "USER              METHODS    LOCKED                              LAST SIGN-IN\n" +
		"alice             totp,push  no                                  2026-11-25T09:30:00Z\n" +
		"bob               (none)     yes                                 never\n" +
		"carol (disabled)  sms,voice  no                                  never\n" +
		"dave              totp       some addresses, unfamiliar sources  never\n"
	if buf.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestBypassCommandRefusesLongPasses(t *testing.T) {
	for _, d := range []string{"2h", "0s", "61m", "soon"} {
		c := bypassCommand()
		c.SetArgs([]string{"alice", d, "--address", "127.0.0.1:1"})
		c.SetOut(io.Discard)
		c.SetErr(io.Discard)
		err := c.Execute()
		if err == nil || !strings.Contains(err.Error(), "at most 1h") {
			t.Errorf("bypass alice %s: %v, want a refusal naming the limit", d, err)
		}
	}
}

// runTemporaryPass runs the temporary-pass command against an address
// where no gateway listens: a flag refused before any request says so,
// one accepted ends at the connection.
func runTemporaryPass(t *testing.T, args ...string) error {
	t.Helper()
	c := temporaryPassCommand()
	c.SetArgs(append(args, "--address", "127.0.0.1:1"))
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	return c.Execute()
}

func TestTemporaryPassCommandChecksFlagsFirst(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"alice", "--for", "25h"}, "at most 24h"},
		{[]string{"alice", "--for", "0s"}, "more than 0"},
		{[]string{"alice", "--for", "soon"}, "a duration such as 8h"},
		{[]string{"alice", "--uses", "0"}, "from 1 to 10"},
		{[]string{"alice", "--uses", "11"}, "from 1 to 10"},
		{[]string{"alice", "--uses", "two"}, `invalid argument "two"`},
		{[]string{"alice", "--revoke", "--for", "1h"}, "takes no --for or --uses"},
		{[]string{"alice", "--revoke", "--uses", "2"}, "takes no --for or --uses"},
		{[]string{}, "accepts 1 arg"},
		{[]string{"alice", "bob"}, "accepts 1 arg"},
	} {
		err := runTemporaryPass(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("temporary-pass %q: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	// Good flags get as far as the admin API.
	for _, args := range [][]string{{"alice"}, {"alice", "--for", "24h", "--uses", "10"}, {"alice", "--for", "1d"}, {"alice", "--revoke"}, {"alice", "--json"}} {
		if err := runTemporaryPass(t, args...); err == nil || !strings.Contains(err.Error(), "is the gateway running?") {
			t.Errorf("temporary-pass %q: %v, want the admin API not reached", args, err)
		}
	}
}

func TestTemporaryPassCommandPath(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"alice"}, "/mfa/temporary-pass/alice?for=8h0m0s&uses=1"},
		{[]string{"a b/c", "--for", "90m", "--uses", "3"}, "/mfa/temporary-pass/a%20b%2Fc?for=1h30m0s&uses=3"},
		{[]string{"alice", "--revoke"}, "/mfa/temporary-pass/revoke/alice"},
	} {
		c := temporaryPassCommand()
		if err := c.ParseFlags(tc.args[1:]); err != nil {
			t.Fatal(err)
		}
		got, err := temporaryPassPath(c, tc.args[0])
		if err != nil || got != tc.want {
			t.Errorf("%q: path %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestPrintTemporaryPass(t *testing.T) {
	exp := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		uses int
		want string
	}{
		{1, "Temporary access pass for alice: k7fq-2mzp-x9ab-4tnc\nValid until 2026-12-01T20:00:00Z for 1 sign-in. Give it to the user by a channel you trust; it is shown only this once.\n"},
		{3, "Temporary access pass for alice: k7fq-2mzp-x9ab-4tnc\nValid until 2026-12-01T20:00:00Z for 3 sign-ins. Give it to the user by a channel you trust; it is shown only this once.\n"},
	} {
		var buf bytes.Buffer
		if err := printTemporaryPass(&buf, adminResult{User: "alice", TemporaryPass: "k7fq-2mzp-x9ab-4tnc", Expires: &exp, Uses: &tc.uses}); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tc.want {
			t.Errorf("printed %q, want %q", buf.String(), tc.want)
		}
	}
	var buf bytes.Buffer
	revoked := true
	if err := printTemporaryPass(&buf, adminResult{User: "alice", TemporaryPassRevoked: &revoked}); err != nil || !strings.Contains(buf.String(), "Revoked the temporary access pass of alice") {
		t.Errorf("revoke printed %q, %v", buf.String(), err)
	}
	if err := printTemporaryPass(io.Discard, adminResult{User: "alice"}); err == nil {
		t.Error("an answer without a pass printed as one")
	}
}

// An error answer of the gateway reads as its message, not as raw JSON
// nor as a gateway that is not running.
func TestAdminRefusal(t *testing.T) {
	got, ok := adminRefusal(errors.New(`caddy responded with error: HTTP 404: {"error":"no such user \"mallory\", or the user is disabled"}` + "\n"))
	if want := `the gateway refused (HTTP 404): no such user "mallory", or the user is disabled`; !ok || got.Error() != want {
		t.Errorf("adminRefusal = %v, %v; want %q", got, ok, want)
	}
	for _, err := range []error{nil, errors.New("performing request: dial tcp 127.0.0.1:1: connection refused"),
		errors.New("caddy responded with error: HTTP 502: bad gateway"), errors.New(`caddy responded with error: HTTP 500: {"other":1}`)} {
		if got, ok := adminRefusal(err); ok {
			t.Errorf("adminRefusal(%v) = %v, want no refusal", err, got)
		}
	}
}
