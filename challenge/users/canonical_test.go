package users

import (
	"strings"
	"testing"
)

// searchFile has Alice (capital A, alice@Example.com) and bob, Ünal.
func searchFile(t *testing.T) string {
	return "users:\n" +
		"  Alice:\n    password: \"" + mustHash(t, "alice-pw") + "\"\n    email: alice@Example.com\n" +
		"  bob:\n    password: \"" + mustHash(t, "bob-pw") + "\"\n    email: bob@example.com\n" +
		"  Ünal:\n    password: \"" + mustHash(t, "unal-pw") + "\"\n"
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		typed map[string]string // typed → canonical
	}{
		{"no options: names are exact", Options{}, map[string]string{
			"Alice": "Alice", "alice": "alice", "ALICE": "ALICE", "alice@example.com": "alice@example.com", "Zed": "Zed",
		}},
		{"case_insensitive", Options{CaseInsensitive: true}, map[string]string{
			"Alice": "Alice", "alice": "Alice", "ALICE": "Alice", "ａｌｉｃｅ": "Alice", "ＡＬＩＣＥ": "Alice",
			"BOB": "bob", "ünal": "Ünal", "ÜNAL": "Ünal", "U\u0308nal": "Ünal", // decomposed Ü
			"alice@example.com": "alice@example.com",               // not an email search
			"Zed":               "zed", "ZED": "zed", "ｚｅｄ": "zed", // unknown: normalised, one key
		}},
		{"search_email", Options{SearchEmail: true}, map[string]string{
			"Alice": "Alice", "alice@example.com": "Alice", "ALICE@EXAMPLE.COM": "Alice", "bob@example.com": "bob",
			"alice":              "alice",                                                          // names stay exact without case_insensitive
			"nobody@example.com": "nobody@example.com", "NOBODY@example.com": "NOBODY@example.com", // unknown: as typed without case_insensitive
		}},
		{"both", Options{SearchEmail: true, CaseInsensitive: true}, map[string]string{
			"alice": "Alice", "Alice@example.COM": "Alice", "BOB@EXAMPLE.COM": "bob", "Bob": "bob", "Zed@x": "zed@x",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(writeTemp(t, searchFile(t)), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for typed, want := range tt.typed {
				if got := db.Canonical(typed); got != want {
					t.Errorf("Canonical(%q) = %q, want %q", typed, got, want)
				}
			}
		})
	}
}

// The canonical name signs in; the typed one is only a way to find it.
func TestCanonicalSignsIn(t *testing.T) {
	db, err := Open(writeTemp(t, searchFile(t)), Options{SearchEmail: true, CaseInsensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, typed := range []string{"Alice", "alice", "ALICE@example.com"} {
		u := auth(t, db, db.Canonical(typed), "alice-pw")
		if u == nil || u.Name != "Alice" {
			t.Errorf("%q does not sign in as Alice: %v", typed, u)
		}
		if auth(t, db, db.Canonical(typed), "bob-pw") != nil {
			t.Errorf("%q signs in with bob's password", typed)
		}
	}
	// A name longer than any user's is returned as typed, not normalised.
	long := strings.Repeat("A", maxTypedBytes+1)
	if db.Canonical(long) != long {
		t.Error("a name over maxTypedBytes was normalised")
	}
}

// Two users one sign-in name would stand for refuse the file, naming both
// lines.
func TestCanonicalCollisions(t *testing.T) {
	pw := mustHash(t, "pw")
	tests := []struct {
		name string
		opts Options
		file string
		want []string
	}{
		{"names differing in case", Options{CaseInsensitive: true},
			"users:\n  alice:\n    password: " + pw + "\n  Alice:\n    password: " + pw + "\n",
			[]string{"line 2", "line 4", `"alice"`, `"Alice"`}},
		{"fullwidth and ASCII (NFKC)", Options{CaseInsensitive: true},
			"users:\n  bob:\n    password: " + pw + "\n  ｂｏｂ:\n    password: " + pw + "\n",
			[]string{"line 2", "line 4", `"bob"`, `"ｂｏｂ"`}},
		{"German sharp s (case folding)", Options{CaseInsensitive: true},
			"users:\n  straße:\n    password: " + pw + "\n  STRASSE:\n    password: " + pw + "\n",
			[]string{"line 2", "line 4"}},
		{"one email twice", Options{SearchEmail: true},
			"users:\n  a:\n    password: " + pw + "\n    email: x@example.com\n  b:\n    password: " + pw + "\n    email: X@Example.com\n",
			[]string{"line 4", "line 7", "email", `"a"`, `"b"`}},
		{"an email that is another user's name", Options{SearchEmail: true},
			"users:\n  c@example.com:\n    password: " + pw + "\n  d:\n    password: " + pw + "\n    email: c@example.com\n",
			[]string{"line 2", "line 6", `"c@example.com"`, `"d"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(writeTemp(t, tt.file), tt.opts)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// Without the option that makes them collide, they are two users.
			if _, err := Open(writeTemp(t, tt.file), Options{}); err != nil {
				t.Errorf("without options: %v", err)
			}
		})
	}
}

// Lookup, on every signed-in request, stays one map read of the canonical
// name with no allocation, whatever the search options.
func TestLookupDoesNotAllocate(t *testing.T) {
	db, err := Open(writeTemp(t, searchFile(t)), Options{SearchEmail: true, CaseInsensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	var u *User
	if n := testing.AllocsPerRun(1000, func() { u = db.Lookup("Alice") }); n != 0 || u == nil {
		t.Fatalf("Lookup allocates %v times per call (user %v)", n, u)
	}
	if db.Lookup("alice") != nil {
		t.Fatal("Lookup normalises: it must take the canonical name only")
	}
}
