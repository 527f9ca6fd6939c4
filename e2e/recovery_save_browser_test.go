package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// downloaded clicks sel in p and returns the name and text of the file
// Chromium saves.
func downloaded(p page, sel string) (string, string) {
	p.t.Helper()
	dir := p.t.TempDir()
	events := true
	if _, err := chromedp.Call(p.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &events}); err != nil {
		p.t.Fatal(err)
	}
	p.do("download", chromedp.Click(chromedp.CSS(sel)))
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if strings.HasSuffix(f.Name(), ".crdownload") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				p.t.Fatal(err)
			}
			return f.Name(), string(b)
		}
	}
	p.t.Fatalf("clicking %s saved no file in 15 s", sel)
	return "", ""
}

// checkCodesFile fails the test unless text is a recovery-codes file for
// user at the test organisation holding exactly codes, one per line, with
// intro (the words that say what the file is).
func checkCodesFile(t *testing.T, name, text, user string, codes []string, intro string) {
	t.Helper()
	if !strings.HasSuffix(name, ".txt") {
		t.Errorf("the download is named %q, want a .txt file", name)
	}
	if !strings.Contains(text, "E2E Corp") || !strings.Contains(text, user) || !strings.Contains(text, intro) {
		t.Errorf("the file does not say whose codes these are (%q, %s, E2E Corp):\n%s", intro, user, text)
	}
	var got []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if slices.Contains(codes, strings.TrimSpace(line)) {
			got = append(got, strings.TrimSpace(line))
		}
	}
	if !slices.Equal(got, codes) {
		t.Errorf("the file's code lines are %q, want the codes shown %q:\n%s", got, codes, text)
	}
}

// TestBrowserRecoveryCodesDownloadAndPrint: the page that shows new
// recovery codes offers Download (a text file with exactly those codes,
// saying whose they are) and Print. Print opens the browser's print
// dialogue, and the printed page holds the codes without the buttons.
// Without JavaScript, in Japanese, Download still works and no Print
// button is shown that could not work.
func TestBrowserRecoveryCodesDownloadAndPrint(t *testing.T) {
	t.Parallel()
	g := startGateway(t, gatewayOpts{})
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	t.Run("en", func(t *testing.T) {
		p := page{t, newChromium(t)}
		_, codes := browserSignedIn(p, g)
		name, text := downloaded(p, "a#download-codes")
		checkCodesFile(t, name, text, "alice", codes, "Recovery codes")
		if !eval[bool](p, `(() => { const b = document.querySelector("#print-codes"); return !!b && !b.hidden && b.offsetParent !== null; })()`) {
			t.Fatal("no Print button is shown")
		}
		p.do("print", void(chromedp.Evaluate[any](`window.print = () => { window.printed = (window.printed || 0) + 1 }`)), chromedp.Click(css("#print-codes")))
		if n := eval[int](p, `window.printed || 0`); n != 1 {
			t.Errorf("Print opened the print dialogue %d times, want once", n)
		}
		if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		if n := eval[int](p, `Array.from(document.querySelectorAll("ul.codes code")).filter(e => e.offsetParent !== null).length`); n != len(codes) {
			t.Errorf("the printed page shows %d codes, want %d", n, len(codes))
		}
		if shown := eval[[]string](p, `Array.from(document.querySelectorAll("button, a.button, #download-codes, .help-link")).filter(e => e.offsetParent !== null).map(e => e.textContent.trim())`); len(shown) > 0 {
			t.Errorf("the printed page shows controls: %q", shown)
		}
	})

	t.Run("ja without JavaScript", func(t *testing.T) {
		p := page{t, newChromium(t)}
		setBrowserLang(t, p, "ja")
		if _, err := chromedp.Call(p.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		_, codes := browserSignedInAs(p, g, "bob")
		if eval[bool](p, `(() => { const b = document.querySelector("#print-codes"); return !!b && b.offsetParent !== null; })()`) {
			t.Error("without JavaScript a Print button is shown that cannot work")
		}
		name, text := downloaded(p, "a#download-codes")
		checkCodesFile(t, name, text, "bob", codes, "回復コード")
	})
}
