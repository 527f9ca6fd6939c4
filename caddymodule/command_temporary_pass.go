package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/spf13/cobra"

	"github.com/caddy-mfa/caddy-mfa/challenge"
)

func temporaryPassCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "temporary-pass <user> [--for 8h] [--uses 1] [--revoke]",
		Short: "Issue a temporary access pass: a code that stands in for the second factor, to register one",
		Long: `Issues a temporary access pass for a user and prints it, once: the user types
it after their password instead of a second factor, and then registers a
sign-in method (their first, or a new one after losing every method). It is
valid for --for (default 8h, at most 24h) and for --uses sign-ins (default 1,
at most 10). A new pass replaces the user's earlier one. A directory user who
has never signed in gets one too. The user is sent a security notice (without
the pass). Give the pass to the user by a channel you trust.

--revoke removes the user's pass instead. --json prints the admin API's answer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := temporaryPassPath(cmd, args[0])
			if err != nil {
				return err
			}
			body, err := adminRequest(cmd, http.MethodPost, path)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			var res adminResult
			if err := json.Unmarshal(body, &res); err != nil {
				return fmt.Errorf("reading the answer: %w", err)
			}
			return printTemporaryPass(cmd.OutOrStdout(), res)
		},
	}
	c.Flags().String("for", shortDuration(defaultTemporaryPass), "How long the pass is valid (at most "+shortDuration(challenge.MaxTemporaryPass)+")")
	c.Flags().Int("uses", 1, "How many sign-ins the pass serves (1 to "+strconv.Itoa(challenge.MaxTemporaryPassUses)+")")
	c.Flags().Bool("revoke", false, "Remove the user's pass instead of issuing one")
	c.Flags().Bool("json", false, "Print JSON")
	adminFlags(c)
	return c
}

// temporaryPassPath checks the flags, before anything is asked of the
// gateway, and is the admin API path they ask for.
func temporaryPassPath(cmd *cobra.Command, user string) (string, error) {
	f := cmd.Flags()
	if revoke, _ := f.GetBool("revoke"); revoke {
		if f.Changed("for") || f.Changed("uses") {
			return "", errors.New("--revoke removes the pass: it takes no --for or --uses")
		}
		return "/mfa/temporary-pass/revoke/" + url.PathEscape(user), nil
	}
	s, _ := f.GetString("for")
	d, err := caddy.ParseDuration(s)
	if err != nil || d <= 0 || d > challenge.MaxTemporaryPass {
		return "", fmt.Errorf("--for %q: give a duration such as 8h, more than 0 and at most %s", s, shortDuration(challenge.MaxTemporaryPass))
	}
	uses, _ := f.GetInt("uses")
	if uses < 1 || uses > challenge.MaxTemporaryPassUses {
		return "", fmt.Errorf("--uses %d: give a number of sign-ins from 1 to %d", uses, challenge.MaxTemporaryPassUses)
	}
	q := url.Values{"for": {d.String()}, "uses": {strconv.Itoa(uses)}}
	return "/mfa/temporary-pass/" + url.PathEscape(user) + "?" + q.Encode(), nil
}

// printTemporaryPass writes the answer of an issue or a revoke for a
// person.
func printTemporaryPass(w io.Writer, res adminResult) error {
	if res.TemporaryPassRevoked != nil {
		_, err := fmt.Fprintf(w, "Revoked the temporary access pass of %s, if there was one.\n", res.User)
		return err
	}
	if res.TemporaryPass == "" || res.Expires == nil || res.Uses == nil {
		return errors.New("the answer holds no temporary access pass")
	}
	signIns := "sign-ins"
	if *res.Uses == 1 {
		signIns = "sign-in"
	}
	_, err := fmt.Fprintf(w, "Temporary access pass for %s: %s\nValid until %s for %d %s. Give it to the user by a channel you trust; it is shown only this once.\n",
		res.User, res.TemporaryPass, res.Expires.UTC().Format(time.RFC3339), *res.Uses, signIns)
	return err
}
