package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
)

func testLDAPCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "test-ldap --config <file> [--user <name>]",
		Short: "Check the LDAP directory of a configuration and show what the gateway sees of a user",
		Long: `Reads the ldap block of the configuration (placeholders such as
{env.LDAP_PASSWORD} are resolved from this shell's environment), connects to
the directory, binds as the service account and runs one user search. With
--user it prints what the gateway would see of that user: DN, user name,
display name, mail, groups, and whether the directory disables them. No
password is checked; nothing is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			configFile, _ := cmd.Flags().GetString("config")
			adapter, _ := cmd.Flags().GetString("adapter")
			user, _ := cmd.Flags().GetString("user")
			if configFile == "" {
				return errors.New("test-ldap needs --config, the configuration file the server runs with")
			}
			raw, _, _, err := caddycmd.LoadConfig(configFile, adapter)
			if err != nil {
				return fmt.Errorf("loading %s: %w", configFile, err)
			}
			return testLDAP(cmd.Context(), cmd.OutOrStdout(), raw, user)
		},
	}
	c.Flags().StringP("config", "c", "", "Configuration file the server runs with")
	c.Flags().StringP("adapter", "a", "", "Name of the config adapter to apply")
	c.Flags().String("user", "", "A user name to look up, as typed at sign-in")
	return c
}

// testLDAP runs the checks of test-ldap on the JSON config raw.
func testLDAP(ctx context.Context, w io.Writer, raw []byte, user string) error {
	var cfg struct {
		Apps struct {
			MFA *App `json:"mfa"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("reading the configuration: %w", err)
	}
	if cfg.Apps.MFA == nil || cfg.Apps.MFA.LDAP == nil {
		return errors.New("the configuration has no mfa { ldap { ... } } block")
	}
	app := cfg.Apps.MFA
	lc, err := app.LDAP.config(caddy.NewReplacer(), app.Development)
	if err != nil {
		return err
	}
	d, err := ldapdir.New(lc)
	if err != nil {
		return err
	}
	defer d.Close()
	resolved := d.Config()
	if ctx == nil {
		ctx = context.Background()
	}
	fmt.Fprintf(w, "server:         %s (implementation %s, timeout %s, cache_ttl %s)\n", resolved.URL, resolved.Implementation, resolved.Timeout, resolved.CacheTTL)
	if err := d.Check(ctx); err != nil {
		return fmt.Errorf("connection and service bind as %s: %w", resolved.BindDN, err)
	}
	fmt.Fprintf(w, "service bind:   ok (%s)\n", resolved.BindDN)
	fmt.Fprintf(w, "user filter:    %s\n", resolved.UserFilter)
	if resolved.GroupFilter != "" {
		fmt.Fprintf(w, "group filter:   %s\n", resolved.GroupFilter)
	}
	probe := user
	if probe == "" {
		probe = "caddy-mfa-test-ldap-probe"
	}
	f, err := d.Describe(ctx, probe)
	if err != nil {
		return fmt.Errorf("user search: %w", err)
	}
	fmt.Fprintln(w, "user search:    ok")
	if user == "" {
		return nil
	}
	if f == nil {
		return fmt.Errorf("no single entry matches %q under %s (the gateway would refuse it as a wrong password)", user, resolved.BaseDN)
	}
	u := f.User
	fmt.Fprintf(w, "dn:             %s\nuser name:      %s\ndisplay name:   %s\nmail:           %s\ngroups:         %s\ndisabled:       %t\n",
		f.DN, u.Name, u.DisplayName, u.Email, strings.Join(u.Groups, ", "), u.Disabled)
	return nil
}
