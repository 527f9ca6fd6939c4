package ntfy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

const (
	testToken = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"
	approval  = "https://wiki.example.com/.mfa/push/approve?r=secret-request-id&x=1"
)

// notification is a valid prompt to a fresh topic.
func notification(t *testing.T) push.Notification {
	t.Helper()
	topic, err := push.NewTopic()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	return push.Notification{
		Topic: topic, User: "alice", Title: "Approve sign-in?",
		Message: "wiki.example.com, 10:00, 203.0.113.7, Firefox on Linux <&>",
		Action:  "Review sign-in", URL: approval, Site: "wiki.example.com", IP: "203.0.113.7",
		Browser: "Firefox on Linux", Time: at, Expires: at.Add(2 * time.Minute),
	}
}

func newClient(t *testing.T, server, token string) *Client {
	t.Helper()
	c, err := New(server, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNotify(t *testing.T) {
	f := ntfytest.New(t, "")
	n := notification(t)
	if err := newClient(t, f.URL(), "").Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	m := f.WaitMessage(t, n.Topic, time.Second)
	want := ntfytest.Message{
		ID: m.ID, Time: m.Time, Topic: n.Topic, Title: n.Title, Message: n.Message,
		Tags: []string{"lock"}, Priority: 4, Click: approval,
		Actions: []ntfytest.Action{{Action: "view", Label: "Review sign-in", URL: approval, Clear: true}},
		// Not kept in ntfy's cache: a prompt lives PushTTL, ntfy would
		// keep it readable to anyone who can read the topic for 12 h.
		Cached: false,
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("published\n %+v\nwant\n %+v", m, want)
	}
}

// TestNotifyCached: a client told to (Cache, for phones that fetch
// prompts from the cache: iPhones on a self-hosted server) lets ntfy
// cache them.
func TestNotifyCached(t *testing.T) {
	f := ntfytest.New(t, "")
	n := notification(t)
	c := newClient(t, f.URL(), "")
	c.Cache = true
	if err := c.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if m := f.WaitMessage(t, n.Topic, time.Second); !m.Cached {
		t.Errorf("a client with Cache set published a prompt kept out of the cache: %+v", m)
	}
}

func TestNotifyAuth(t *testing.T) {
	for _, token := range []string{testToken, "phil:mypass"} {
		f := ntfytest.New(t, token)
		n := notification(t)
		if err := newClient(t, f.URL(), token).Notify(context.Background(), n); err != nil {
			t.Fatalf("token %q: %v", token, err)
		}
		f.WaitMessage(t, n.Topic, time.Second)
		if r := f.Rejected(); len(r) != 0 {
			t.Errorf("token %q: rejected %q", token, r)
		}
	}
}

func TestNotifyRefused(t *testing.T) {
	f := ntfytest.New(t, "tk_the_right_one")
	n := notification(t)
	err := newClient(t, f.URL(), testToken).Notify(context.Background(), n)
	const want = `ntfy: publishing: notification service failed: server answered HTTP 403 Forbidden: "forbidden" (code 40301)`
	if !errors.Is(err, push.ErrNotifier) || err.Error() != want {
		t.Fatalf("error %v, want %q wrapping push.ErrNotifier", err, want)
	}
	notShown(t, err, n)

	f.FailNext(http.StatusInternalServerError)
	err = newClient(t, f.URL(), "tk_the_right_one").Notify(context.Background(), n)
	if !errors.Is(err, push.ErrNotifier) || !strings.Contains(err.Error(), `HTTP 500 Internal Server Error: "internal server error" (code 50000)`) {
		t.Errorf("error %v, want ntfy's 500", err)
	}
	if len(f.Messages()) != 0 {
		t.Errorf("messages %+v", f.Messages())
	}
}

func TestNotifyErrorHidesToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":40101,"http":401,"error":"unauthorized: ` + r.Header.Get("Authorization") + `"}`))
	}))
	t.Cleanup(srv.Close)
	n := notification(t)
	err := newClient(t, srv.URL, testToken).Notify(context.Background(), n)
	if !errors.Is(err, push.ErrNotifier) || !strings.Contains(err.Error(), "[token]") {
		t.Errorf("error %v, want ntfy's text with the token blotted out", err)
	}
	notShown(t, err, n)
}

func TestNotifyTimeout(t *testing.T) {
	f := ntfytest.New(t, "")
	f.HangNext(time.Minute)
	c := newClient(t, f.URL(), "")
	c.Timeout = 200 * time.Millisecond
	start := time.Now()
	err := c.Notify(context.Background(), notification(t))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}
	if !errors.Is(err, push.ErrNotifier) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want push.ErrNotifier and context.DeadlineExceeded", err)
	}
}

func TestNotifyUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	n := notification(t)
	err := newClient(t, srv.URL, testToken).Notify(context.Background(), n)
	if !errors.Is(err, push.ErrNotifier) {
		t.Fatalf("error %v, want push.ErrNotifier", err)
	}
	notShown(t, err, n)
}

func TestNotifyPathPrefix(t *testing.T) {
	paths := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		_, _ = w.Write([]byte(`{"id":"x","event":"message"}`))
	}))
	t.Cleanup(srv.Close)
	if err := newClient(t, srv.URL+"/ntfy/", "").Notify(context.Background(), notification(t)); err != nil {
		t.Fatal(err)
	}
	if got := <-paths; got != "/ntfy/" {
		t.Errorf("published to %q, want /ntfy/", got)
	}
}

func TestNotifyInvalid(t *testing.T) {
	f := ntfytest.New(t, "")
	c := newClient(t, f.URL(), "")
	noTopic := notification(t)
	noTopic.Topic = "mytopic"
	long := notification(t)
	long.Message = strings.Repeat("x", 4097)
	for _, n := range []push.Notification{noTopic, long} {
		if err := c.Notify(context.Background(), n); err == nil || errors.Is(err, push.ErrNotifier) {
			t.Errorf("error %v, want one of ours", err)
		}
	}
	if len(f.Messages())+len(f.Rejected()) != 0 {
		t.Errorf("sent: messages %v, rejected %v", f.Messages(), f.Rejected())
	}
}

func TestNew(t *testing.T) {
	c := newClient(t, "https://ntfy.example.com/", testToken)
	if c.Timeout != push.SendTimeout || c.HTTP == nil || c.HTTP.CheckRedirect == nil {
		t.Errorf("defaults: timeout %v, HTTP %+v", c.Timeout, c.HTTP)
	}
	for _, tc := range []struct{ server, token, want string }{
		{"", "", "absolute"},
		{"ntfy.example.com", "", "absolute"},
		{"ftp://ntfy.example.com", "", "absolute"},
		{"http://ntfy.example.com", "", "https://"},
		{"https://ntfy.example.com/?auth=x", "", "query"},
		{"https://ntfy.example.com/?", "", "query"},
		{"https://ntfy.example.com/#x", "", "fragment"},
		{"https://phil:secret@ntfy.example.com/", "", "user name"},
		{"https://ntfy.example.com", "tk_ab cd", "white space"},
		{"https://ntfy.example.com", "tk_abcd\n", "white space"},
		{"https://ntfy.example.com", "tk_ab\x00cd", "control"},
		{"https://ntfy.example.com", ":secret", "user name and a password"},
		{"https://ntfy.example.com", "phil:", "user name and a password"},
	} {
		_, err := New(tc.server, tc.token)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q) = %v, want an error saying %q", tc.server, tc.token, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secret") || (tc.token != "" && strings.Contains(err.Error(), tc.token)) {
			t.Errorf("New(%q, %q): error %q shows a credential", tc.server, tc.token, err)
		}
	}
}

func TestSubscription(t *testing.T) {
	const topic = "mfa-abcdefghijklmnopqrstuvwxyy"
	for _, tc := range []struct {
		server string
		want   push.Subscription
	}{
		{"https://ntfy.example.com", push.Subscription{
			AppLink: "ntfy://ntfy.example.com/" + topic, Server: "https://ntfy.example.com",
			Topic: topic,
		}},
		{"https://example.com:8443/ntfy/", push.Subscription{
			AppLink: "ntfy://example.com:8443/ntfy/" + topic, Server: "https://example.com:8443/ntfy",
			Topic: topic,
		}},
		{"http://127.0.0.1:8080", push.Subscription{
			AppLink: "ntfy://127.0.0.1:8080/" + topic + "?secure=false", Server: "http://127.0.0.1:8080",
			Topic: topic,
		}},
	} {
		if got := newClient(t, tc.server, "").Subscription(topic); got != tc.want {
			t.Errorf("Subscription on %s\n got %+v\nwant %+v", tc.server, got, tc.want)
		}
	}
}

// notShown fails if err shows the token, the topic or the approval URL.
func notShown(t *testing.T, err error, n push.Notification) {
	t.Helper()
	for _, s := range []string{testToken, n.Topic, "secret-request-id", "wiki.example.com"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows %q", err, s)
		}
	}
}
