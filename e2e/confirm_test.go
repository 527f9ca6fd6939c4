package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDestructiveActionsAskFirst: Remove, Revoke, Forget, Get new
// recovery codes and Sign out everywhere, posted from the security-info
// page without the confirmation, do nothing and lead to a page (a GET,
// plain HTML, no script needed) that asks once, in the user's language;
// its button posts the action with confirm=1 and the CSRF token.
func TestDestructiveActionsAskFirst(t *testing.T) {
	t.Parallel()
	_, b := twoMethodsSignedIn(t)
	sec := b.get("/.mfa/security")
	csrf := csrfOf(t, sec.Body)
	create := b.post("/.mfa/security/app-passwords", url.Values{"csrf": {csrf}, "name": {"Mail"}})
	if create.StatusCode != http.StatusSeeOther {
		t.Fatalf("creating an app password: %d, want 303", create.StatusCode)
	}
	sec = b.get("/.mfa/security")
	appID := idOf(t, sec.Body, "/.mfa/security/app-passwords/revoke")
	devID := idOf(t, sec.Body, "/.mfa/security/devices/forget")

	cases := []struct {
		path string
		form url.Values
		en   []string
		ja   []string
	}{
		{"/.mfa/security/recovery", url.Values{}, []string{"Get new recovery codes?", "stop working"}, []string{"新しい回復コードを取得しますか？"}},
		{"/.mfa/security/signout", url.Values{"app_passwords": {"revoke"}}, []string{"Sign out everywhere?", "app passwords are revoked too"}, []string{"すべての場所からサインアウトしますか？"}},
		{"/.mfa/security/app-passwords/revoke", url.Values{"id": {appID}}, []string{"Revoke the app password “Mail”?"}, []string{"アプリパスワード「Mail」を取り消しますか？"}},
		{"/.mfa/security/devices/forget", url.Values{"id": {devID}}, []string{"Forget this device?"}, []string{"このデバイスの記憶を削除しますか？"}},
		{"/.mfa/security/remove", url.Values{"id": {"totp"}}, []string{"Remove Authenticator app?"}, []string{"認証アプリを削除しますか？"}},
		{"/.mfa/security/remove", url.Values{"id": {"phone-0"}, "masked": {jpMasked}}, []string{"Remove Phone " + jpMasked + "?"}, []string{"電話 " + jpMasked + "を削除しますか？"}},
	}
	before := b.get("/.mfa/security").Body
	for _, c := range cases {
		for _, lang := range []string{"en", "ja"} {
			b.lang = lang
			form := url.Values{"csrf": {csrf}}
			for k, v := range c.form {
				form[k] = v
			}
			loc := expectSeeOther(t, b.post(c.path, form))
			if u, _ := url.Parse(loc); u.Path != c.path {
				t.Fatalf("%s without confirm=1 leads to %q, want its confirmation page", c.path, loc)
			}
			page := b.get(loc)
			expectStatus(t, page, http.StatusOK)
			want := c.en
			if lang == "ja" {
				want = c.ja
			}
			expectText(t, page, want...)
			expectText(t, page, `action="`+c.path+`"`, `name="confirm" value="1"`, `name="csrf" value="`+csrf+`"`, `href="/.mfa/security"`)
			expectNoText(t, page, "<script")
			for k, v := range c.form {
				expectText(t, page, `name="`+k+`" value="`+v[0]+`"`)
			}
		}
	}
	b.lang = ""
	if after := b.get("/.mfa/security").Body; after != before {
		t.Fatalf("asking for confirmation changed the security info:\nbefore:\n%s\nafter:\n%s", tail(before, 2000), tail(after, 2000))
	}
	// A confirmation page for something that is not there any more.
	r := b.get("/.mfa/security/app-passwords/revoke?id=0000")
	if r.StatusCode == http.StatusOK && strings.Contains(r.Body, `name="confirm"`) {
		t.Fatal("a confirmation page for an app password that does not exist")
	}
	// Confirmed, it is done.
	expectText(t, b.confirmed("/.mfa/security/app-passwords/revoke", url.Values{"csrf": {csrf}, "id": {appID}}), "app password was revoked")
	// Without the CSRF token, confirmed or not, nothing.
	expectStatus(t, b.post("/.mfa/security/recovery", url.Values{"csrf": {"forged"}, "confirm": {"1"}}), http.StatusForbidden)
}

