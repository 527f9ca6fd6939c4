package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
	"github.com/caddy-mfa/caddy-mfa/internal/webhooktest"
)

// TestPhoneSMSTwilioFullFlow: a first sign-in registers a Japanese mobile
// by a code texted through Twilio; a later sign-in texts another code,
// which works once.
func TestPhoneSMSTwilioFullFlow(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+limitsBlock("resend_after 1s"))
	var gap sendGap

	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/reports"), "/.mfa/setup")
	setup := b.get("/.mfa/setup")
	expectStatus(t, setup, http.StatusOK)
	if !strings.Contains(setup.Body, `href="/.mfa/setup/phone?method=sms"`) || !strings.Contains(setup.Body, `href="/.mfa/setup/totp"`) {
		t.Fatalf("setup page does not offer texts and the app:\n%s", setup.Body)
	}
	form := b.get("/.mfa/setup/phone?method=sms")
	expectStatus(t, form, http.StatusOK)
	for _, want := range []string{`name="region"`, `<option value="JP"`, `name="number"`, `type="tel"`, `autocomplete="tel"`} {
		if !strings.Contains(form.Body, want) {
			t.Fatalf("phone form lacks %s:\n%s", want, form.Body)
		}
	}
	if strings.Contains(form.Body, `name="ext"`) {
		t.Fatalf("the text-message form asks for an extension:\n%s", form.Body)
	}
	r := b.post("/.mfa/setup/phone", url.Values{"csrf": {csrfOf(t, form.Body)}, "method": {"sms"}, "region": {jpRegion}, "number": {jpTyped}})
	expectRedirect(t, r, "/.mfa/setup/phone/code")
	gap.sent("alice")

	m := f.WaitMessage(t, jpE164, sendTimeout)
	if m.From != twilioFrom || m.MessagingServiceSID != "" {
		t.Fatalf("text sent from %q (service %q), want %s", m.From, m.MessagingServiceSID, twilioFrom)
	}
	code := codeOf(t, m.Body)
	lines := strings.Split(m.Body, "\n")
	if !strings.Contains(m.Body, "E2E Corp") || lines[len(lines)-1] != "@127.0.0.1 #"+code {
		t.Fatalf("text lacks the organisation or does not end with the WebOTP line %q:\n%s", "@127.0.0.1 #"+code, m.Body)
	}
	if n := len(f.Messages()); n != 1 {
		t.Fatalf("%d texts sent, want 1", n)
	}

	page := b.get("/.mfa/setup/phone/code")
	expectStatus(t, page, http.StatusOK)
	expectText(t, page, "We texted a code to "+jpMasked, `autocomplete="one-time-code"`)
	if !strings.Contains(page.Body, "&#43;81 •• •••• 5678") {
		t.Fatalf("masked number not shown as expected (HTML-escaped):\n%s", page.Body)
	}
	expectNoText(t, page, jpE164, "9012345678", "1234-5678", "1234 5678")

	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	r = b.post("/.mfa/setup/phone/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {wrong}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectText(t, r, "That code didn't work. Check the code in the text message")
	if _, hits := g.Upstream.Last(); hits != 0 {
		t.Fatal("upstream reached before enrolment")
	}
	recoveryCodesOf(t, b.post("/.mfa/setup/phone/code", url.Values{"csrf": {csrfOf(t, r.Body)}, "code": {code}}))
	b.signedIn("alice", "/reports")
	// The number is sealed at rest and kept out of the log.
	if files := filesContaining(t, g.DataDir, "9012345678"); len(files) != 0 {
		t.Errorf("the phone number is stored in clear in %q", files)
	}
	if lines := g.logLines("9012345678"); len(lines) != 0 {
		t.Errorf("the phone number is in the log: %q", lines)
	}
	if n := len(f.Messages()); n != 1 {
		t.Fatalf("%d texts sent after enrolment, want 1", n)
	}

	// Sign out, and in again with a new texted code.
	acct := b.get("/.mfa/")
	expectRedirect(t, b.post("/.mfa/logout", url.Values{"csrf": {csrfOf(t, acct.Body)}}), "/.mfa/signed-out?here=1")
	b.notSignedIn("/reports")

	b2 := g.newBrowser()
	b2.passwordOnly("alice", "/wiki")
	ch := b2.get("/.mfa/challenge")
	expectStatus(t, ch, http.StatusOK)
	expectText(t, ch, "Text me a code", "We'll text a code to "+jpMasked)
	gap.wait("alice")
	r = b2.post("/.mfa/challenge/send", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"sms"}})
	expectRedirect(t, r, "/.mfa/challenge?method=sms")
	gap.sent("alice")
	m2 := f.WaitMessage(t, jpE164, sendTimeout)
	code2 := codeOf(t, m2.Body)
	if n := len(f.Messages()); n != 2 {
		t.Fatalf("%d texts sent, want 2", n)
	}
	page = b2.get("/.mfa/challenge?method=sms")
	expectStatus(t, page, http.StatusOK)
	expectText(t, page, "We texted a code to "+jpMasked, `autocomplete="one-time-code"`, "Send a new code", "Use a recovery code")
	expectNoText(t, page, jpE164, "9012345678")
	wrong = fmt.Sprintf("%06d", (mustAtoi(t, code2)+1)%1_000_000)
	r = b2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"sms"}, "code": {wrong}})
	expectStatus(t, r, http.StatusUnauthorized)
	expectText(t, r, "That code didn't work. Check the code in the text message")
	b2.notSignedIn("/wiki")
	// "Send a new code": the new code replaces the one sent before.
	gap.wait("alice")
	expectRedirect(t, b2.post("/.mfa/challenge/send", url.Values{"csrf": {csrfOf(t, r.Body)}, "method": {"sms"}}), "/.mfa/challenge?method=sms")
	code3 := codeOf(t, f.WaitMessage(t, jpE164, sendTimeout).Body)
	if n := len(f.Messages()); n != 3 {
		t.Fatalf("%d texts sent, want 3", n)
	}
	if code3 != code2 {
		page = b2.get("/.mfa/challenge?method=sms")
		r = b2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"sms"}, "code": {code2}})
		expectStatus(t, r, http.StatusUnauthorized)
		b2.notSignedIn("/wiki")
	}
	page = b2.get("/.mfa/challenge?method=sms")
	r = b2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"sms"}, "code": {code3}})
	expectRedirect(t, r, "/wiki")
	b2.signedIn("alice", "/wiki")

	// The used code, in a new sign-in, does not work again.
	b3 := g.newBrowser()
	b3.passwordOnly("alice", "/")
	ch = b3.get("/.mfa/challenge")
	r = b3.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"sms"}, "code": {code3}})
	expectStatus(t, r, http.StatusUnauthorized)
	expectText(t, r, "That code has expired or was already used")
	b3.notSignedIn("/")
	// Nor does the enrolment code.
	r = b3.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, r.Body)}, "method": {"sms"}, "code": {code}})
	expectStatus(t, r, http.StatusUnauthorized)
	b3.notSignedIn("/")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPhoneSMSWebhook: the same enrolment through the webhook provider,
