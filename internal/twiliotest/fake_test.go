package twiliotest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/twilio"
	"github.com/caddy-mfa/caddy-mfa/internal/fakectl"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "fake-auth-token"
	from  = "+15005550006"
)

func TestSignMatchesTwilioGo(t *testing.T) {
	form := url.Values{
		"AccountSid": {sid},
		"CallSid":    {"CA0123456789abcdef0123456789abcdef"},
		"Digits":     {"0#"},
		"From":       {from},
		"To":         {"+819012345678"},
		"Caller":     {"名前 & <x>"},
		"a":          {""},
	}
	for _, u := range []string{
		"https://mfa.example.com/mfa/phone/gather?c=abc&d=%20x",
		"http://127.0.0.1:8080/gather",
		"https://mfa.example.com:443/gather",
	} {
		sig := Sign(token, u, form)
		v := client.NewRequestValidator(token)
		params := map[string]string{}
		for k, vs := range form {
			params[k] = vs[0]
		}
		if !v.Validate(u, params, sig) {
			t.Errorf("twilio-go refuses Sign for %s", u)
		}
		if !v.ValidateBody(u, []byte(form.Encode()), sig) {
			t.Errorf("twilio-go ValidateBody refuses Sign for %s", u)
		}
		if v.Validate(u, params, Sign("other", u, form)) {
			t.Errorf("twilio-go accepts a signature with another token")
		}
	}
}

// post sends a form to the fake as the test describes.
func post(t *testing.T, f *Fake, method, path, contentType, user, pass string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, raw)
	}
	return resp, body
}

const (
	messagesPath = "/2010-04-01/Accounts/" + sid + "/Messages.json"
	callsPath    = "/2010-04-01/Accounts/" + sid + "/Calls.json"
	formType     = "application/x-www-form-urlencoded"
)

func goodMessage() url.Values {
	return url.Values{"To": {"+819012345678"}, "From": {from}, "Body": {"code 123456"}}
}

func goodCall() url.Values {
	return url.Values{
		"To":    {"+819012345678"},
		"From":  {from},
		"Twiml": {`<?xml version="1.0" encoding="UTF-8"?><Response><Say>hi</Say></Response>`},
	}
}

func TestRequestWithoutBasicAuthIsAViolation(t *testing.T) {
	rec := fakectl.NewRecorder(t)
	defer rec.Finish()
	f := New(rec, sid, token)
	resp, body := post(t, f, http.MethodPost, messagesPath, formType, "", "", goodMessage())
	if resp.StatusCode != http.StatusUnauthorized || body["code"] != float64(20003) || body["status"] != float64(401) {
		t.Errorf("answer %d %v, want 401 with code 20003", resp.StatusCode, body)
	}
	if body["more_info"] != "https://www.twilio.com/docs/errors/20003" || body["message"] == "" {
		t.Errorf("error body %v", body)
	}
	if v := f.Rejected(); len(v) != 1 {
		t.Errorf("violations %q, want one", v)
	}
	if errs := rec.Errors(); len(errs) != 1 || !strings.Contains(errs[0], "20003") {
		t.Errorf("reported %q, want one error about it", errs)
	}
	if len(f.Messages()) != 0 {
		t.Errorf("message recorded: %v", f.Messages())
	}
}