// idOf is the id posted by the first form of the page to action.
func idOf(t *testing.T, body, action string) string {
	t.Helper()
	i := strings.Index(body, `action="`+action+`"`)
	if i < 0 {
		t.Fatalf("no form to %s:\n%s", action, tail(body, 2500))
	}
	rest := body[i:]
	const mark = `name="id" value="`
	j := strings.Index(rest, mark)
	if j < 0 {
		t.Fatalf("the form to %s has no id", action)
	}
	rest = rest[j+len(mark):]
	return rest[:strings.IndexByte(rest, '"')]
}

// TestPortalWrongMethodAndUnknownPage: a GET of an action's address leads
// to where the action lives (or its confirmation page), never a bare 405;
// another method gets a 405 page that says what to do; an unknown portal
// address gets a 404 page in the user's language, with the security
// headers.
func TestPortalWrongMethodAndUnknownPage(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{})
	b := g.newBrowser()
	for lang, want := range map[string]string{"en": "Page not found", "ja": "ページが見つかりません"} {
		b.lang = lang
		r := b.get("/.mfa/no-such-page")
		expectStatus(t, r, http.StatusNotFound)
		expectText(t, r, want, "<h1")
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("404 page CSP %q", csp)
		}
		r = b.post("/.mfa/security", url.Values{})
		expectStatus(t, r, http.StatusMethodNotAllowed)
		if allow := r.Header.Get("Allow"); allow != "GET, HEAD" {
			t.Errorf("POST /.mfa/security: Allow %q", allow)
		}
		expectText(t, r, "<h1", map[string]string{"en": "can't be used this way", "ja": "この方法では使えません"}[lang])
	}
	b.lang = ""
	// Not signed in: the actions lead to sign-in, then security info.
	expectRedirect(t, b.get("/.mfa/security/remove"), "/.mfa/login?rd=/.mfa/security")
	expectRedirect(t, b.get("/.mfa/logout"), "/.mfa/")

	e := b.firstSignIn("alice", "/")
	for path, to := range map[string]string{
		"/.mfa/security/default":       "/.mfa/security",
		"/.mfa/security/keys/rename":   "/.mfa/security",
		"/.mfa/security/app-passwords": "/.mfa/security",
		"/.mfa/security/verify":        "/.mfa/security",
		"/.mfa/logout":                 "/.mfa/",
	} {
		expectRedirect(t, b.get(path), to)
	}
	// The destructive ones ask (what to confirm is named by its id).
	expectText(t, b.get("/.mfa/security/recovery"), "Get new recovery codes?")
	expectText(t, b.get("/.mfa/security/signout"), "Sign out everywhere?")
	expectRedirect(t, b.get("/.mfa/security/devices/forget"), "/.mfa/security")
	// A result page whose result is gone (or never was) goes to security info.
	other := g.newBrowser()
	expectRedirect(t, other.secondSignIn("alice", e, "/", 1), "/")
	expectRedirect(t, other.get("/.mfa/security/recovery/codes"), "/.mfa/security?done=expired")
	expectRedirect(t, other.get("/.mfa/security/app-passwords/new"), "/.mfa/security?done=expired")
	expectText(t, other.get("/.mfa/security?done=expired"), "shown only for a few minutes")
	// Non-browser clients get a short text.
	r := b.get("/.mfa/no-such-page", "Accept", "*/*")
	expectStatus(t, r, http.StatusNotFound)
}
