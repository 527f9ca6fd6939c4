package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/ntfytest"
)

// TestMetrics: with Caddy's metrics on, the admin endpoint's /metrics
// counts what a scripted run did, each caddy_mfa_ series exactly (every
// other one at zero), and no label names a user or an address.
func TestMetrics(t *testing.T) {
	t.Parallel()
	f := ntfytest.New(t, ntfyToken)
	public := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	g := startGateway(t, gatewayOpts{
		options: "metrics",
		global: "public_url " + public + "\ndevelopment\nsms log\n" + ntfyBlock(f) +
			"limits {\n max_code_failures 3\n }\n",
		extraSites: public + " {\n\tmfa\n\trespond \"not the app\" 404\n}\n",
	})

	// A right sign-in with an authenticator app (its registration).
	alice := g.newBrowser()
	e := alice.firstSignIn("alice", "/")

	// Two wrong passwords.
	for range 2 {
		expectStatus(t, g.newBrowser().login("alice", "wrong", "/"), http.StatusUnauthorized)
	}

	// Wrong codes up to the lockout (three), then one more, refused.
	b := g.newBrowser()
	b.passwordOnly("alice", "/")
	wrong := func() *response {
		ch := b.get("/.mfa/challenge")
		return b.post("/.mfa/challenge", url.Values{"csrf": {csrfOf(t, ch.Body)}, "method": {"totp"},
			"code": {code(t, e.Secret, time.Now().Add(time.Hour))}})
	}
	for range 2 {
		expectStatus(t, wrong(), http.StatusUnauthorized)
	}
	wrong()
	expectStatus(t, wrong(), http.StatusTooManyRequests)

	// A text sent by the development provider, as bob registers a phone.
	bob := g.newBrowser()
	expectRedirect(t, bob.login("bob", testPassword, "/"), "/.mfa/setup")
	expectRedirect(t, bob.submitNumber("sms", "JP", "090-1234-5678", ""), "/.mfa/setup/phone/code")

	// Push: bob registers the app (its test prompt approved), then signs
	// in with a prompt he approves.
	topic, _ := g.newBrowser().enrolPush(f, "bob")
	s := g.newBrowser()
	number := s.sendPush("bob")
	msg := f.WaitMessage(t, topic, sendTimeout)
	expectStatus(t, newPhone(t).answer(msg.Click, "approve", number), http.StatusOK)
	expectRedirect(t, s.finishWait("/.mfa/challenge/push"), "/")

	want := map[string]float64{
		`caddy_mfa_signins_total{method="totp",result="success"}`:           1,
		`caddy_mfa_signins_total{method="totp",result="failure"}`:           3,
		`caddy_mfa_signins_total{method="push",result="success"}`:           2,
		`caddy_mfa_first_factor_failures_total`:                             2,
		`caddy_mfa_second_factor_failures_total{method="totp"}`:             3,
		`caddy_mfa_lockouts_total`:                                          1,
		`caddy_mfa_refusals_total{kind="locked"}`:                           1,
		`caddy_mfa_sends_total{channel="sms",provider="log",result="sent"}`: 1,
		`caddy_mfa_push_prompts_total{outcome="sent"}`:                      2,
		`caddy_mfa_push_prompts_total{outcome="approved"}`:                  2,
	}
	body := scrape(t, g)
	got := mfaSeries(t, body)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// A reload keeps the counts (Caddy makes a new registry per config).
	if out, err := g.cliWithConfig("reload", "--force"); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	for k, v := range mfaSeries(t, scrape(t, g)) {
		if v != got[k] {
			t.Errorf("after a reload, %s = %v, was %v", k, v, got[k])
		}
	}
	var others []string
	for k, v := range got {
		if _, counted := want[k]; !counted && v != 0 {
			others = append(others, k+" "+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	sort.Strings(others)
	if len(others) != 0 {
		t.Errorf("series counted that the run did not do: %q", others)
	}
	for _, name := range []string{"caddy_mfa_app_password_uses_total", "caddy_mfa_store_errors_total", "caddy_mfa_fraud_reports_total"} {
		if !strings.Contains(body, "# TYPE "+name+" counter") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// Caddy's own HTTP metrics are there too (the metrics option).
	if !strings.Contains(body, "caddy_http_requests_total") {
		t.Error("/metrics lacks Caddy's HTTP metrics")
	}

	// No label value names a user (anywhere in /metrics), nor an address
	// (in the gateway's series; Caddy's reverse proxy labels its upstream).
	ip := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|::1|\[[0-9a-f:]+\]`)
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, "{") {
			continue
		}
		labels := line[strings.Index(line, "{"):strings.LastIndex(line, "}")]
		for _, user := range []string{"alice", "bob", "carol", "example.com"} {
			if strings.Contains(labels, user) {
				t.Errorf("a label names a user: %s", line)
			}
		}
		if strings.HasPrefix(line, "caddy_mfa_") && ip.MatchString(labels) {
			t.Errorf("a label holds an address: %s", line)
		}
	}
}

// scrape reads the admin endpoint's /metrics.
func scrape(t *testing.T, g *gateway) string {
	t.Helper()
	resp, err := http.Get("http://" + g.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v\n%s", resp.StatusCode, err, tail(string(b), 2000))
	}
	return string(b)
}

// mfaSeries are the caddy_mfa_ series of a scrape: `name{labels}` (as
// written, or the bare name) → value.
func mfaSeries(t *testing.T, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "caddy_mfa_") {
			continue
		}
		i := strings.LastIndex(line, " ")
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("series %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if len(out) == 0 {
		t.Fatal("/metrics holds no caddy_mfa_ series")
	}
	return out
}
