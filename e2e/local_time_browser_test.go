package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// shownTime is one time on a page: its text, the UTC time it stands for
// (the datetime attribute) and its title.
type shownTime struct{ Text, Datetime, Title string }

// shownTimes reads every time element of the page.
func shownTimes(p page) []shownTime {
	p.t.Helper()
	raw := eval[string](p, `JSON.stringify(Array.from(document.querySelectorAll("main time")).map(e =>
  ({Text: e.textContent, Datetime: e.getAttribute("datetime") || "", Title: e.title})))`)
	var out []shownTime
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		p.t.Fatalf("reading the times: %v: %s", err, raw)
	}
	return out
}

// TestBrowserTimesInOwnZone: Security info shows its times (method added,
// app password created, last used) in the browser's own time zone and
// language, through Intl, with the UTC time kept in the title; without
// JavaScript it shows them in UTC and says so.
func TestBrowserTimesInOwnZone(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{route: "app_passwords"})
	b := g.newBrowser()
	b.firstSignIn("alice", "/")
	createAppPassword(t, b, "Mail")
	p := page{t, newChromium(t)}
	copyCookies(t, p, g, b)
	if _, err := chromedp.Call(p.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	tokyo := time.FixedZone("JST", 9*3600)
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			p := page{t, p.ctx}
			setBrowserLang(t, p, lang)
			p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(chromedp.CSS("#app-password-name")))
			times := shownTimes(p)
			if len(times) < 2 {
				t.Fatalf("Security info shows %d times, want the method's and the app password's: %s", len(times), p.text("main"))
			}
			for _, s := range times {
				at, err := time.Parse("2006-01-02T15:04Z07:00", s.Datetime)
				if err != nil {
					t.Fatalf("time %q has datetime %q: %v", s.Text, s.Datetime, err)
				}
				local := at.In(tokyo)
				hour := local.Hour()
				want := fmt.Sprintf("%d:%02d", hour, local.Minute())
				day := fmt.Sprintf("%d日", local.Day())
				if lang == "en" {
					h12 := hour % 12
					if h12 == 0 {
						h12 = 12
					}
					want = fmt.Sprintf("%d:%02d", h12, local.Minute())
					day = fmt.Sprintf("%d,", local.Day())
				}
				if strings.Contains(s.Text, "UTC") || !strings.Contains(s.Text, want) || !strings.Contains(s.Text, day) {
					t.Errorf("%s is shown as %q in Tokyo, want the local time %s on day %s", s.Datetime, s.Text, want, day)
				}
				if s.Title != at.UTC().Format("2006-01-02 15:04 UTC") {
					t.Errorf("%s has title %q, want the UTC time", s.Datetime, s.Title)
				}
			}
		})
	}
	t.Run("without JavaScript", func(t *testing.T) {
		p := page{t, p.ctx}
		if _, err := chromedp.Call(p.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(chromedp.CSS("#app-password-name")))
		times := shownTimes(p)
		if len(times) < 2 {
			t.Fatalf("without JavaScript Security info shows %d times, want at least 2", len(times))
		}
		for _, s := range times {
			at, _ := time.Parse("2006-01-02T15:04Z07:00", s.Datetime)
			if s.Text != at.UTC().Format("2006-01-02 15:04 UTC") {
				t.Errorf("without JavaScript %s is shown as %q, want it in UTC, saying so", s.Datetime, s.Text)
			}
		}
	})
}
