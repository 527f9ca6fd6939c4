package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

// TestPushTestNotificationSaysRegistration: the test notification sent
// while registering a phone says it is a test to finish registering, not
// that someone is signing in, in English and Japanese.
func TestPushTestNotificationSaysRegistration(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	g, _ := startPhoneGateway(t, ntfyBlock(f)+"organization Acme\n")
	for _, tc := range []struct {
		lang, user, page string
		want             []string
		not              []string
	}{
		{"", "alice", "Finish setting up this phone", []string{"Test notification: Acme", "finish setting up", "Open"}, []string{"is signing in", "approve or deny"}},
		{"ja", "bob", "このスマートフォンの登録を完了", []string{"テスト通知: Acme", "登録"}, []string{"サインインしようとしています", "承認または拒否"}},
	} {
		b := g.newBrowser()
		expectRedirect(t, b.login(tc.user, testPassword, "/"), "/.mfa/setup")
		setup := b.get("/.mfa/setup/push")
		topic := topicRE.FindStringSubmatch(setup.Body)[1]
		b.lang = tc.lang
		expectRedirect(t, b.post("/.mfa/setup/push", url.Values{"csrf": {csrfOf(t, setup.Body)}}), "/.mfa/setup/push/wait")
		msg := f.WaitMessage(t, topic, sendTimeout)
		text := msg.Title + " / " + msg.Message
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s test notification %q lacks %q", tc.user, text, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(text, n) {
				t.Errorf("%s test notification %q says %q", tc.user, text, n)
			}
		}
		// The page it opens does not ask "Are you trying to sign in?".
		ph := newPhone(t)
		ph.lang = tc.lang
		page := ph.open(msg.Click)
		expectText(t, page, tc.page)
		expectNoText(t, page, "Are you trying to sign in?", "サインインしようとしていますか")
	}
}
