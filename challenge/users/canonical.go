package users

import (
	"fmt"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// maxTypedBytes bounds the name Canonical normalises: longer ones (no
// user's) are returned as typed, and LimitKey cuts them.
const maxTypedBytes = 1024

// fold is s after NFKC and Unicode case folding (and NFKC again, as case
// folding can undo it): "Ａｌｉｃｅ", "ALICE" and "alice" are one.
func fold(s string) string {
	// A Caser keeps state: one per call, never shared between goroutines.
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}

// index finds users by folded name (case_insensitive) and by folded email
// (search_email).
type index struct {
	byName, byEmail map[string]string
}

// claim is a key a user answers to, with the line that gave it.
type claim struct {
	user string
	line int
	what string // "name" or "email"
}

// indexer builds an index and refuses two users answering to one key:
// with case_insensitive two names one once folded; with search_email two
// emails, or a name and another user's email, one once folded (the email
// is compared folded, so a spelling of the name would reach the other
// user).
type indexer struct {
	opts Options
	idx  index
	// names and emails are the claims of folded names and emails.
	names, emails map[string]claim
}

func newIndexer(opts Options) *indexer {
	x := &indexer{opts: opts, names: map[string]claim{}, emails: map[string]claim{}}
	if opts.CaseInsensitive {
		x.idx.byName = map[string]string{}
	}
	if opts.SearchEmail {
		x.idx.byEmail = map[string]string{}
	}
	return x
}

// add registers a user's name (line nameLine) and email (line mailLine).
// Users left out by on_bad_hash skip are added too: their spellings reach
// themselves, and collisions with them are refused.
func (x *indexer) add(name string, nameLine int, email string, mailLine int) error {
	if !x.opts.CaseInsensitive && !x.opts.SearchEmail {
		return nil
	}
	nk := fold(name)
	nc := claim{name, nameLine, "name"}
	if x.opts.CaseInsensitive {
		if err := collide(x.names, nk, nc); err != nil {
			return err
		}
		x.idx.byName[nk] = name
	}
	if !x.opts.SearchEmail {
		return nil
	}
	if err := check(x.emails, nk, nc); err != nil {
		return err
	}
	x.names[nk] = nc
	if email == "" {
		return nil
	}
	ek := fold(email)
	ec := claim{name, mailLine, "email"}
	if err := check(x.names, ek, ec); err != nil {
		return err
	}
	if err := collide(x.emails, ek, ec); err != nil {
		return err
	}
	x.idx.byEmail[ek] = name
	return nil
}

// collide refuses key if another user claims it in m, else records c.
func collide(m map[string]claim, key string, c claim) error {
	if err := check(m, key, c); err != nil {
		return err
	}
	m[key] = c
	return nil
}

// check refuses key if another user claims it in m.
func check(m map[string]claim, key string, c claim) error {
	if was, ok := m[key]; ok && was.user != c.user {
		return fmt.Errorf("line %d: the %s of user %q and line %d: the %s of user %q are the same once normalised (%q): one sign-in name would stand for two users",
			was.line, was.what, was.user, c.line, c.what, c.user, key)
	}
	return nil
}

// Canonical is the user name the name typed at sign-in stands for: the
// exact name of a user, or with case_insensitive the user whose name is
// the same after NFKC and case folding, or with search_email the user
// whose email is (the email compared folded; the name folded only with
// case_insensitive). Users left out by on_bad_hash skip count: their
// spellings reach themselves. When no user matches it is the typed name,
// with case_insensitive normalised the same way, so that unknown names are
// limited and locked out under one key whatever their case. It is what
// the upstream gets and what limits and lockouts count.
func (db *DB) Canonical(typed string) string {
	t := db.t.Load()
	if _, ok := t.users[typed]; ok {
		return typed
	}
	if t.idx.byName == nil && t.idx.byEmail == nil || len(typed) > maxTypedBytes {
		return typed
	}
	k := fold(typed)
	if name, ok := t.idx.byName[k]; ok {
		return name
	}
	if name, ok := t.idx.byEmail[k]; ok {
		return name
	}
	if db.opts.CaseInsensitive {
		return k
	}
	return typed
}
