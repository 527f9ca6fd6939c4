package twilio

import (
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "s3cr3t-auth-token-never-logged"
	testFrom  = "+15005550006"
	testMG    = "MG0123456789abcdef0123456789abcdef"
)

// testNumber is a Japanese mobile number.
var testNumber = phone.Number{E164: "+819012345678", CountryCode: 81, Region: "JP", Mobile: true}

// apiRequest is what a fake API handler received, once checked.
type apiRequest struct {
	Form url.Values
}

// checkedAPI serves the REST API for resource ("Messages" or "Calls"):
// every request must be exactly as Twilio documents it (POST to the
// account's resource path, form-encoded, Basic auth), otherwise the test
// fails. answer then writes the response. It returns the client and the
// channel of checked requests.
func checkedAPI(t *testing.T, from, resource string, answer http.HandlerFunc) (*Client, <-chan apiRequest) {
	t.Helper()
	got := make(chan apiRequest, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method %s, want POST", r.Method)
		}
		if want := "/2010-04-01/Accounts/" + testSID + "/" + resource + ".json"; r.URL.Path != want {
			t.Errorf("path %q, want %q", r.URL.Path, want)
		}
		if r.URL.RawQuery != "" {
			t.Errorf("query %q, want none", r.URL.RawQuery)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q, want application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		}
		if user, pass, ok := r.BasicAuth(); !ok || user != testSID || pass != testToken {
			t.Errorf("Basic auth %q:%q (present %v), want account SID and auth token", user, pass, ok)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		got <- apiRequest{Form: r.PostForm}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(testSID, testToken, from, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	return c, got
}

// answerJSON answers with status and a JSON body.
func answerJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// receive returns the one request the fake API got.
func receive(t *testing.T, got <-chan apiRequest) apiRequest {
	t.Helper()
	select {
	case r := <-got:
		return r
	default:
		t.Fatal("the API got no request")
		return apiRequest{}
	}
}

// noRequest fails if the API got a request.
func noRequest(t *testing.T, got <-chan apiRequest) {
	t.Helper()
	select {
	case r := <-got:
		t.Fatalf("the API got a request: %v", r.Form)
	default:
	}
}

// sameForm fails unless got has exactly the fields and values of want.
func sameForm(t *testing.T, got, want url.Values) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("form\n got %v\nwant %v", got, want)
	}
}