func TestViolations(t *testing.T) {
	with := func(v url.Values, k, val string) url.Values { v.Set(k, val); return v }
	without := func(v url.Values, k string) url.Values { v.Del(k); return v }
	for _, tc := range []struct {
		name             string
		method, path, ct string
		user, pass       string
		form             url.Values
		status, code     int
	}{
		{"wrong token", "POST", messagesPath, formType, sid, "nope", goodMessage(), 401, 20003},
		{"other account", "POST", "/2010-04-01/Accounts/ACffffffffffffffffffffffffffffffff/Messages.json", formType, sid, token, goodMessage(), 404, 20404},
		{"unknown resource", "POST", "/2010-04-01/Accounts/" + sid + "/SMS.json", formType, sid, token, goodMessage(), 404, 20404},
		{"no .json", "POST", "/2010-04-01/Accounts/" + sid + "/Messages", formType, sid, token, goodMessage(), 404, 20404},
		{"GET", "GET", messagesPath, "", sid, token, url.Values{}, 405, 20004},
		{"JSON body", "POST", messagesPath, "application/json", sid, token, goodMessage(), 400, 20001},
		{"unknown parameter", "POST", messagesPath, formType, sid, token, with(goodMessage(), "Sender", "x"), 400, 20001},
		{"lower-case parameter", "POST", messagesPath, formType, sid, token, with(without(goodMessage(), "To"), "to", "+819012345678"), 400, 20001},
		{"no To", "POST", messagesPath, formType, sid, token, without(goodMessage(), "To"), 400, 21604},
		{"To not E.164", "POST", messagesPath, formType, sid, token, with(goodMessage(), "To", "09012345678"), 400, 21211},
		{"no sender", "POST", messagesPath, formType, sid, token, without(goodMessage(), "From"), 400, 21603},
		{"no Body", "POST", messagesPath, formType, sid, token, without(goodMessage(), "Body"), 400, 21602},
		{"From sender ID too long", "POST", messagesPath, formType, sid, token, with(goodMessage(), "From", "Example Corp"), 400, 21212},
		{"From sender ID digits only", "POST", messagesPath, formType, sid, token, with(goodMessage(), "From", "1234567"), 400, 21212},
		{"From sender ID punctuation", "POST", messagesPath, formType, sid, token, with(goodMessage(), "From", "Example-Co"), 400, 21212},
		{"call from sender ID", "POST", callsPath, formType, sid, token, with(goodCall(), "From", "ExampleCo"), 400, 21212},
		{"call from short code", "POST", callsPath, formType, sid, token, with(goodCall(), "From", "12345"), 400, 21212},
		{"call without instructions", "POST", callsPath, formType, sid, token, without(goodCall(), "Twiml"), 400, 21205},
		{"call with Url and Twiml", "POST", callsPath, formType, sid, token, with(goodCall(), "Url", "https://x.example/t"), 400, 21205},
		{"call without From", "POST", callsPath, formType, sid, token, without(goodCall(), "From"), 400, 21213},
		{"call from MG", "POST", callsPath, formType, sid, token, with(goodCall(), "From", "MG0123456789abcdef0123456789abcdef"), 400, 21212},
		{"bad SendDigits", "POST", callsPath, formType, sid, token, with(goodCall(), "SendDigits", "ww12x"), 400, 21206},
		{"TwiML not XML", "POST", callsPath, formType, sid, token, with(goodCall(), "Twiml", "<Response><Say>"), 400, 12100},
		{"TwiML too long", "POST", callsPath, formType, sid, token, with(goodCall(), "Twiml", "<Response><Say>"+strings.Repeat("a", 4000)+"</Say></Response>"), 400, 32018},
		{"bad callback method", "POST", callsPath, formType, sid, token, with(goodCall(), "StatusCallbackMethod", "PUT"), 400, 21209},
		{"relative callback", "POST", callsPath, formType, sid, token, with(goodCall(), "StatusCallback", "/status"), 400, 21205},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := fakectl.NewRecorder(t)
			defer rec.Finish()
			f := New(rec, sid, token)
			resp, body := post(t, f, tc.method, tc.path, tc.ct, tc.user, tc.pass, tc.form)
			if resp.StatusCode != tc.status || body["code"] != float64(tc.code) {
				t.Errorf("answer %d %v, want %d with code %d", resp.StatusCode, body, tc.status, tc.code)
			}
			if len(f.Rejected()) != 1 || len(rec.Errors()) != 1 {
				t.Errorf("violations %q, reported %q; want one each", f.Rejected(), rec.Errors())
			}
			if len(f.Messages())+len(f.Calls()) != 0 {
				t.Errorf("recorded something")
			}
		})
	}
}

func TestValidRequestsAreNoViolation(t *testing.T) {
	// from2 sends from another sender a text may come from: an
	// alphanumeric sender ID or a short code.
	from2 := func(v url.Values, sender string) url.Values { v.Set("From", sender); return v }
	rec := fakectl.NewRecorder(t)
	defer rec.Finish()
	f := New(rec, sid, token)
	for _, r := range []struct {
		path string
		form url.Values
	}{{messagesPath, goodMessage()}, {callsPath, goodCall()},
		{messagesPath, from2(goodMessage(), "Example Co")}, {messagesPath, from2(goodMessage(), "12345")}} {
		resp, body := post(t, f, http.MethodPost, r.path, formType+"; charset=utf-8", sid, token, r.form)
		if resp.StatusCode != http.StatusCreated || body["sid"] == "" || body["account_sid"] != sid {
			t.Errorf("answer %d %v", resp.StatusCode, body)
		}
	}
	if len(rec.Errors()) != 0 {
		t.Errorf("reported %q", rec.Errors())
	}
}