// whose receiver checks the HMAC signature, and a sign-in with a texted code.
func TestPhoneSMSWebhook(t *testing.T) {
	t.Parallel()
	hook := webhooktest.New(t, []byte(hookSecret))
	g, _ := startPhoneGateway(t, hookBlock(hook)+limitsBlock("resend_after 1s"))
	var gap sendGap

	b := g.newBrowser()
	start := time.Now()
	var got webhooktest.Text
	b.enrolSMSWith("alice", "", ukMobileTyped, func() string {
		got = hook.WaitText(t, ukMobileE164, sendTimeout)
		return got.Text
	})
	gap.sent("alice")
	code := codeOf(t, got.Text)
	if got.To != ukMobileE164 || !strings.Contains(got.Text, "E2E Corp") || !strings.HasSuffix(got.Text, "\n@127.0.0.1 #"+code) {
		t.Fatalf("webhook text to %q: %q", got.To, got.Text)
	}
	if got.SentAt.Before(start.Add(-2*time.Second)) || got.SentAt.After(time.Now().Add(2*time.Second)) {
		t.Fatalf("sent_at %v is not the time of sending", got.SentAt)
	}
	b.signedIn("alice", "/")

	b2 := g.newBrowser()
	b2.passwordOnly("alice", "/")
	gap.wait("alice")
	expectRedirect(t, b2.sendFromChallenge("sms"), "/.mfa/challenge?method=sms")
	got = hook.WaitText(t, ukMobileE164, sendTimeout)
	page := b2.get("/.mfa/challenge?method=sms")
	expectText(t, page, "We texted a code to +44 •••• ••3456")
	expectRedirect(t, b2.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"sms"}, "code": {codeOf(t, got.Text)}}), "/")
	b2.signedIn("alice", "/")
	if n, rej := len(hook.Texts()), hook.Rejected(); n != 2 || len(rej) != 0 {
		t.Fatalf("receiver got %d texts (want 2), rejected %q", n, rej)
	}
}

