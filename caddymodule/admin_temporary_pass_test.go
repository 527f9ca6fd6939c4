package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// tapApp is a provisioned app with alice (with an e-mail address) and a
// disabled carol, mail notices on (never sent: the worker is not started),
// and its security events observed.
func tapApp(t *testing.T) (*App, *observer.ObservedLogs) {
	t.Helper()
	return tapAppWith(t, nil)
}

// tapAppWith is tapApp with the users file read with o.
func tapAppWith(t *testing.T, o *UsersFileOptions) (*App, *observer.ObservedLogs) {
	t.Helper()
	dir := t.TempDir()
	uf := writeUsersFile(t, dir, "users:\n  alice:\n    displayname: Alice\n    password: \""+testHash(t)+"\"\n    email: alice@example.com\n"+
		"  carol:\n    displayname: Carol\n    password: \""+testHash(t)+"\"\n    email: carol@example.com\n    disabled: true\n")
	a := &App{UsersFile: uf, DataDir: filepath.Join(dir, "mfa"), StorageKey: testStorageKey,
		UsersFileOptions: o,
		SMTP:             &SMTPConfig{Address: "127.0.0.1:1", From: "mfa@example.com", TLS: "none"}}
	if err := provision(t, a); err != nil {
		t.Fatal(err)
	}
	if err := a.startEmbedded(); err != nil { // as Start does
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	a.events = events.New(zap.New(core))
	a.events.SetSink(a.notices.sink)
	return a, logs
}

// tapDo runs the admin action of a POST to path.
func tapDo(t *testing.T, a *App, path string) (adminResult, error) {
	t.Helper()
	action, user, ok := parseAdminPath(strings.SplitN(path, "?", 2)[0])
	if !ok {
		t.Fatalf("parseAdminPath(%q) refused it", path)
	}
	return a.adminAction(httptest.NewRequest(http.MethodPost, path, nil), action, user)
}

// expectAPIError checks that err is a caddy.APIError of status whose
// message says want.
func expectAPIError(t *testing.T, what string, err error, status int, want string) {
	t.Helper()
	var apiErr caddy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("%s: error %v (%T), want a caddy.APIError", what, err, err)
	}
	if apiErr.HTTPStatus != status || apiErr.Err == nil || !strings.Contains(apiErr.Err.Error(), want) {
		t.Errorf("%s: %d %v; want %d saying %q", what, apiErr.HTTPStatus, apiErr.Err, status, want)
	}
}

var passRE = regexp.MustCompile(`^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$`)

