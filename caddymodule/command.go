package caddymodule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caddyserver/caddy/v2"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "mfa",
		Short: "Administer caddy-mfa: hash passwords, list, unlock, reset and let in users, issue temporary access passes, end sessions",
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(hashPasswordCommand(), usersCommand(), unlockCommand(), resetCommand(), bypassCommand(), temporaryPassCommand(), sessionsCommand(), testLDAPCommand())
		},
	})
}

func hashPasswordCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "hash-password",
		Short: "Print an argon2id hash of a password for the users file",
		Long: `Reads a password and prints its argon2id hash, for the password field of
the users file. On a terminal the password is read twice without echo;
otherwise the first line of standard input is used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			h, err := users.HashPassword(pw, users.DefaultArgon2)
			if err != nil {
				return fmt.Errorf("hashing password: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), h)
			return err
		},
	}
	return c
}

// readPassword reads without echo from a terminal (asking twice), or one
// line from a pipe.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading password: %w", err)
		}
		fmt.Fprint(prompt, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading password: %w", err)
		}
		if !bytes.Equal(a, b) {
			return "", errors.New("the passwords do not match")
		}
		if len(a) == 0 {
			return "", errors.New("the password is empty")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading password: %w", err)
	}
	line = trimNewline(line)
	if line == "" {
		return "", errors.New("the password is empty (pipe it on standard input)")
	}
	return line, nil
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// adminFlags are the flags that find the running gateway's admin endpoint,
// as `caddy reload` and `caddy stop` find it.
func adminFlags(c *cobra.Command) {
	c.Flags().StringP("config", "c", "", "Configuration file the server runs with (its admin address is used)")
	c.Flags().StringP("adapter", "a", "", "Name of the config adapter to apply")
	c.Flags().String("address", "", "Admin API address of the running server (overrides --config)")
}

// adminPost sends an admin action to the running server and prints its answer.
func adminPost(cmd *cobra.Command, path string) error {
	body, err := adminRequest(cmd, http.MethodPost, path)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(body)
	return err
}

// adminRequest sends a request to the running server's admin API and
// returns the answer's body; an error answer is an error.
func adminRequest(cmd *cobra.Command, method, path string) ([]byte, error) {
	configFile, _ := cmd.Flags().GetString("config")
	adapter, _ := cmd.Flags().GetString("adapter")
	address, _ := cmd.Flags().GetString("address")
	addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, configFile, adapter)
	if err != nil {
		return nil, fmt.Errorf("finding the admin API: %w", err)
	}
	resp, err := caddycmd.AdminAPIRequest(addr, method, path, nil, nil)
	if refused, ok := adminRefusal(err); ok {
		return nil, refused
	}
	if err != nil {
		return nil, fmt.Errorf("admin API on %s (is the gateway running?): %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return body, nil
}

// adminRefusalRE is how caddycmd.AdminAPIRequest reports an error answer.
var adminRefusalRE = regexp.MustCompile(`(?s)^caddy responded with error: HTTP (\d{3}): (\{.*\})\s*$`)

// adminRefusal is an error answer of the running gateway as a person
// reads it: its message (the JSON {"error": ...} unwrapped) and status.
// ok is false for any other error (no answer at all).
func adminRefusal(err error) (refused error, ok bool) {
	if err == nil {
		return nil, false
	}
	m := adminRefusalRE.FindStringSubmatch(err.Error())
	if m == nil {
		return nil, false
	}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(m[2]), &body) != nil || body.Error == "" {
		return nil, false
	}
	return fmt.Errorf("the gateway refused (HTTP %s): %s", m[1], body.Error), true
}

func unlockCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "unlock <user>",
		Short: "Lift a user's lockout and forget their failed attempts",
		Long: `Lifts the lockout of a user on the running gateway (all gateways, with
Redis): a fraud block, a lockout after wrong codes, and the locks of every
address and browser after wrong passwords; and forgets their failed attempts
and rate counts. It reads the admin
address from the same configuration as the server (--config), or --address.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return adminPost(cmd, "/mfa/unlock/"+url.PathEscape(args[0]))
		},
	}
	adminFlags(c)
	return c
}

func usersCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "users",
		Short: "List users: their methods, whether they are locked, their last sign-in",
		Long: `Lists every user of the users file as the running gateway knows them: the
second factors they registered, whether a lockout or a fraud block is in
force, and when they last signed in. LOCKED is "yes" when every sign-in of
the user is stopped (a fraud block, a lockout after wrong codes); else it
names the sources of passwords that are locked for the user while others
still sign in: "some addresses" (too many wrong passwords from them),
"unfamiliar sources" (too many from unfamiliar sources in all: only the
user's familiar browsers and addresses still sign in), "familiar browsers".
--json prints the admin API's answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := adminRequest(cmd, http.MethodGet, "/mfa/users")
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			var list []challenge.UserSummary
			if err := json.Unmarshal(body, &list); err != nil {
				return fmt.Errorf("reading the list of users: %w", err)
			}
			return printUsers(cmd.OutOrStdout(), list)
		},
	}
	adminFlags(c)
	c.Flags().Bool("json", false, "Print JSON")
	return c
}

// printUsers writes list as a table.
func printUsers(w io.Writer, list []challenge.UserSummary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tMETHODS\tLOCKED\tLAST SIGN-IN")
	for _, u := range list {
		methods, last, locked := strings.Join(u.Methods, ","), "never", "no"
		if methods == "" {
			methods = "(none)"
		}
		if !u.LastSignIn.IsZero() {
			last = u.LastSignIn.UTC().Format(time.RFC3339)
		}
		switch {
		case u.Locked:
			locked = "yes"
		case len(u.LockedSources) > 0:
			locked = lockedSourcesText(u.LockedSources)
		}
		name := u.User
		if u.Disabled {
			name += " (disabled)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, methods, locked, last)
	}
	return tw.Flush()
}

// lockedSourcesText says which sources of passwords are locked for a user
// (the rest still sign in), as in "unfamiliar sources".
func lockedSourcesText(sources []regulation.SourceLock) string {
	var out []string
	for _, s := range sources {
		switch s {
		case regulation.LockedAddresses:
			out = append(out, "some addresses")
		case regulation.LockedUnfamiliar:
			out = append(out, "unfamiliar sources")
		case regulation.LockedFamiliar:
			out = append(out, "familiar browsers")
		default:
			out = append(out, s.String())
		}
	}
	return strings.Join(out, ", ")
}

func resetCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "reset <user>",
		Short: "Remove every second factor and session of a user, to register again",
		Long: `Removes every second factor and recovery code of a user and ends their
sessions on every gateway: at their next sign-in they register a second
factor again, as on their first. For a user who lost their phone.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return adminPost(cmd, "/mfa/reset/"+url.PathEscape(args[0]))
		},
	}
	adminFlags(c)
	return c
}

func bypassCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "bypass <user> <duration>",
		Short: "Let a user sign in once without the second factor, within at most 1h",
		Long: `Grants a user one sign-in with the password alone, to be used within the
duration (such as 15m; at most 1h): for a user who lost their phone and has no
recovery code at hand. The pass is used up by that sign-in.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := caddy.ParseDuration(args[1])
			if err != nil || d <= 0 || d > challenge.MaxBypass {
				return fmt.Errorf("duration %q: give one such as 15m, at most %v", args[1], challenge.MaxBypass)
			}
			return adminPost(cmd, "/mfa/bypass/"+url.PathEscape(args[0])+"?"+url.Values{"for": {d.String()}}.Encode())
		},
	}
	adminFlags(c)
	return c
}

func sessionsCommand() *cobra.Command {
	c := &cobra.Command{Use: "sessions", Short: "Manage users' sign-in sessions"}
	revoke := &cobra.Command{
		Use:   "revoke [--app-passwords] <user>",
		Short: "End every session of a user, on every gateway",
		Long: `Ends every session of a user, on every gateway, and forgets their
remembered devices. Their app passwords keep working unless --app-passwords
is given: then every one of them is revoked too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/mfa/sessions/revoke/" + url.PathEscape(args[0])
			if all, _ := cmd.Flags().GetBool("app-passwords"); all {
				path += "?app_passwords=revoke"
			}
			return adminPost(cmd, path)
		},
	}
	revoke.Flags().Bool("app-passwords", false, "also revoke every app password of the user")
	adminFlags(revoke)
	c.AddCommand(revoke)
	return c
}