// TestVoiceEnrolAndSignIn: a call through Twilio registers a number when
// the callee presses #; an office number gets its extension dialled; a
// sign-in call completes the sign-in, and the waiting page's long poll
// answers as soon as the key is pressed.
func TestVoiceEnrolAndSignIn(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, public := startPhoneGateway(t, twilioBlock("voice", f)+limitsBlock("resend_after 1s"))
	var gap sendGap

	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
	setup := b.get("/.mfa/setup")
	if !strings.Contains(setup.Body, `href="/.mfa/setup/phone?method=voice"`) || strings.Contains(setup.Body, "method=sms") {
		t.Fatalf("setup page should offer calls and not texts:\n%s", setup.Body)
	}
	form := b.get("/.mfa/setup/phone?method=voice")
	if !strings.Contains(form.Body, `name="ext"`) {
		t.Fatalf("the call form asks for no extension:\n%s", form.Body)
	}
	expectRedirect(t, b.submitNumber("voice", jpRegion, jpTyped, ""), "/.mfa/setup/phone/wait")
	gap.sent("alice")
	call := f.WaitCall(t, jpE164, sendTimeout)
	base := public + "/.mfa/voice/twilio?"
	if call.From != twilioFrom || call.SendDigits != "" {
		t.Fatalf("call from %q with SendDigits %q", call.From, call.SendDigits)
	}
	if !strings.Contains(call.Twiml, "<Gather") || !strings.HasPrefix(call.GatherURL, base) || !strings.HasPrefix(call.StatusURL, base) {
		t.Fatalf("call TwiML %q: gather %q, status %q; want both under %s", call.Twiml, call.GatherURL, call.StatusURL, base)
	}
	gu, su := mustURL(t, call.GatherURL).Query(), mustURL(t, call.StatusURL).Query()
	if gu.Get("call") == "" || gu.Get("call") != su.Get("call") || gu.Get("event") != "gather" || su.Get("event") != "status" {
		t.Fatalf("callback URLs %q and %q", call.GatherURL, call.StatusURL)
	}
	if !strings.Contains(call.Say, "press the pound key") || !strings.Contains(call.Say, "E2E Corp") || call.Language != "en-US" {
		t.Fatalf("the call says (%s) %q", call.Language, call.Say)
	}

	wait := b.get("/.mfa/setup/phone/wait")
	expectStatus(t, wait, http.StatusOK)
	expectText(t, wait, "We're calling "+jpMasked, "Continue", `data-status="/.mfa/call/status?purpose=enrol"`, `src="/.mfa/static/wait.js"`, `<noscript><meta http-equiv="refresh"`)
	expectNoText(t, wait, jpE164, "9012345678")

	ans := pressed(t, f, call, "#")
	expectStatus(t, ans, http.StatusOK)
	if ct := ans.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") || !strings.Contains(ans.Body, "This phone is confirmed") ||
		strings.Contains(ans.Body, "signed in") || !strings.Contains(ans.Body, "<Hangup/>") {
		t.Fatalf("answer to # (%s): %s", ct, ans.Body)
	}
	// The call ends; its status callback changes nothing.
	expectStatus(t, hungUp(t, f, call, "completed"), http.StatusNoContent)
	st := b.get("/.mfa/call/status?purpose=enrol", "Accept", "application/json")
	expectStatus(t, st, http.StatusOK)
	if status := statusOf(t, st); status != "approved" {
		t.Fatalf("call status %q after #, want approved", status)
	}
	recoveryCodesOf(t, b.finishWait("/.mfa/setup/phone/wait"))
	b.signedIn("alice", "/")

	// An office number: the extension is dialled once connected. Bob's
	// browser prefers Japanese: so does the call.
	bob := g.newBrowser()
	bob.lang = "ja,en;q=0.5"
	expectRedirect(t, bob.login("bob", testPassword, "/"), "/.mfa/setup")
	expectRedirect(t, bob.submitNumber("voice", "GB", ukLandTyped, "1234"), "/.mfa/setup/phone/wait")
	office := f.WaitCall(t, ukLandE164, sendTimeout)
	if office.SendDigits != "wwww1234" {
		t.Fatalf("SendDigits %q, want wwww1234", office.SendDigits)
	}
	if office.Language != "ja-JP" || !strings.Contains(office.Say, "シャープを押してください") || mustURL(t, office.GatherURL).Query().Get("lang") != "ja" {
		t.Fatalf("a Japanese user's call says (%s) %q, gather %s", office.Language, office.Say, office.GatherURL)
	}
	wait = bob.get("/.mfa/setup/phone/wait")
	expectText(t, wait, ukLandMasked+" 内線 ••••") // a Japanese page says 内線, not ext.
	expectNoText(t, wait, "0958 ext. 1")
	ans = pressed(t, f, office, "#")
	expectStatus(t, ans, http.StatusOK)
	if !strings.Contains(ans.Body, `language="ja-JP"`) || !strings.Contains(ans.Body, "この電話番号を確認しました") || strings.Contains(ans.Body, "サインインしました") {
		t.Fatalf("answer to a Japanese callee: %s", ans.Body)
	}
	bob.lang = ""
	recoveryCodesOf(t, bob.finishWait("/.mfa/setup/phone/wait"))

	// Sign-in by a call; the long poll in flight answers once # is pressed.
	b2 := g.newBrowser()
	b2.passwordOnly("alice", "/app")
	ch := b2.get("/.mfa/challenge")
	expectStatus(t, ch, http.StatusOK)
	expectText(t, ch, "Call me", "We'll call "+jpMasked)
	gap.wait("alice")
	expectRedirect(t, b2.post("/.mfa/challenge/send", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"voice"}}), "/.mfa/challenge/wait")
	call2 := f.WaitCall(t, jpE164, sendTimeout)
	if !strings.Contains(call2.Say, "signing in as Alice Example") || !strings.Contains(call2.Say, "press the pound key") {
		t.Fatalf("sign-in call says %q", call2.Say)
	}
	poll := b2.pollStatus("sign-in")
	time.Sleep(700 * time.Millisecond) // the poll is waiting by now
	pressedAt := time.Now()
	expectStatus(t, pressed(t, f, call2, "#"), http.StatusOK)
	var res pollResult
	select {
	case res = <-poll:
	case <-time.After(15 * time.Second):
		t.Fatal("the long poll did not answer within 15 s of the key press")
	}
	if res.err != nil || res.status != http.StatusOK || !strings.Contains(res.body, `"status":"approved"`) {
		t.Fatalf("long poll: %v %d %s", res.err, res.status, res.body)
	}
	if after := time.Since(pressedAt); after > 3*time.Second {
		t.Fatalf("the long poll answered %v after the key press", after)
	}
	expectRedirect(t, b2.finishWait("/.mfa/challenge/wait"), "/app")
	b2.signedIn("alice", "/app")
	if n := len(f.Messages()); n != 0 {
		t.Fatalf("%d texts sent by a voice-only gateway", n)
	}
}

