package ntfytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/fakectl"
)

// send makes a request to the fake and returns the answer's status and
// body.
func send(t *testing.T, method, url, contentType, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

const fullBody = `{"topic":"mfa-topic_1","title":"Approve sign-in?","message":"wiki.example.com","tags":["lock"],"priority":4,` +
	`"click":"https://wiki.example.com/.mfa/push/x","actions":[{"action":"view","label":"Review sign-in","url":"https://wiki.example.com/.mfa/push/x","clear":true}]}`

func TestPublishAsJSON(t *testing.T) {
	f := New(t, "")
	status, body := send(t, http.MethodPost, f.URL()+"/", "application/json; charset=utf-8", "", fullBody)
	if status != http.StatusOK {
		t.Fatalf("answer %d %s", status, body)
	}
	var a struct {
		ID                    string
		Time, Expires         int64
		Event, Topic, Message string
		Priority              int
	}
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if len(a.ID) != 12 || a.Event != "message" || a.Topic != "mfa-topic_1" || a.Message != "wiki.example.com" ||
		a.Priority != 4 || a.Expires-a.Time != 12*3600 || time.Since(time.Unix(a.Time, 0)) > time.Minute {
		t.Errorf("answer %s", body)
	}
	m := f.WaitMessage(t, "mfa-topic_1", time.Second)
	want := Message{
		ID: a.ID, Time: time.Unix(a.Time, 0), Topic: "mfa-topic_1", Title: "Approve sign-in?", Message: "wiki.example.com",
		Tags: []string{"lock"}, Priority: 4, Click: "https://wiki.example.com/.mfa/push/x",
		Actions: []Action{{Action: "view", Label: "Review sign-in", URL: "https://wiki.example.com/.mfa/push/x", Clear: true}},
		Cached:  true,
	}
	if !m.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", m.Time, want.Time)
	}
	m.Time, want.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("message\n got %+v\nwant %+v", m, want)
	}

	// PUT works too, and a message is returned by WaitMessage once.
	if status, body := send(t, http.MethodPut, f.URL(), "application/json", "", `{"topic":"mfa-topic_1","message":"second"}`); status != http.StatusOK {
		t.Fatalf("answer %d %s", status, body)
	}
	if m := f.WaitMessage(t, "mfa-topic_1", time.Second); m.Message != "second" {
		t.Errorf("second message %+v", m)
	}
	if n := len(f.Messages()); n != 2 {
		t.Errorf("%d messages", n)
	}
}

