package e2e

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// rowBox is where one part of a security-info row is drawn.
type rowBox struct{ Left, Right, Top, Bottom float64 }

// securityRow is one row of a list on the security-info page: its name,
// its details and its actions, as drawn.
type securityRow struct {
	List                    int
	Name, Details, Actions  rowBox
	HasName, HasDetails, OK bool
}

// securityRows measures every row of every list on the page.
func securityRows(p page) []securityRow {
	p.t.Helper()
	raw := eval[string](p, `JSON.stringify(Array.from(document.querySelectorAll("ul.security")).flatMap((ul, i) =>
  Array.from(ul.children).map(li => {
    const box = sel => { const e = li.querySelector(":scope > " + sel); if (!e) return null;
      const r = e.getBoundingClientRect(); return {Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom}; };
    const n = box(".name"), d = box(".details"), a = box(".actions");
    return {List: i, Name: n || {}, Details: d || {}, Actions: a || {}, HasName: !!n, HasDetails: !!d, OK: !!(n && d && a)};
  })))`)
	var rows []securityRow
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		p.t.Fatalf("measuring the rows: %v: %s", err, raw)
	}
	return rows
}

// near is whether two coordinates are the same within a pixel.
func near(a, b float64) bool { return a-b < 1 && b-a < 1 }

// TestBrowserSecurityInfoLayout: in Chromium, Security info is wider than
// the sign-in card on a desktop screen, and its methods, remembered devices
// and app passwords are rows whose name, details and actions line up (on a
// desktop the three side by side, with details starting and actions ending
// at the same place in every row of every list); on a 390 px phone every
// row is laid out the same way: the name over the details, the actions at
// the right.
func TestBrowserSecurityInfoLayout(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{global: "remember_device 1d", route: "app_passwords"})
	b := g.newBrowser()
	e := b.firstSignIn("alice", "/")
	createAppPassword(t, b, "Mail on my laptop")
	createAppPassword(t, b, "Calendar")
	remembered := g.newBrowser()
	remembered.signInRemembering("alice", e.Codes[0], true)

	p := page{t, newChromium(t)}
	copyCookies(t, p, g, b)
	for _, width := range []int64{1280, 390} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			p := page{t, p.ctx}
			if _, err := chromedp.Call(p.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600}); err != nil {
				t.Fatal(err)
			}
			p.do("security info", chromedp.Navigate(g.URL+"/.mfa/security"), chromedp.WaitVisible(chromedp.CSS("#app-password-name")))
			card := eval[float64](p, `document.querySelector("main").getBoundingClientRect().width`)
			rows := securityRows(p)
			lists := map[int]int{}
			for _, r := range rows {
				lists[r.List]++
			}
			if len(lists) != 3 || len(rows) != 4 {
				t.Fatalf("want 4 rows in 3 lists (a method, a device, two app passwords), got %d rows in %d lists", len(rows), len(lists))
			}
			for i, r := range rows {
				if !r.OK {
					t.Fatalf("row %d (list %d) has no name, details or actions of its own: %+v", i, r.List, r)
				}
			}
			first := rows[0]
			for i, r := range rows {
				if width >= 1000 {
					if !(r.Details.Left >= r.Name.Right && r.Actions.Left >= r.Details.Right) {
						t.Errorf("row %d: on a desktop name, details and actions are not side by side: %+v", i, r)
					}
					if r.Details.Top > r.Name.Bottom || r.Actions.Top > r.Name.Bottom {
						t.Errorf("row %d: on a desktop the row takes more than one line: %+v", i, r)
					}
					if !near(r.Details.Left, first.Details.Left) {
						t.Errorf("row %d: details start at %.0f px, row 0's at %.0f px", i, r.Details.Left, first.Details.Left)
					}
				} else {
					if r.Details.Top < r.Name.Bottom-1 || !near(r.Details.Left, r.Name.Left) {
						t.Errorf("row %d: on a phone the details are not under the name: %+v", i, r)
					}
					if r.Actions.Left < r.Name.Right-1 || r.Actions.Left < r.Details.Right-1 {
						t.Errorf("row %d: on a phone the actions are not to the right of name and details: %+v", i, r)
					}
				}
				if !near(r.Name.Left, first.Name.Left) || !near(r.Actions.Right, first.Actions.Right) {
					t.Errorf("row %d: name from %.0f px and actions to %.0f px; row 0: %.0f and %.0f px", i,
						r.Name.Left, r.Actions.Right, first.Name.Left, first.Actions.Right)
				}
			}
			if width >= 1000 && card < 640 {
				t.Errorf("on a %d px screen Security info is %.0f px wide: squeezed into the sign-in card", width, card)
			}
			checkUsable(p, fmt.Sprintf("security info at %d px", width))
			if width >= 1000 {
				p.do("a message page", chromedp.Navigate(g.URL+"/.mfa/no-such-page"), chromedp.WaitVisible(chromedp.CSS("main h1")))
				if w := eval[float64](p, `document.querySelector("main").getBoundingClientRect().width`); w > 440 {
					t.Errorf("a message page is %.0f px wide, want the narrow sign-in card (440 px)", w)
				}
			}
		})
	}
}
