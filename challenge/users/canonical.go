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

// indexer builds an index and refuses two users answering to one key.
type indexer struct {
	opts   Options
	idx    index
	claims map[string]claim
}

func newIndexer(opts Options) *indexer {
	x := &indexer{opts: opts, claims: map[string]claim{}}
	if opts.CaseInsensitive {
		x.idx.byName = map[string]string{}
	}
	if opts.SearchEmail {
		x.idx.byEmail = map[string]string{}
	}
	return x
}

// add registers a user's name (line nameLine) and email (line mailLine).
func (x *indexer) add(name string, nameLine int, email string, mailLine int) error {
	if !x.opts.CaseInsensitive && !x.opts.SearchEmail {
		return nil
	}
	nameKey := name
	if x.opts.CaseInsensitive {
		nameKey = fold(name)
		x.idx.byName[nameKey] = name
	}
	if err := x.claim(nameKey, claim{name, nameLine, "name"}); err != nil {
		return err
	}
	if x.opts.SearchEmail && email != "" {
		k := fold(email)
		x.idx.byEmail[k] = name
		if err := x.claim(k, claim{name, mailLine, "email"}); err != nil {
			return err
		}
	}
	return nil
}

func (x *indexer) claim(key string, c claim) error {
	if was, ok := x.claims[key]; ok && was.user != c.user {
		return fmt.Errorf("line %d: the %s of user %q and line %d: the %s of user %q are the same once normalised (%q): one sign-in name would stand for two users",
			was.line, was.what, was.user, c.line, c.what, c.user, key)
	}
	x.claims[key] = c
	return nil
}

// Canonical is the user name the name typed at sign-in stands for: the
// exact name of a user, or with case_insensitive the user whose name is
// the same after NFKC and case folding, or with search_email the user
// whose email is (compared folded). When no user matches it is the typed
// name normalised the same way, so that unknown names are limited and
// locked out under one key whatever their case. It is what the upstream
// gets and what limits and lockouts count.
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
	return k
}