// TestCacheHeader: "X-Cache: no" (or its aliases, in any case) keeps a
// message out of ntfy's cache, and the answer then has no expiry; one
// cached by default expires after ntfy's cache-duration; a value ntfy does
// not document fails the test.
func TestCacheHeader(t *testing.T) {
	publish := func(t *testing.T, f *Fake, path, header, value string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, f.URL()+path, strings.NewReader(`{"topic":"mfa-cache","message":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	f := New(t, "")
	for _, c := range []struct {
		path, header, value string
		cached              bool
	}{
		{"/", "", "", true},
		{"/", "X-Cache", "no", false},
		{"/", "Cache", "NO", false},
		{"/?cache=false", "", "", false},
		{"/", "X-Cache", "yes", true},
	} {
		status, body := publish(t, f, c.path, c.header, c.value)
		if status != http.StatusOK {
			t.Fatalf("%s %s: %s: answer %d %s", c.path, c.header, c.value, status, body)
		}
		if m := f.WaitMessage(t, "mfa-cache", time.Second); m.Cached != c.cached {
			t.Errorf("%s %s: %s: cached %v, want %v", c.path, c.header, c.value, m.Cached, c.cached)
		}
		if has := strings.Contains(body, `"expires"`); has != c.cached {
			t.Errorf("%s %s: %s: answer %s: expiry given %v, want %v", c.path, c.header, c.value, body, has, c.cached)
		}
	}
	rec := fakectl.NewRecorder(t)
	defer rec.Finish()
	g := New(rec, "")
	if status, _ := publish(t, g, "/", "X-Cache", "2m"); status != http.StatusBadRequest || len(rec.Errors()) != 1 {
		t.Errorf("X-Cache: 2m answered %d, reported %q; want 400 and a failed test", status, rec.Errors())
	}
}

func TestWaitMessageTimesOut(t *testing.T) {
	f := New(t, "")
	rec := fakectl.NewRecorder(t)
	rec.Run(func() { f.WaitMessage(rec, "mfa-nobody", 20*time.Millisecond) })
	if errs := rec.Errors(); len(errs) != 1 || !strings.Contains(errs[0], "no new message to mfa-nobody") {
		t.Errorf("reported %q, want a time-out", errs)
	}
}

func TestBadRequestFailsTheTest(t *testing.T) {
	long := strings.Repeat("x", 4097)
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
	}{
		{"GET", http.MethodGet, "/", "application/json", "", http.StatusMethodNotAllowed},
		{"topic in path", http.MethodPost, "/mfa-topic", "application/json", `{"topic":"mfa-topic"}`, http.StatusNotFound},
		{"text body", http.MethodPost, "/", "text/plain", `{"topic":"mfa-topic"}`, http.StatusBadRequest},
		{"not JSON", http.MethodPost, "/", "application/json", `topic=mfa-topic`, http.StatusBadRequest},
		{"array", http.MethodPost, "/", "application/json", `[{"topic":"mfa-topic"}]`, http.StatusBadRequest},
		{"no topic", http.MethodPost, "/", "application/json", `{"message":"x"}`, http.StatusBadRequest},
		{"bad topic", http.MethodPost, "/", "application/json", `{"topic":"mfa/topic"}`, http.StatusBadRequest},
		{"unknown member", http.MethodPost, "/", "application/json", `{"topic":"t","sound":"ding"}`, http.StatusBadRequest},
		{"priority as text", http.MethodPost, "/", "application/json", `{"topic":"t","priority":"high"}`, http.StatusBadRequest},
		{"priority 6", http.MethodPost, "/", "application/json", `{"topic":"t","priority":6}`, http.StatusBadRequest},
		{"priority 0", http.MethodPost, "/", "application/json", `{"topic":"t","priority":0}`, http.StatusBadRequest},
		{"tags as text", http.MethodPost, "/", "application/json", `{"topic":"t","tags":"lock"}`, http.StatusBadRequest},
		{"relative click", http.MethodPost, "/", "application/json", `{"topic":"t","click":"/x"}`, http.StatusBadRequest},
		{"long message", http.MethodPost, "/", "application/json", `{"topic":"t","message":"` + long + `"}`, http.StatusBadRequest},
		{"unknown action", http.MethodPost, "/", "application/json", `{"topic":"t","actions":[{"action":"open","label":"x","url":"https://a.example"}]}`, http.StatusBadRequest},
		{"action without label", http.MethodPost, "/", "application/json", `{"topic":"t","actions":[{"action":"view","url":"https://a.example"}]}`, http.StatusBadRequest},
		{"view without URL", http.MethodPost, "/", "application/json", `{"topic":"t","actions":[{"action":"view","label":"x"}]}`, http.StatusBadRequest},
		{"unknown action member", http.MethodPost, "/", "application/json", `{"topic":"t","actions":[{"action":"view","label":"x","url":"https://a.example","colour":"red"}]}`, http.StatusBadRequest},
		{"four actions", http.MethodPost, "/", "application/json", `{"topic":"t","actions":[` + strings.Repeat(`{"action":"broadcast","label":"x"},`, 3) + `{"action":"broadcast","label":"x"}]}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := fakectl.NewRecorder(t)
			defer rec.Finish()
			f := New(rec, "")
			status, body := send(t, tc.method, f.URL()+tc.path, tc.contentType, "", tc.body)
			if status != tc.status || !strings.Contains(body, fmt.Sprintf(`"http":%d`, tc.status)) {
				t.Errorf("answer %d %s, want %d", status, body, tc.status)
			}
			if len(rec.Errors()) != 1 || len(f.Rejected()) != 1 || len(f.Messages()) != 0 {
				t.Errorf("reported %q, rejected %q, messages %v", rec.Errors(), f.Rejected(), f.Messages())
			}
		})
	}
}

func TestAuth(t *testing.T) {
	const forbidden = `{"code":40301,"http":403,"error":"forbidden"}` + "\n"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("phil:mypass"))
	for _, tc := range []struct {
		name, token, auth string
		status            int
		answer            string
	}{
		{"bearer", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", "Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", http.StatusOK, ""},
		{"basic", "phil:mypass", basic, http.StatusOK, ""},
		{"missing", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", "", http.StatusForbidden, forbidden},
		{"wrong token", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", "Bearer tk_other", http.StatusForbidden, forbidden},
		{"basic for a token", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", basic, http.StatusForbidden, forbidden},
		{"unexpected", "", "Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", http.StatusUnauthorized, `{"code":40101,"http":401,"error":"unauthorized"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := New(t, tc.token)
			status, body := send(t, http.MethodPost, f.URL(), "application/json", tc.auth, `{"topic":"t","message":"m"}`)
			if status != tc.status || (tc.answer != "" && body != tc.answer) {
				t.Errorf("answer %d %s, want %d %s", status, body, tc.status, tc.answer)
			}
			messages, rejected := 0, 1
			if tc.status == http.StatusOK {
				messages, rejected = 1, 0
			}
			if len(f.Messages()) != messages || len(f.Rejected()) != rejected {
				t.Errorf("messages %v, rejected %q", f.Messages(), f.Rejected())
			}
		})
	}
}

func TestFailAndHangNext(t *testing.T) {
	f := New(t, "")
	f.FailNext(http.StatusTooManyRequests)
	status, body := send(t, http.MethodPost, f.URL(), "application/json", "", `{"topic":"t","message":"m"}`)
	if status != http.StatusTooManyRequests || body != `{"code":42900,"http":429,"error":"too many requests"}`+"\n" {
		t.Errorf("answer %d %s", status, body)
	}

	f.HangNext(time.Minute)
	c := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	if _, err := c.Post(f.URL(), "application/json", strings.NewReader(`{"topic":"t","message":"m"}`)); err == nil {
		t.Error("hanging request answered")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hung for %v", d)
	}
	if status, _ := send(t, http.MethodPost, f.URL(), "application/json", "", `{"topic":"t","message":"after"}`); status != http.StatusOK {
		t.Errorf("answer %d after the hang", status)
	}
	if msgs := f.Messages(); len(msgs) != 1 || msgs[0].Message != "after" {
		t.Errorf("messages %+v", msgs)
	}
}
