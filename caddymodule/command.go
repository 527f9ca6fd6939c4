package caddymodule

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "mfa",
		Short: "Administer caddy-mfa (hash passwords for the users file)",
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(hashPasswordCommand())
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
