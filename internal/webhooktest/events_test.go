package webhooktest

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/internal/fakectl"
)

// validPush is a valid "push" body.
func validPush() map[string]any {
	return map[string]any{
		"type": "push", "user": "alice", "device": "mfa-abcdefghijklmnopqrstuvwxyz",
		"title": "Approve sign-in?", "message": "wiki.example.com, 10:00, 203.0.113.7",
		"action": "Review sign-in", "url": "https://wiki.example.com/.mfa/push/abc",
		"site": "wiki.example.com", "ip": "203.0.113.7", "browser": "Firefox on Linux",
		"time": "2026-01-01T10:00:00Z", "expires": "2026-01-01T10:02:00Z", "test": true,
	}
}

// validFraud is a valid "fraud_reported" body.
func validFraud() map[string]any {
	return map[string]any{
		"type": "fraud_reported", "user": "bob", "method": "push", "site": "wiki.example.com",
		"ip": "2001:db8::1", "browser": "", "time": "2026-01-01T10:00:00Z",
	}
}

func TestReceivesPushesAndFrauds(t *testing.T) {
	r := New(t, secret)
	c := client(t, r, secret)
	ctx := context.Background()
	for _, body := range []map[string]any{validPush(), validFraud()} {
		if err := c.PostJSON(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	p := r.WaitPush(t, "alice", time.Second)
	want := Push{
		User: "alice", Device: "mfa-abcdefghijklmnopqrstuvwxyz", Title: "Approve sign-in?",
		Message: "wiki.example.com, 10:00, 203.0.113.7", Action: "Review sign-in",
		URL: "https://wiki.example.com/.mfa/push/abc", Site: "wiki.example.com", IP: "203.0.113.7",
		Browser: "Firefox on Linux", Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC),
		Expires: time.Date(2026, 1, 1, 10, 2, 0, 0, time.UTC), Test: true,
	}
	if p != want {
		t.Errorf("push\n got %+v\nwant %+v", p, want)
	}
	f := r.WaitFraud(t, "bob", time.Second)
	if f != (Fraud{User: "bob", Method: "push", Site: "wiki.example.com", IP: "2001:db8::1", Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}) {
		t.Errorf("fraud %+v", f)
	}
	if len(r.Pushes()) != 1 || len(r.Frauds()) != 1 || len(r.Texts()) != 0 {
		t.Errorf("pushes %v, frauds %v, texts %v", r.Pushes(), r.Frauds(), r.Texts())
	}
}

func TestWaitPushTakesEachOnce(t *testing.T) {
	r := New(t, secret)
	c := client(t, r, secret)
	first, second := validPush(), validPush()
	second["title"] = "second"
	for _, body := range []map[string]any{first, second} {
		if err := c.PostJSON(context.Background(), body); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.WaitPush(t, "alice", time.Second).Title; got != "Approve sign-in?" {
		t.Errorf("first title %q", got)
	}
	if got := r.WaitPush(t, "alice", time.Second).Title; got != "second" {
		t.Errorf("second title %q", got)
	}
	rec := fakectl.NewRecorder(t)
	defer rec.Finish()
	rec.Run(func() { r.WaitPush(rec, "alice", 20*time.Millisecond) })
	if errs := rec.Errors(); len(errs) != 1 || !strings.Contains(errs[0], "no new prompt for alice") {
		t.Errorf("reported %q, want a time-out", errs)
	}
}

func TestBadPushOrFraudFailsTheTest(t *testing.T) {
	for name, change := range map[string]func(push, fraud map[string]any) map[string]any{
		"push lacks a member":    func(p, _ map[string]any) map[string]any { delete(p, "browser"); return p },
		"push has an extra":      func(p, _ map[string]any) map[string]any { p["number"] = 42; return p },
		"unknown type":           func(p, _ map[string]any) map[string]any { p["type"] = "pushed"; return p },
		"type not a string":      func(p, _ map[string]any) map[string]any { p["type"] = 1; return p },
		"bad device":             func(p, _ map[string]any) map[string]any { p["device"] = "a/b"; return p },
		"relative url":           func(p, _ map[string]any) map[string]any { p["url"] = "/.mfa/push/abc"; return p },
		"bad ip":                 func(p, _ map[string]any) map[string]any { p["ip"] = "203.0.113"; return p },
		"time not UTC":           func(p, _ map[string]any) map[string]any { p["time"] = "2026-01-01T19:00:00+09:00"; return p },
		"expires before time":    func(p, _ map[string]any) map[string]any { p["expires"] = "2026-01-01T09:00:00Z"; return p },
		"test is a string":       func(p, _ map[string]any) map[string]any { p["test"] = "true"; return p },
		"empty action":           func(p, _ map[string]any) map[string]any { p["action"] = ""; return p },
		"fraud with push member": func(_, f map[string]any) map[string]any { f["title"] = "x"; return f },
		"fraud lacks a member":   func(_, f map[string]any) map[string]any { delete(f, "method"); return f },
		"fraud bad method":       func(_, f map[string]any) map[string]any { f["method"] = "Push!"; return f },
		"fraud bad time":         func(_, f map[string]any) map[string]any { f["time"] = "yesterday"; return f },
	} {
		t.Run(name, func(t *testing.T) {
			rec := fakectl.NewRecorder(t)
			defer rec.Finish()
			r := New(rec, secret)
			body := change(maps.Clone(validPush()), maps.Clone(validFraud()))
			err := client(t, r, secret).PostJSON(context.Background(), body)
			if !errors.Is(err, phone.ErrProvider) || !strings.Contains(err.Error(), "HTTP 400") {
				t.Errorf("error %v, want HTTP 400", err)
			}
			if len(rec.Errors()) != 1 || len(r.Rejected()) != 1 || len(r.Pushes())+len(r.Frauds()) != 0 {
				t.Errorf("reported %q, rejected %q, pushes %v, frauds %v", rec.Errors(), r.Rejected(), r.Pushes(), r.Frauds())
			}
		})
	}
}
