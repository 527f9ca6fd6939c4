package caddymodule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

func TestUsersFileCaddyfileOptions(t *testing.T) {
	expectGlobalApps(t, []globalCase{
		{name: "one argument, no block", input: "mfa {\n\tusers_file /u.yml\n}", want: App{UsersFile: "/u.yml"}},
		{name: "on_bad_hash skip", input: "mfa {\n\tusers_file /u.yml {\n\t\ton_bad_hash skip\n\t}\n}",
			want: App{UsersFile: "/u.yml", UsersFileOptions: &UsersFileOptions{OnBadHash: "skip"}}},
		{name: "on_bad_hash refuse", input: "mfa {\n\tusers_file /u.yml {\n\t\ton_bad_hash refuse\n\t}\n}",
			want: App{UsersFile: "/u.yml", UsersFileOptions: &UsersFileOptions{OnBadHash: "refuse"}}},
		{name: "on_bad_hash placeholder", input: "mfa {\n\tusers_file /u.yml {\n\t\ton_bad_hash {env.BAD}\n\t}\n}",
			want: App{UsersFile: "/u.yml", UsersFileOptions: &UsersFileOptions{OnBadHash: "{env.BAD}"}}},
		{name: "rehash_on_sign_in", input: "mfa {\n\tusers_file /u.yml {\n\t\trehash_on_sign_in\n\t}\n}",
			want: App{UsersFile: "/u.yml", UsersFileOptions: &UsersFileOptions{RehashOnSignIn: true}}},
		{name: "search_email", input: "mfa {\n\tusers_file /u.yml {\n\t\tsearch_email\n\t}\n}",
			want: App{UsersFile: "/u.yml", UsersFileOptions: &UsersFileOptions{SearchEmail: true}}},
		{name: "case_insensitive", input: "mfa {\n\tusers_file /u.yml {\n\t\tcase_insensitive\n\t}\n}",
			want: App{UsersFile: "/u.yml", UsersFileOptions: &UsersFileOptions{CaseInsensitive: true}}},
		{name: "every option, then other options", input: "mfa {\n\tusers_file {env.USERS} {\n\t\ton_bad_hash skip\n\t\trehash_on_sign_in\n\t\tsearch_email\n\t\tcase_insensitive\n\t}\n\tdata_dir /d\n}",
			want: App{UsersFile: "{env.USERS}", DataDir: "/d", UsersFileOptions: &UsersFileOptions{OnBadHash: "skip", RehashOnSignIn: true, SearchEmail: true, CaseInsensitive: true}}},
	})
	expectGlobalErrors(t, []globalErrorCase{
		{"on_bad_hash maybe", "mfa {\n\tusers_file /u.yml {\n\t\ton_bad_hash maybe\n\t}\n}", []string{`on_bad_hash "maybe"`, "refuse or skip"}},
		{"on_bad_hash without a value", "mfa {\n\tusers_file /u.yml {\n\t\ton_bad_hash\n\t}\n}", []string{"on_bad_hash needs a value"}},
		{"flag with a value", "mfa {\n\tusers_file /u.yml {\n\t\tsearch_email yes\n\t}\n}", []string{"search_email takes no value"}},
		{"unknown option", "mfa {\n\tusers_file /u.yml {\n\t\twatch\n\t}\n}", []string{`unknown users_file option "watch"`}},
		{"two paths", "mfa {\n\tusers_file /a /b {\n\t\tsearch_email\n\t}\n}", []string{"users_file takes one value"}},
	})
}

// users_file stays a string (old JSON configs keep working); the options
// are an object beside it.
func TestUsersFileJSON(t *testing.T) {
	var old App
	if err := json.Unmarshal([]byte(`{"users_file":"/u.yml"}`), &old); err != nil || old.UsersFile != "/u.yml" || old.UsersFileOptions != nil {
		t.Fatalf("old config: %+v, %v", old, err)
	}
	var a App
	in := `{"users_file":"/u.yml","users_file_options":{"on_bad_hash":"skip","rehash_on_sign_in":true,"search_email":true,"case_insensitive":true}}`
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	want := &UsersFileOptions{OnBadHash: "skip", RehashOnSignIn: true, SearchEmail: true, CaseInsensitive: true}
	if !reflect.DeepEqual(a.UsersFileOptions, want) {
		t.Fatalf("users_file_options = %+v", a.UsersFileOptions)
	}
	if out := mustJSON(t, App{UsersFile: "/u.yml"}); strings.Contains(out, "users_file_options") {
		t.Fatalf("an app without options writes %s", out)
	}
}

// The options reach the users file: skip loads the readable users of a file
// with a bad hash (refused without it), search options find users, and a
// bad value is refused at provision.
func TestUsersFileOptionsProvision(t *testing.T) {
	body := "users:\n  Alice:\n    password: \"" + testHash(t) + "\"\n    email: alice@example.com\n  carol:\n    password: \"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/\"\n"
	path := writeUsersFile(t, t.TempDir(), body)
	if err := provision(t, &App{UsersFile: path, DataDir: t.TempDir(), StorageKey: testStorageKey}); err == nil || !strings.Contains(err.Error(), "line 6") {
		t.Fatalf("without on_bad_hash skip: %v; want the line of carol's hash", err)
	}
	t.Setenv("MFA_TEST_BAD_HASH", "skip")
	a := &App{UsersFile: path, DataDir: t.TempDir(), StorageKey: testStorageKey,
		UsersFileOptions: &UsersFileOptions{OnBadHash: "{env.MFA_TEST_BAD_HASH}", SearchEmail: true, CaseInsensitive: true}}
	if err := provision(t, a); err != nil {
		t.Fatalf("with on_bad_hash skip: %v", err)
	}
	db := a.engine.Users.(*users.DB)
	if db.Len() != 1 || db.Canonical("ALICE@example.com") != "Alice" || db.Canonical("alice") != "Alice" {
		t.Fatalf("users %d, Canonical(ALICE@example.com) = %q", db.Len(), db.Canonical("ALICE@example.com"))
	}
	bad := &App{UsersFile: path, DataDir: t.TempDir(), StorageKey: testStorageKey, UsersFileOptions: &UsersFileOptions{OnBadHash: "maybe"}}
	if err := provision(t, bad); err == nil || !strings.Contains(err.Error(), `users_file_options: on_bad_hash "maybe"`) {
		t.Fatalf("on_bad_hash maybe: %v", err)
	}
}