// redisContains says where under prefix Redis holds s: in a key's name,
// or in a string, hash, set or list value; "" if nowhere.
func redisContains(t *testing.T, rdb redis.UniversalClient, prefix, s string) string {
	t.Helper()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		if strings.Contains(k, s) {
			return "key " + k
		}
		var vals []string
		switch rdb.Type(ctx, k).Val() {
		case "string":
			vals = []string{rdb.Get(ctx, k).Val()}
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				vals = append(vals, f, v)
			}
		case "set":
			vals = rdb.SMembers(ctx, k).Val()
		case "list":
			vals = rdb.LRange(ctx, k, 0, -1).Val()
		}
		for _, v := range vals {
			if strings.Contains(v, s) {
				return "value of " + k
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return ""
}

// filesContaining lists the files under dir that contain s.
func filesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// statusOf reads the call status JSON.
func statusOf(t *testing.T, r *response) string {
	t.Helper()
	var v struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("call status is not JSON: %v: %s", err, r.Body)
	}
	return v.Status
}

// TestVoiceCallbackSecurity: a forged callback, a replayed one, a denial,
// a hang-up and a fraud report at sign-in; fraud blocks the user until
// `caddy mfa unlock`.
func TestVoiceCallbackSecurity(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	hook := webhooktest.New(t, []byte(hookSecret))
	g, _ := startPhoneGateway(t, twilioBlock("voice", f)+fmt.Sprintf("fraud_webhook %s {\n secret %s\n }\n", hook.URL(), hookSecret)+
		limitsBlock("resend_after 1s", "send_per_user 50/1h", "send_per_number 50/1h", "login_per_user 100/1m", "code_per_user 100/1m"))
	// Alice and bob take turns, so that no step waits for resend_after.
	var gap sendGap
	numbers := map[string]string{"alice": jpE164, "bob": usE164}
	g.newBrowser().enrolVoice(f, "alice", jpRegion, jpTyped, "", jpE164)
	gap.sent("alice")
	g.newBrowser().enrolVoice(f, "bob", "US", usTyped, "", usE164)
	gap.sent("bob")

	// signInCall signs user in with the password and has the gateway call.
	signInCall := func(user string) (*browser, twiliotest.CallRecord) {
		t.Helper()
		b := g.newBrowser()
		b.passwordOnly(user, "/app")
		gap.wait(user)
		expectRedirect(t, b.sendFromChallenge("voice"), "/.mfa/challenge/wait")
		gap.sent(user)
		return b, f.WaitCall(t, numbers[user], sendTimeout)
	}
	// stillWaiting: Continue before the call has an answer shows the
	// waiting page again, signing nobody in and logging no failure.
	stillWaiting := func(b *browser) {
		t.Helper()
		r := b.finishWait("/.mfa/challenge/wait")
		expectStatus(t, r, http.StatusAccepted)
		expectText(t, r, "Waiting for you to answer")
		expectNoText(t, r, "The call was not approved")
		b.notSignedIn("/app")
	}
	notApproved := func(b *browser) {
		t.Helper()
		r := b.finishWait("/.mfa/challenge/wait")
		expectStatus(t, r, http.StatusUnauthorized)
		expectText(t, r, "The call was not approved")
		b.notSignedIn("/app")
	}

	// A callback signed with another token is refused and changes nothing.
	b, call := signInCall("bob")
	form := url.Values{"AccountSid": {twilioSID}, "CallSid": {call.SID}, "From": {call.From}, "To": {call.To},
		"CallStatus": {"in-progress"}, "Direction": {"outbound-api"}, "ApiVersion": {"2010-04-01"}, "Digits": {"#"}}
	forged := f.PostSigned(t, call.GatherURL, form, "not-the-auth-token")
	if forged.StatusCode != http.StatusForbidden {
		t.Fatalf("forged callback: status %d, want 403", forged.StatusCode)
	}
	if len(g.waitLog("call_callback_rejected")) == 0 {
		t.Error("the forged callback is not in the log")
	}
	stillWaiting(b)
	// A callback signed right, for this call's URL, but naming another of
	// the account's calls (CallSid) is refused too.
	otherSID := call
	otherSID.SID = "CA" + strings.Repeat("0", 32)
	expectStatus(t, pressed(t, f, otherSID, "#"), http.StatusConflict)
	stillWaiting(b)
	// The real "#", then the same callback again: the replay is refused.
	expectStatus(t, pressed(t, f, call, "#"), http.StatusOK)
	expectStatus(t, pressed(t, f, call, "#"), http.StatusConflict)
	// Another session of the same user cannot finish with that call.
	other := g.newBrowser()
	other.passwordOnly("bob", "/app")
	notApproved(other)
	expectRedirect(t, b.finishWait("/.mfa/challenge/wait"), "/app")
	b.signedIn("bob", "/app")
	// Nor can this one, a second time, once it is used.
	notApproved(other)

	// Any other key denies.
	b, call = signInCall("alice")
	ans := pressed(t, f, call, "1")
	expectStatus(t, ans, http.StatusOK)
	if !strings.Contains(ans.Body, "not approved") {
		t.Fatalf("answer to 1: %s", ans.Body)
	}
	r := b.get("/.mfa/call/status?purpose=sign-in", "Accept", "application/json")
	if s := statusOf(t, r); s != "denied" {
		t.Fatalf("status %q after 1, want denied", s)
	}
	notApproved(b)
	expectStatus(t, pressed(t, f, call, "#"), http.StatusConflict) // no second answer
	notApproved(b)

	// Hanging up before any key denies.
	b, call = signInCall("bob")
	expectStatus(t, hungUp(t, f, call, "completed"), http.StatusNoContent)
	expectStatus(t, pressed(t, f, call, "#"), http.StatusConflict)
	notApproved(b)

	// 0# reports fraud: the user is blocked until an administrator unlocks.
	b, call = signInCall("alice")
	ans = pressed(t, f, call, "0#")
	expectStatus(t, ans, http.StatusOK)
	if !strings.Contains(ans.Body, "blocked") {
		t.Fatalf("answer to 0#: %s", ans.Body)
	}
	if lines := g.waitLog(`"fraud_reported"`, `"user":"alice"`); len(lines) != 1 || !strings.Contains(lines[0], `"level":"warn"`) {
		t.Fatalf("fraud report log lines: %q", lines)
	}
	if report := hook.WaitFraud(t, "alice", sendTimeout); report.Method != "voice" {
		t.Errorf("fraud_webhook got %+v, want a report of a call", report)
	}
	r = b.finishWait("/.mfa/challenge/wait")
	if r.StatusCode == http.StatusSeeOther || r.StatusCode == http.StatusFound {
		t.Fatalf("the reported sign-in completed: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	b.notSignedIn("/app")
	// The blocked user's pending sign-in cannot have the phone called again.
	calls := len(f.Calls())
	gap.wait("alice")
	r = b.sendFromChallenge("voice")
	expectStatus(t, r, http.StatusForbidden)
	expectText(t, r, "blocked because someone reported a sign-in")
	if n := len(f.Calls()); n != calls {
		t.Fatalf("a blocked user's session placed %d more calls", n-calls)
	}
	// Told only after the right password (a wrong one is answered as for
	// anyone: hardening_blocked_test.go).
	expectStatus(t, g.newBrowser().login("alice", "wrong password", "/"), http.StatusUnauthorized)
	r = g.newBrowser().login("alice", testPassword, "/")
	expectStatus(t, r, http.StatusForbidden)
	expectText(t, r, "Sign-in is blocked", "blocked because someone reported a sign-in")
	// Others are not blocked.
	g.newBrowser().passwordOnly("bob", "/")
	out, err := g.cli("mfa", "unlock", "alice")
	if err != nil || !strings.Contains(out, `"was_locked":true`) {
		t.Fatalf("caddy mfa unlock: %v %s", err, out)
	}
	b, call = signInCall("alice")
	expectStatus(t, pressed(t, f, call, "#"), http.StatusOK)
	expectRedirect(t, b.finishWait("/.mfa/challenge/wait"), "/app")
	b.signedIn("alice", "/app")

	// A callback about no call at all.
	bogus := call
	bogus.GatherURL = strings.Replace(call.GatherURL, "call="+mustURL(t, call.GatherURL).Query().Get("call"), "call=00000000000000000000000000000000", 1)
	expectStatus(t, pressed(t, f, bogus, "#"), http.StatusConflict)
}

// TestVoiceCallbackAfterExpiry: on Redis, a call answered after its five
// minutes is refused and does not sign in.
func TestVoiceCallbackAfterExpiry(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g, _ := startPhoneGateway(t, global+"\n"+twilioBlock("voice", f)+limitsBlock("resend_after 1s"))
	var gap sendGap
	g.newBrowser().enrolVoice(f, "alice", jpRegion, jpTyped, "", jpE164)
	gap.sent("alice")

	b := g.newBrowser()
	b.passwordOnly("alice", "/")
	gap.wait("alice")
	expectRedirect(t, b.sendFromChallenge("voice"), "/.mfa/challenge/wait")
	call := f.WaitCall(t, jpE164, sendTimeout)
	redistest.Advance(t, rdb, prefix, 5*time.Minute+time.Second)
	expectStatus(t, pressed(t, f, call, "#"), http.StatusConflict)
	r := b.finishWait("/.mfa/challenge/wait")
	expectStatus(t, r, http.StatusUnauthorized)
	expectText(t, r, "The call was not approved")
	b.notSignedIn("/")
	// The waiting page no longer waits for it.
	expectRedirect(t, b.get("/.mfa/challenge/wait"), "/.mfa/challenge?method=voice")
}

// TestSMSCodeExpires: on Redis, a texted code entered after five minutes
// fails, at enrolment and at sign-in.
func TestSMSCodeExpires(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	global, rdb, prefix := redisGlobal(t, redistest.Addr())
	g, _ := startPhoneGateway(t, global+"\n"+twilioBlock("sms", f)+limitsBlock("resend_after 1s"))

	// At enrolment.
	bob := g.newBrowser()
	expectRedirect(t, bob.login("bob", testPassword, "/"), "/.mfa/setup")
	expectRedirect(t, bob.submitNumber("sms", "", usTyped, ""), "/.mfa/setup/phone/code")
	old := codeOf(t, f.WaitMessage(t, usE164, sendTimeout).Body)
	page := bob.get("/.mfa/setup/phone/code")
	expectStatus(t, page, http.StatusOK)

	// At sign-in.
	var gap sendGap
	g.newBrowser().enrolSMS(f, "alice", jpRegion, jpTyped, jpE164)
	gap.sent("alice")
	b := g.newBrowser()
	b.passwordOnly("alice", "/")
	gap.wait("alice")
	expectRedirect(t, b.sendFromChallenge("sms"), "/.mfa/challenge?method=sms")
	code := codeOf(t, f.WaitMessage(t, jpE164, sendTimeout).Body)
	ch := b.get("/.mfa/challenge?method=sms")
	expectStatus(t, ch, http.StatusOK)

	// No number is kept in clear in Redis, in keys or values.
	for _, n := range []string{"9012345678", "6502530000"} {
		if where := redisContains(t, rdb, prefix, n); where != "" {
			t.Errorf("Redis holds the phone number in clear: %s", where)
		}
	}

	redistest.Advance(t, rdb, prefix, 5*time.Minute+time.Second)

	r := bob.post("/.mfa/setup/phone/code", url.Values{"csrf": {csrfOf(t, page.Body)}, "code": {old}})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectText(t, r, "That code has expired or was already used")
	bob.notSignedIn("/")

	r = b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"sms"}, "code": {code}})
	expectStatus(t, r, http.StatusUnauthorized)
	expectText(t, r, "That code has expired or was already used", "Text me a code")
	b.notSignedIn("/")
}