// callbackReceiver is the gateway's side of callbacks: it checks them with
// twilio.Client.VerifyCallback and keeps the forms it accepted.
func callbackReceiver(t *testing.T, c *twilio.Client) (base string, accepted <-chan url.Values) {
	t.Helper()
	got := make(chan url.Values, 10)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, err := c.VerifyCallback(r, srv.URL+r.URL.RequestURI())
		if err != nil {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		got <- form
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(twilio.Reply("Goodbye", "en-US"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func TestWithTwilioClient(t *testing.T) {
	f := New(t, sid, token)
	c, err := twilio.New(sid, token, from, f.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	to := phone.Number{E164: "+819012345678", Ext: "42"}

	if err := c.SendText(ctx, phone.Text{To: to, Body: "first"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendText(ctx, phone.Text{To: to, Body: "second"}); err != nil {
		t.Fatal(err)
	}
	if m := f.WaitMessage(t, to.E164, time.Second); m.Body != "first" || m.From != from || !strings.HasPrefix(m.SID, "SM") {
		t.Errorf("first message %+v", m)
	}
	if m := f.WaitMessage(t, to.E164, time.Second); m.Body != "second" {
		t.Errorf("second message %+v", m)
	}

	base, accepted := callbackReceiver(t, c)
	call := phone.Call{
		To: to, Say: "Press 0 then hash", Language: "en-GB",
		GatherURL: base + "/gather?c=abc", StatusURL: base + "/status?c=abc",
	}
	callSID, err := c.PlaceCall(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	rec := f.WaitCall(t, to.E164, time.Second)
	if rec.SID != callSID || rec.From != from || rec.SendDigits != "wwww42" || rec.GatherURL != call.GatherURL ||
		rec.StatusURL != call.StatusURL || rec.Say != call.Say || rec.Language != "en-GB" || rec.Twiml != twilio.TwiML(call) {
		t.Errorf("call record %+v", rec)
	}

	resp := f.Press(t, rec, "0#")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Goodbye") {
		t.Fatalf("Press answered %d %s", resp.StatusCode, body)
	}
	form := <-accepted
	if form.Get("Digits") != "0#" || form.Get("CallSid") != callSID || form.Get("CallStatus") != "in-progress" {
		t.Errorf("gather form %v", form)
	}

	if resp := f.Hangup(t, rec, "completed"); resp.StatusCode != http.StatusOK {
		t.Fatalf("Hangup answered %d", resp.StatusCode)
	}
	form = <-accepted
	if form.Get("CallStatus") != "completed" || form.Get("CallDuration") != "12" {
		t.Errorf("status form %v", form)
	}

	forged := f.callForm(rec, "in-progress")
	forged.Set("Digits", "0#")
	if resp := f.PostSigned(t, rec.GatherURL, forged, "wrong-token"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged callback answered %d, want 403", resp.StatusCode)
	}
}

func TestFailNext(t *testing.T) {
	f := New(t, sid, token)
	c, err := twilio.New(sid, token, from, f.URL())
	if err != nil {
		t.Fatal(err)
	}
	text := phone.Text{To: phone.Number{E164: "+819012345678"}, Body: "code"}
	f.FailNext(APIError{Status: http.StatusBadRequest, Code: 21610, Message: "Attempt to send to unsubscribed recipient"})
	err = c.SendText(context.Background(), text)
	var apiErr *twilio.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 21610 || apiErr.Status != 400 || !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v, want Twilio's 21610", err)
	}
	if err := c.SendText(context.Background(), text); err != nil {
		t.Fatalf("request after the failure: %v", err)
	}
	if n := len(f.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want 1", n)
	}
}

func TestHangNext(t *testing.T) {
	f := New(t, sid, token)
	c, err := twilio.New(sid, token, from, f.URL())
	if err != nil {
		t.Fatal(err)
	}
	text := phone.Text{To: phone.Number{E164: "+819012345678"}, Body: "code"}

	f.HangNext(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.SendText(ctx, text)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v, want a time-out", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}

	f.HangNext(50 * time.Millisecond)
	if err := c.SendText(context.Background(), text); err != nil {
		t.Fatalf("slow request: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("second request did not wait (%v in all)", d)
	}
	if n := len(f.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want 1 (the hung one was abandoned)", n)
	}
}

func TestHangNextEndsAtCleanup(t *testing.T) {
	rec := fakectl.NewRecorder(t)
	f := New(rec, sid, token)
	f.HangNext(time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequest(http.MethodPost, f.URL()+messagesPath, strings.NewReader(goodMessage().Encode()))
		req.Header.Set("Content-Type", formType)
		req.SetBasicAuth(sid, token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	rec.Finish()
	<-done
	if d := time.Since(start); d > time.Second {
		t.Errorf("cleanup took %v", d)
	}
}
