package caddymodule

import (
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// UsersFileOptions change how the users file (App.UsersFile) is read and
// used. Every field is off by default, which reads the file as Authelia's
// file backend does without options. See docs/users-file.md.
type UsersFileOptions struct {
	// OnBadHash says what a user whose password hash cannot be read does
	// to the file: "refuse" (the default) refuses the whole file, so the
	// gateway does not start (and a reload keeps the users read before),
	// naming the line and reason; "skip" leaves that user out and logs a
	// warning naming the line and the user, for migrations.
	OnBadHash string `json:"on_bad_hash,omitempty"`

	// RehashOnSignIn rewrites a weak password hash (bcrypt under cost 10,
	// sha2crypt under 50,000 rounds, pbkdf2 under OWASP's iterations) to
	// argon2id after the user's next successful sign-in, in the users
	// file itself: only that password's bytes change, the file keeps its
	// mode and owner, and nothing is written if the file changed since it
	// was read. The gateway needs write access to the file's directory.
	// Default false.
	RehashOnSignIn bool `json:"rehash_on_sign_in,omitempty"`

	// SearchEmail lets users sign in with their email address as well as
	// their user name, as Authelia's search.email. Emails are compared
	// case-insensitively. Default false.
	SearchEmail bool `json:"search_email,omitempty"`

	// CaseInsensitive compares user names after NFKC normalisation and
	// Unicode case folding, as Authelia's search.case_insensitive: Alice
	// and alice are one user (the name in the file is the one the
	// upstream gets and limits count). Two users whose names (or emails)
	// are the same once normalised refuse the file. Default false.
	CaseInsensitive bool `json:"case_insensitive,omitempty"`
}

// options is o as users.Options, checked.
func (o *UsersFileOptions) options(repl *caddy.Replacer, log *zap.Logger) (users.Options, error) {
	var opts users.Options
	if o != nil {
		opts = users.Options{OnBadHash: repl.ReplaceKnown(o.OnBadHash, ""), RehashOnSignIn: o.RehashOnSignIn,
			SearchEmail: o.SearchEmail, CaseInsensitive: o.CaseInsensitive}
	}
	opts.Logger = log
	if err := opts.Validate(); err != nil {
		return users.Options{}, fmt.Errorf("users_file_options: %w", err)
	}
	return opts, nil
}

// unmarshalUsersFile reads `users_file <path>` and its optional block:
//
//	users_file <path> {
//		on_bad_hash refuse|skip   # default refuse
//		rehash_on_sign_in
//		search_email
//		case_insensitive
//	}
func (a *App) unmarshalUsersFile(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.Err("users_file needs a value (the path of the users file)")
	}
	a.UsersFile = d.Val()
	if d.NextArg() {
		return d.Err("users_file takes one value (the path), and an optional block")
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if a.UsersFileOptions == nil {
			a.UsersFileOptions = new(UsersFileOptions)
		}
		o := a.UsersFileOptions
		flag := func(dst *bool) error {
			if name := d.Val(); d.NextArg() {
				return d.Errf("%s takes no value", name)
			}
			*dst = true
			return nil
		}
		var err error
		switch d.Val() {
		case "on_bad_hash":
			// A placeholder is checked once replaced, in Provision.
			if err = providers.OneArg(d, &o.OnBadHash); err == nil && !strings.HasPrefix(o.OnBadHash, "{") &&
				o.OnBadHash != users.OnBadHashRefuse && o.OnBadHash != users.OnBadHashSkip {
				err = d.Errf("on_bad_hash %q: want refuse or skip", o.OnBadHash)
			}
		case "rehash_on_sign_in":
			err = flag(&o.RehashOnSignIn)
		case "search_email":
			err = flag(&o.SearchEmail)
		case "case_insensitive":
			err = flag(&o.CaseInsensitive)
		default:
			err = d.Errf("unknown users_file option %q (want on_bad_hash, rehash_on_sign_in, search_email or case_insensitive)", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}