// TestPhoneBadNumbers: each mistake in the phone form gets its own
// message, and nothing is sent.
func TestPhoneBadNumbers(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+twilioBlock("voice", f))
	b := g.newBrowser()
	expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
	for _, c := range []struct {
		name, method, region, number, ext, want string
	}{
		{"letters", "sms", "JP", "abc", "", "A phone number has only digits"},
		{"too short", "sms", "JP", "12", "", "This number is too short for the chosen country"},
		{"no country", "sms", "", jpTyped, "", "Choose the country or region of the number"},
		{"invalid", "sms", "JP", "+81 00 0000 0000", "", "This is not a valid phone number in the chosen country"},
		{"empty", "voice", "JP", "", "", "Enter a phone number."},
		{"bad extension", "voice", "GB", ukLandTyped, "12a", "An extension has only digits, at most 10."},
		{"landline for texts", "sms", "GB", ukLandTyped, "", "This number can't receive text messages."},
		{"premium rate", "voice", "GB", "+44 909 879 0000", "", "This kind of number can't be used"},
		{"toll free", "sms", "US", "+1 800 234 5678", "", "This kind of number can't be used"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.t = t
			r := b.submitNumber(c.method, c.region, c.number, c.ext)
			expectStatus(t, r, http.StatusUnprocessableEntity)
			expectText(t, r, c.want, `role="alert"`, `aria-describedby="number-error"`)
			// What was typed stays in the form.
			if c.number != "" && !strings.Contains(pageText(r), `value="`+c.number+`"`) {
				t.Errorf("the form lost the number typed")
			}
		})
	}
	b.t = t
	if m, c := f.Messages(), f.Calls(); len(m)+len(c) != 0 {
		t.Fatalf("sent %d texts and %d calls for bad numbers", len(m), len(c))
	}
	// A landline can be called, though.
	expectRedirect(t, b.submitNumber("voice", "GB", ukLandTyped, ""), "/.mfa/setup/phone/wait")
	f.WaitCall(t, ukLandE164, sendTimeout)
}

