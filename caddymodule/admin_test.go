package caddymodule

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestParseAdminPath(t *testing.T) {
	tests := []struct {
		path   string
		action string
		user   string
		ok     bool
	}{
		{"/mfa/unlock/alice", "unlock", "alice", true},
		{"/mfa/users", "users", "", true},
		{"/mfa/users/", "", "", false},
		{"/mfa/reset/alice", "reset", "alice", true},
		{"/mfa/bypass/bob", "bypass", "bob", true},
		{"/mfa/reset/", "", "", false},
		{"/mfa/bypass/a/b", "", "", false},
		{"/mfa/sessions/revoke/bob", "revoke", "bob", true},
		{"/mfa/temporary-pass/alice", "temporary-pass", "alice", true},
		{"/mfa/temporary-pass/revoke/alice", "temporary-pass-revoke", "alice", true},
		{"/mfa/temporary-pass/revoke", "temporary-pass", "revoke", true}, // a user named revoke
		{"/mfa/temporary-pass/", "", "", false},
		{"/mfa/temporary-pass/revoke/", "", "", false},
		{"/mfa/temporary-pass/a/b", "", "", false},
		{"/mfa/temporary-pass/revoke/a/b", "", "", false},
		{"/mfa/unlock/alice@example.com", "unlock", "alice@example.com", true},
		{"/mfa/unlock/", "", "", false},
		{"/mfa/unlock", "", "", false},
		{"/mfa/unlock/a/b", "", "", false},
		{"/mfa/unlock/alice/", "", "", false},
		{"/mfa/other/x", "", "", false},
		{"/mfa/sessions/revoke/", "", "", false},
		{"/mfa/sessions/revoke/a/b", "", "", false},
		{"/mfa/sessions/bob", "", "", false},
		{"/mfa/", "", "", false},
		{"/unlock/alice", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		action, user, ok := parseAdminPath(tc.path)
		if action != tc.action || user != tc.user || ok != tc.ok {
			t.Errorf("parseAdminPath(%q) = %q, %q, %v; want %q, %q, %v", tc.path, action, user, ok, tc.action, tc.user, tc.ok)
		}
	}
}

func TestAdminAPIRoutes(t *testing.T) {
	routes := adminAPI{}.Routes()
	if len(routes) != 1 || routes[0].Pattern != "/mfa/" || routes[0].Handler == nil {
		t.Fatalf("routes = %+v, want one on /mfa/", routes)
	}
	if id := (adminAPI{}).CaddyModule().ID; id != "admin.api.mfa" {
		t.Errorf("module ID %q, want admin.api.mfa", id)
	}
}

func TestAdminAPIServeErrors(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		status int
	}{
		{"GET unlock", http.MethodGet, "/mfa/unlock/alice", http.StatusMethodNotAllowed},
		{"DELETE revoke", http.MethodDelete, "/mfa/sessions/revoke/alice", http.StatusMethodNotAllowed},
		{"GET unknown", http.MethodGet, "/mfa/other/x", http.StatusNotFound},
		{"GET reset", http.MethodGet, "/mfa/reset/alice", http.StatusMethodNotAllowed},
		{"GET bypass", http.MethodGet, "/mfa/bypass/alice?for=10m", http.StatusMethodNotAllowed},
		{"GET temporary pass", http.MethodGet, "/mfa/temporary-pass/alice", http.StatusMethodNotAllowed},
		{"DELETE temporary pass", http.MethodDelete, "/mfa/temporary-pass/revoke/alice", http.StatusMethodNotAllowed},
		{"POST users", http.MethodPost, "/mfa/users", http.StatusMethodNotAllowed},
		{"POST unknown action", http.MethodPost, "/mfa/other/x", http.StatusNotFound},
		{"POST unlock without user", http.MethodPost, "/mfa/unlock/", http.StatusNotFound},
		{"POST user with a slash", http.MethodPost, "/mfa/sessions/revoke/a/b", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := adminAPI{}.serve(rec, httptest.NewRequest(tc.method, tc.path, nil))
			var apiErr caddy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want a caddy.APIError", err, err)
			}
			if apiErr.HTTPStatus != tc.status {
				t.Errorf("status %d, want %d (%v)", apiErr.HTTPStatus, tc.status, apiErr.Err)
			}
			if apiErr.Err == nil {
				t.Error("APIError without a message")
			}
			if rec.Body.Len() != 0 {
				t.Errorf("wrote a body %q before failing", rec.Body.String())
			}
		})
	}
}