// An issued pass is answered once, is alice's own, lasts what was asked
// (8h and one sign-in by default), is logged at warn level without the
// pass, and queues a notice for alice that does not hold it either.
func TestAdminTemporaryPassIssued(t *testing.T) {
	a, logs := tapApp(t)
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		d     time.Duration
		uses  int
	}{{"", 8 * time.Hour, 1}, {"?for=90m&uses=3", 90 * time.Minute, 3}, {"?for=1d&uses=10", 24 * time.Hour, 10}} {
		logs.TakeAll()
		before := time.Now().UTC().Truncate(time.Second)
		res, err := tapDo(t, a, "/mfa/temporary-pass/alice"+tc.query)
		if err != nil {
			t.Fatalf("%q: %v", tc.query, err)
		}
		if res.User != "alice" || !passRE.MatchString(res.TemporaryPass) || res.Uses == nil || *res.Uses != tc.uses || res.Expires == nil {
			t.Fatalf("%q: answer %+v", tc.query, res)
		}
		if exp := *res.Expires; exp.Before(before.Add(tc.d)) || exp.After(time.Now().Add(tc.d)) {
			t.Errorf("%q: expires %v, want %v from now", tc.query, exp, tc.d)
		}
		entries := logs.FilterField(zap.String("event", string(events.TemporaryPassIssued))).All()
		if len(entries) != 1 {
			t.Fatalf("%q: %d temporary_pass_issued events", tc.query, len(entries))
		}
		e := entries[0]
		m := e.ContextMap()
		if e.Level != zapcore.WarnLevel || m["user"] != "alice" || m["by"] != "admin" || m["uses"] != int64(tc.uses) ||
			m["for"] != tc.d || m["expires"] != res.Expires.Format(time.RFC3339) {
			t.Errorf("%q: event at %v with %v", tc.query, e.Level, m)
		}
		if s := fmt.Sprint(m); strings.Contains(s, res.TemporaryPass) || strings.Contains(s, strings.ReplaceAll(res.TemporaryPass, "-", "")) {
			t.Errorf("%q: the event holds the pass: %v", tc.query, m)
		}
	}
	// The last pass is alice's own, and works.
	res, err := tapDo(t, a, "/mfa/temporary-pass/alice?uses=1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.engine.UseTemporaryPass(ctx, "alice", res.TemporaryPass); err != nil || got != challenge.PassOK {
		t.Errorf("UseTemporaryPass(alice, the pass answered) = %v, %v", got, err)
	}
	// Every issue queued a notice to alice, none holding a pass.
	o := a.notices.sink.Outbox
	ids, err := o.IDs(ctx)
	if err != nil || len(ids) != 4 {
		t.Fatalf("%d notices queued (%v), want 4", len(ids), err)
	}
	for _, id := range ids {
		raw, err := o.KV.Get(ctx, "notify:n:"+id)
		if err != nil {
			t.Fatalf("notice %s: %v", id, err)
		}
		for _, want := range []string{`"kind":"temporary_pass_issued"`, `"to":"alice@example.com"`, `"until":"20`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("notice %s lacks %s: %s", id, want, raw)
			}
		}
		if regexp.MustCompile(`[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}`).Match(raw) {
			t.Errorf("notice %s holds something like a pass: %s", id, raw)
		}
	}
}

// The user is found as at the sign-in page: with case_insensitive and
// search_email, ALICE and alice's address are alice, and the pass is hers.
func TestAdminTemporaryPassCanonicalUser(t *testing.T) {
	a, _ := tapAppWith(t, &UsersFileOptions{CaseInsensitive: true, SearchEmail: true})
	for _, typed := range []string{"ALICE", "alice@example.com"} {
		res, err := tapDo(t, a, "/mfa/temporary-pass/"+typed)
		if err != nil || res.User != "alice" {
			t.Fatalf("%s: %+v, %v; want alice's pass", typed, res, err)
		}
		if got, err := a.engine.UseTemporaryPass(context.Background(), "alice", res.TemporaryPass); err != nil || got != challenge.PassOK {
			t.Errorf("%s: alice's use of the pass: %v, %v", typed, got, err)
		}
	}
}

// Bad durations and numbers of uses, and unknown parameters, are
// refused with a message that says what to give; nothing is issued.
func TestAdminTemporaryPassBadArguments(t *testing.T) {
	a, logs := tapApp(t)
	for _, tc := range []struct{ query, want string }{
		{"?for=25h", "at most 24h"},
		{"?for=0s", "more than 0"},
		{"?for=-1h", "at most 24h"},
		{"?for=soon", "a duration such as 8h"},
		{"?uses=0", "from 1 to 10"},
		{"?uses=11", "from 1 to 10"},
		{"?uses=two", "from 1 to 10"},
		{"?for=1h&uses=1.5", "from 1 to 10"},
		{"?use=2", `unknown parameter "use"`},
		{"?revoke=1", `unknown parameter "revoke"`},
	} {
		_, err := tapDo(t, a, "/mfa/temporary-pass/alice"+tc.query)
		expectAPIError(t, tc.query, err, http.StatusBadRequest, tc.want)
	}
	if n := logs.FilterField(zap.String("event", string(events.TemporaryPassIssued))).Len(); n != 0 {
		t.Errorf("%d passes issued with bad arguments", n)
	}
}

// No pass for a name that is no user, or a disabled user.
func TestAdminTemporaryPassUnknownOrDisabledUser(t *testing.T) {
	a, logs := tapApp(t)
	for _, user := range []string{"mallory", "carol"} {
		_, err := tapDo(t, a, "/mfa/temporary-pass/"+user)
		expectAPIError(t, user, err, http.StatusNotFound, `no such user "`+user+`", or the user is disabled`)
	}
	if n := logs.FilterField(zap.String("event", string(events.TemporaryPassIssued))).Len(); n != 0 {
		t.Errorf("%d passes issued", n)
	}
}