// TestPhoneMethodsOption: `methods` limits what users may register, and
// without it a configured provider adds its method.
func TestPhoneMethodsOption(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	t.Run("totp only", func(t *testing.T) {
		t.Parallel()
		g, _ := startPhoneGateway(t, "methods totp\n"+twilioBlock("sms", f))
		b := g.newBrowser()
		expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
		setup := b.get("/.mfa/setup")
		expectStatus(t, setup, http.StatusOK)
		if strings.Contains(setup.Body, "setup/phone") || !strings.Contains(setup.Body, `href="/.mfa/setup/totp"`) {
			t.Fatalf("setup page with methods totp:\n%s", setup.Body)
		}
		expectRedirect(t, b.get("/.mfa/setup/phone?method=sms"), "/.mfa/setup")
		expectRedirect(t, b.get("/.mfa/setup/phone?method=voice"), "/.mfa/setup")
		r := b.post("/.mfa/setup/phone", url.Values{"csrf": {csrfOf(t, setup.Body)}, "method": {"sms"}, "region": {"JP"}, "number": {jpTyped}})
		expectRedirect(t, r, "/.mfa/setup")
	})
	t.Run("sms provider only", func(t *testing.T) {
		t.Parallel()
		g, _ := startPhoneGateway(t, twilioBlock("sms", f))
		b := g.newBrowser()
		expectRedirect(t, b.login("alice", testPassword, "/"), "/.mfa/setup")
		setup := b.get("/.mfa/setup")
		expectStatus(t, setup, http.StatusOK)
		if !strings.Contains(setup.Body, `href="/.mfa/setup/totp"`) || !strings.Contains(setup.Body, `href="/.mfa/setup/phone?method=sms"`) || strings.Contains(setup.Body, "method=voice") {
			t.Fatalf("setup page with an sms provider only:\n%s", setup.Body)
		}
		expectRedirect(t, b.get("/.mfa/setup/phone?method=voice"), "/.mfa/setup")
	})
	t.Run("voice twilio without public_url", func(t *testing.T) {
		t.Parallel()
		out, err := validate(t, fmt.Sprintf("{\n admin off\n mfa {\n users_file %s\n data_dir %s\n %s }\n}\n:0 {\n mfa\n respond ok\n}\n",
			writeUsers(t), t.TempDir(), twilioBlock("voice", f)))
		if err == nil || !strings.Contains(out, "public_url") {
			t.Fatalf("voice twilio without public_url: %v\n%s", err, out)
		}
	})
	t.Run("method without provider", func(t *testing.T) {
		t.Parallel()
		out, err := validate(t, fmt.Sprintf("{\n admin off\n mfa {\n users_file %s\n data_dir %s\n methods totp voice\n }\n}\n:0 {\n mfa\n respond ok\n}\n",
			writeUsers(t), t.TempDir()))
		if err == nil || !strings.Contains(out, "voice needs a provider") {
			t.Fatalf("methods voice without a provider: %v\n%s", err, out)
		}
	})
	if m := f.Messages(); len(m) != 0 {
		t.Fatalf("texts sent: %v", m)
	}
}

