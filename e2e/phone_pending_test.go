package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
)

// TestPhoneSignInEndsPending: a sign-in that completes ends what its
// session had pending. A code texted during a sign-in finished by a call
// is not accepted after signing out and in again, and that sign-in's page
// does not say a code was texted when none was; a call placed during a
// sign-in finished by a text approves nothing when answered later.
func TestPhoneSignInEndsPending(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+twilioBlock("voice", f)+
		limitsBlock("resend_after 1s", "send_per_user 50/1h", "send_per_number 50/1h"))
	var gap sendGap
	g.newBrowser().enrolSMS(f, "alice", jpRegion, jpTyped, jpE164)
	gap.sent("alice")

	// A text, then a call that signs in.
	b := g.newBrowser()
	b.passwordOnly("alice", "/")
	gap.wait("alice")
	expectRedirect(t, b.sendFromChallenge("sms"), "/.mfa/challenge?method=sms")
	gap.sent("alice")
	code := codeOf(t, f.WaitMessage(t, jpE164, sendTimeout).Body)
	gap.wait("alice")
	expectRedirect(t, b.sendFromChallenge("voice"), "/.mfa/challenge/wait")
	gap.sent("alice")
	expectStatus(t, pressed(t, f, f.WaitCall(t, jpE164, sendTimeout), "#"), http.StatusOK)
	expectRedirect(t, b.finishWait("/.mfa/challenge/wait"), "/")
	b.signedIn("alice", "/")

	// Signed out and in again: no code is waiting, and the old one is dead.
	b.signOut()
	b.passwordOnly("alice", "/")
	page := b.get("/.mfa/challenge?method=sms")
	expectStatus(t, page, http.StatusOK)
	expectText(t, page, "We'll text a code to "+jpMasked, "Text me a code")
	expectNoText(t, page, "We texted a code")
	r := b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"sms"}, "code": {code}})
	if r.StatusCode == http.StatusSeeOther {
		t.Fatalf("a code texted during an earlier, finished sign-in signed in again (to %q)", r.Header.Get("Location"))
	}
	b.notSignedIn("/")

	// A call, then a text that signs in: the call approves nothing later.
	c := g.newBrowser()
	c.passwordOnly("alice", "/")
	gap.wait("alice")
	expectRedirect(t, c.sendFromChallenge("voice"), "/.mfa/challenge/wait")
	gap.sent("alice")
	call := f.WaitCall(t, jpE164, sendTimeout)
	gap.wait("alice")
	expectRedirect(t, c.sendFromChallenge("sms"), "/.mfa/challenge?method=sms")
	gap.sent("alice")
	code = codeOf(t, f.WaitMessage(t, jpE164, sendTimeout).Body)
	page = c.get("/.mfa/challenge?method=sms")
	expectRedirect(t, c.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, page.Body)}, "method": {"sms"}, "code": {code}}), "/")
	if a := pressed(t, f, call, "#"); a.StatusCode == http.StatusOK && strings.Contains(a.Body, "You are signed in") {
		t.Fatalf("a call of a sign-in finished by a text was approved afterwards:\n%s", a.Body)
	}
}

// TestPhoneResendPerChannel: the wait between two sends is per channel.
// A call right after a text (or a text right after a call) goes out; a
// second text, or a second call, right away is refused, in the words of
// its channel.
func TestPhoneResendPerChannel(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+twilioBlock("voice", f)) // resend_after 30s
	g.newBrowser().enrolSMS(f, "alice", jpRegion, jpTyped, jpE164)

	b := g.newBrowser()
	b.passwordOnly("alice", "/")
	// Just texted (the registration): a call goes out all the same.
	expectRedirect(t, b.sendFromChallenge("voice"), "/.mfa/challenge/wait")
	f.WaitCall(t, jpE164, sendTimeout)
	// Another text, or another call, waits.
	r := b.sendFromChallenge("sms")
	expectStatus(t, r, http.StatusTooManyRequests)
	expectText(t, r, "A code was sent only a moment ago.")
	r = b.sendFromChallenge("voice")
	expectStatus(t, r, http.StatusTooManyRequests)
	expectText(t, r, "We called you only a moment ago.", "Call me")
	expectNoText(t, r, "A code was sent", `id="code"`)
	if m, c := len(f.Messages()), len(f.Calls()); m != 1 || c != 1 {
		t.Fatalf("%d texts and %d calls went out, want 1 and 1", m, c)
	}
}

// TestPhoneAddCallSignedIn: a signed-in user adding a phone call (from
// Security info) is answered by the waiting page's status poll, and the
// approved page does not say "Signing you in". The app-notification poll
// answers such a user too.
func TestPhoneAddCallSignedIn(t *testing.T) {
	t.Parallel()
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("sms", f)+twilioBlock("voice", f)+limitsBlock("resend_after 1s"))
	b := g.newBrowser()
	b.enrolSMS(f, "alice", jpRegion, jpTyped, jpE164)

	if r := <-b.pollStatus("enrol"); r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"none"`) {
		t.Fatalf("the call status poll of a signed-in user answered %d %q (%v)", r.status, r.body, r.err)
	}
	push := b.get("/.mfa/push/status?purpose=enrol", "Accept", "application/json")
	expectStatus(t, push, http.StatusOK)
	expectText(t, push, `"none"`)

	expectRedirect(t, b.submitNumber("voice", "GB", ukLandTyped, ""), "/.mfa/setup/phone/wait")
	call := f.WaitCall(t, ukLandE164, sendTimeout)
	poll := b.pollStatus("enrol")
	expectStatus(t, pressed(t, f, call, "#"), http.StatusOK)
	if r := <-poll; r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"approved"`) {
		t.Fatalf("the call status poll of a signed-in user answered %d %q (%v)", r.status, r.body, r.err)
	}
	page := b.get("/.mfa/setup/phone/wait")
	expectStatus(t, page, http.StatusOK)
	expectNoText(t, page, "Signing you in", "Cancel and sign out")
	expectRedirect(t, b.post("/.mfa/setup/phone/wait", url.Values{"csrf": {csrfOf(t, page.Body)}}), "/.mfa/security?added=1")

	// A registration call not approved: nobody is signing in here.
	time.Sleep(1100 * time.Millisecond) // resend_after
	expectRedirect(t, b.submitNumber("voice", "US", usTyped, ""), "/.mfa/setup/phone/wait")
	expectStatus(t, pressed(t, f, f.WaitCall(t, usE164, sendTimeout), "1"), http.StatusOK)
	page = b.get("/.mfa/setup/phone/wait")
	expectText(t, page, "The call was not approved. Call again, or choose another method.", "Back to security info")
	expectNoText(t, page, "sign in another way", "Answer the call and press #")
}