// A revoke removes the pass; it takes a disabled user too (whose pass
// must not wait for them to be enabled again), and no parameters.
func TestAdminTemporaryPassRevoke(t *testing.T) {
	a, logs := tapApp(t)
	ctx := context.Background()
	res, err := tapDo(t, a, "/mfa/temporary-pass/alice")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := tapDo(t, a, "/mfa/temporary-pass/revoke/alice")
	if err != nil || rev.User != "alice" || rev.TemporaryPassRevoked == nil || !*rev.TemporaryPassRevoked || rev.TemporaryPass != "" {
		t.Fatalf("revoke: %+v, %v", rev, err)
	}
	if got, err := a.engine.UseTemporaryPass(ctx, "alice", res.TemporaryPass); err != nil || got != challenge.PassWrong {
		t.Errorf("the revoked pass: %v, %v", got, err)
	}
	e := logs.FilterField(zap.String("event", string(events.TemporaryPassRevoked))).All()
	if len(e) != 1 || e[0].ContextMap()["user"] != "alice" || e[0].ContextMap()["by"] != "admin" {
		t.Errorf("temporary_pass_revoked events: %v", e)
	}
	if rev, err := tapDo(t, a, "/mfa/temporary-pass/revoke/carol"); err != nil || rev.User != "carol" {
		t.Errorf("revoke for disabled carol: %+v, %v", rev, err)
	}
	_, err = tapDo(t, a, "/mfa/temporary-pass/revoke/alice?for=1h")
	expectAPIError(t, "revoke with a parameter", err, http.StatusBadRequest, "no parameters")
}

// tapDownKV is a store whose writes cannot reach it.
type tapDownKV struct{ store.KV }

func (tapDownKV) Set(context.Context, string, []byte, time.Duration) error {
	return fmt.Errorf("%w: connection refused", store.ErrUnavailable)
}

func (tapDownKV) Delete(context.Context, string) error {
	return fmt.Errorf("%w: connection refused", store.ErrUnavailable)
}

// The store down: 503, and no event says a pass was issued.
func TestAdminTemporaryPassStoreDown(t *testing.T) {
	a, logs := tapApp(t)
	a.engine.KV = tapDownKV{a.engine.KV}
	_, err := tapDo(t, a, "/mfa/temporary-pass/alice")
	expectAPIError(t, "issue", err, http.StatusServiceUnavailable, "connection refused")
	_, err = tapDo(t, a, "/mfa/temporary-pass/revoke/alice")
	expectAPIError(t, "revoke", err, http.StatusServiceUnavailable, "connection refused")
	if n := logs.Len(); n != 0 {
		t.Errorf("%d events with the store down: %v", n, logs.All())
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 8 * time.Hour: "8h", 90 * time.Minute: "1h30m", 45 * time.Minute: "45m", 90 * time.Second: "1m30s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// A directory that accepts and never answers: 503 once its timeout has
// run (well within findUserTimeout), and no pass.
func TestAdminTemporaryPassDirectorySilent(t *testing.T) {
	a, logs := tapApp(t)
	d, err := ldapdir.New(ldapdir.Config{URL: "ldap://" + slapdtest.Silent(t), BindDN: slapdtest.ServiceDN,
		BindPassword: slapdtest.ServicePassword, BaseDN: slapdtest.Suffix, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	a.engine.Users = d
	start := time.Now()
	_, err = tapDo(t, a, "/mfa/temporary-pass/bob")
	expectAPIError(t, "silent directory", err, http.StatusServiceUnavailable, "bob")
	t.Logf("answer: %v", err)
	if took := time.Since(start); took > findUserTimeout {
		t.Errorf("answered after %v", took)
	}
	if n := logs.FilterField(zap.String("event", string(events.TemporaryPassIssued))).Len(); n != 0 {
		t.Errorf("%d passes issued", n)
	}
}