// TestPhoneSignInChoices: a user with a mobile may be texted or called
// and sees both ways; a texted code raced by two sessions works once; a
// user with only an office line is never texted, and asking for a text
// does not ring the phone instead.
func TestPhoneSignInChoices(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+twilioBlock("voice", f)+limitsBlock("resend_after 1s"))
	var gap sendGap
	g.newBrowser().enrolSMS(f, "alice", jpRegion, jpTyped, jpE164)
	gap.sent("alice")

	b, c := g.newBrowser(), g.newBrowser()
	b.passwordOnly("alice", "/b")
	c.passwordOnly("alice", "/c")
	ch := b.get("/.mfa/challenge")
	expectStatus(t, ch, http.StatusOK)
	expectText(t, ch, "Text me a code", "Call "+jpMasked, `href="/.mfa/challenge?method=voice"`, "Use a recovery code")
	expectText(t, b.get("/.mfa/challenge?method=voice"), "Call me", "Text "+jpMasked)
	gap.wait("alice")
	expectRedirect(t, b.post("/.mfa/challenge/send", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"sms"}}), "/.mfa/challenge?method=sms")
	gap.sent("alice")
	code := codeOf(t, f.WaitMessage(t, jpE164, sendTimeout).Body)

	// Both sessions post the code at once: one signs in.
	pb, pc := b.get("/.mfa/challenge?method=sms"), c.get("/.mfa/challenge?method=sms")
	rb := b.postAsync("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, pb.Body)}, "method": {"sms"}, "code": {code}})
	rc := c.postAsync("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, pc.Body)}, "method": {"sms"}, "code": {code}})
	resB, resC := <-rb, <-rc
	if resB.err != nil || resC.err != nil {
		t.Fatalf("posting the code: %v, %v", resB.err, resC.err)
	}
	won := 0
	for _, r := range []pollResult{resB, resC} {
		switch r.status {
		case http.StatusSeeOther:
			won++
		case http.StatusUnauthorized:
		default:
			t.Errorf("a racing code check answered %d:\n%s", r.status, tail(r.body, 1500))
		}
	}
	if won != 1 {
		t.Fatalf("%d of two racing sessions signed in with one texted code (statuses %d and %d)", won, resB.status, resC.status)
	}

	// Bob registers an office line, which takes calls only.
	bob := g.newBrowser()
	expectRedirect(t, bob.login("bob", testPassword, "/"), "/.mfa/setup")
	expectRedirect(t, bob.submitNumber("voice", "GB", ukLandTyped, ""), "/.mfa/setup/phone/wait")
	gap.sent("bob")
	expectStatus(t, pressed(t, f, f.WaitCall(t, ukLandE164, sendTimeout), "#"), http.StatusOK)
	recoveryCodesOf(t, bob.finishWait("/.mfa/setup/phone/wait"))

	b2 := g.newBrowser()
	b2.passwordOnly("bob", "/")
	ch = b2.get("/.mfa/challenge?method=sms")
	expectStatus(t, ch, http.StatusOK)
	expectText(t, ch, "Call me", "We'll call "+ukLandMasked)
	expectNoText(t, ch, "Text me a code", "method=sms")
	// A form asking for a text (an old page, a crafted request) does not
	// place a call instead.
	calls, texts := len(f.Calls()), len(f.Messages())
	gap.wait("bob")
	r := b2.post("/.mfa/challenge/send", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"sms"}})
	if n := len(f.Calls()); n != calls {
		t.Errorf("asking for a text (answered %d, to %q) placed a call to an office line", r.StatusCode, r.Header.Get("Location"))
	}
	if n := len(f.Messages()); n != texts {
		t.Errorf("a text was sent to an office line")
	}
}
