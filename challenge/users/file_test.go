package users

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestParseAutheliaFile(t *testing.T) {
	alice := mustHash(t, "alice-pw")
	b, err := bcrypt.GenerateFromPassword([]byte("bob-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf(`# Authelia users file
users:
  alice:
    displayname: "Alice Liddell"
    password: "%s"
    email: alice@example.com
    groups:
      - staff
      - admins
  bob:
    disabled: true
    displayname: Bob
    password: '%s'
    email: bob@example.com
    groups: [staff]
  carol:
    password: %s
`, alice, b, alice)
	m, err := Parse([]byte(file))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(m) != 3 {
		t.Fatalf("Parse found %d users, want 3", len(m))
	}

	a := m["alice"]
	if a == nil || a.Name != "alice" || a.DisplayName != "Alice Liddell" || a.Email != "alice@example.com" || a.Disabled {
		t.Fatalf("alice = %+v", a)
	}
	if !slices.Equal(a.Groups, []string{"admins", "staff"}) {
		t.Fatalf("alice's groups = %q, want sorted [admins staff]", a.Groups)
	}
	if a.GroupsHeader() != "admins,staff" {
		t.Fatalf("GroupsHeader = %q, want \"admins,staff\"", a.GroupsHeader())
	}
	if !a.InGroup("staff") || !a.InGroup("admins") || a.InGroup("staf") || a.InGroup("Staff") || a.InGroup("") {
		t.Fatal("InGroup does not match group names exactly")
	}
	if !a.hash.Matches("alice-pw") || a.hash.Matches("bob-pw") {
		t.Fatal("alice's argon2id hash was not read")
	}

	bob := m["bob"]
	if bob == nil || !bob.Disabled || bob.DisplayName != "Bob" || !slices.Equal(bob.Groups, []string{"staff"}) {
		t.Fatalf("bob = %+v", bob)
	}
	if !bob.hash.Matches("bob-pw") {
		t.Fatal("bob's bcrypt hash was not read")
	}

	c := m["carol"]
	if c == nil || c.DisplayName != "" || len(c.Groups) != 0 || c.GroupsHeader() != "" || c.Disabled {
		t.Fatalf("carol = %+v", c)
	}
}

func TestParseEmptyUsersMapping(t *testing.T) {
	m, err := Parse([]byte("users: {}\n"))
	if err != nil || len(m) != 0 {
		t.Fatalf("Parse(users: {}) = %v, %v; want no users and no error", m, err)
	}
}

// Every error says where to look: an operator with a 200-line file needs the line.
func TestParseErrorsNameTheLine(t *testing.T) {
	good := mustHash(t, "pw")
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"not YAML", "users:\n  alice: [\n", []string{"not valid YAML", "line 2"}},
		{"empty file", "", []string{"empty", "users:"}},
		{"only a comment", "# nothing here\n", []string{"empty"}},
		{"top level is a list", "- alice\n- bob\n", []string{"line 1", "mapping"}},
		{"no users key", "# users\npeople:\n  alice:\n    password: x\n", []string{"line 2", "no 'users:' key"}},
		{"users is a list", "users:\n  - alice\n", []string{"line 2", "mapping"}},
		{"users is empty", "users:\n", []string{"line 1"}},
		{"bad hash", "users:\n  alice:\n    displayname: A\n    password: \"$6$salt$hash\"\n", []string{"line 4", `"alice"`, "sha512crypt"}},
		{"md5crypt hash", "users:\n  alice:\n\n    password: \"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/\"\n",
			[]string{"line 4", `"alice"`, "not accepted", "argon2id"}},
		{"no password", "users:\n  alice:\n    email: a@example.com\n", []string{"line 3", `"alice"`, "empty"}},
		{"null user", "users:\n  alice:\n  bob:\n    password: " + good + "\n", []string{"line 2", `"alice"`}},
		{"duplicate", "users:\n  alice:\n    password: " + good + "\n  bob:\n    password: " + good + "\n  alice:\n    password: " + good + "\n",
			[]string{"line 6", `"alice"`, "twice"}},
		{"space in name", "users:\n  alice:\n    password: " + good + "\n  \"bad user\":\n    password: " + good + "\n", []string{"line 4", "bad user"}},
		{"colon in name", "users:\n  \"a:b\":\n    password: " + good + "\n", []string{"line 2"}},
		{"slash in name", "users:\n  a/b:\n    password: " + good + "\n", []string{"line 2"}},
		{"empty name", "users:\n  \"\":\n    password: " + good + "\n", []string{"line 2", "empty user name"}},
		{"groups not a list of strings", "users:\n  alice:\n    password: " + good + "\n    groups: {a: b}\n", []string{"line 3", `"alice"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.file))
			if err == nil {
				t.Fatalf("Parse accepted it: %d users", len(m))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
