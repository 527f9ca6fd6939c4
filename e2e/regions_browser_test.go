package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/caddy-mfa/caddy-mfa/internal/twiliotest"
)

// englishAllowed are the Latin-letter words a Japanese page may show:
// names of methods and products, and the units of codes.
var englishAllowed = []string{"SMS", "MFA", "Caddy", "ID", "QR", "PIN", "Twilio"}

// englishWords returns the words in Latin letters in s that are not
// allowed on a Japanese page.
func englishWords(s string) []string {
	var bad []string
	for _, w := range regexp.MustCompile(`[A-Za-z][A-Za-z.]*`).FindAllString(s, -1) {
		if !slices.Contains(englishAllowed, strings.TrimSuffix(w, ".")) {
			bad = append(bad, w)
		}
	}
	return bad
}

// TestBrowserJapaneseCountryPicker opens the phone form in Japanese in
// headless Chromium: the country picker starts with the user's own region
// (日本), then sorts by reading as a Japanese dictionary does (kanji names
// among the kana of their reading, ー as the vowel before it), with
// CLDR's current names; and the page shows no English.
func TestBrowserJapaneseCountryPicker(t *testing.T) {
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("voice", f))
	p := japaneseBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.do("sign in", chromedp.Navigate(g.URL+"/app"), chromedp.WaitVisible(css("#username")),
		chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("a.method"))) // at the setup page
	p.do("open the phone form", chromedp.Navigate(g.URL+"/.mfa/setup/phone?method=voice"), chromedp.WaitVisible(css("#region")))
	screenshot(t, p.ctx, "ja-phone-form")

	codes := eval[[]string](p, `Array.from(document.querySelectorAll("#region option")).map(o => o.value)`)
	names := eval[[]string](p, `Array.from(document.querySelectorAll("#region option")).map(o => o.textContent)`)
	if len(codes) < 200 {
		t.Fatalf("%d countries: %v", len(codes), names)
	}
	if codes[0] != "JP" || names[0] != "日本 (+81)" || eval[string](p, `document.querySelector("#region").value`) != "JP" {
		t.Errorf("the picker starts with %q (%s), selected %q; want 日本 first and selected", names[0], codes[0],
			eval[string](p, `document.querySelector("#region").value`))
	}
	rest := codes[1:]
	if want := []string{"IS", "IE", "AZ", "AC", "AF", "US", "AE"}; !slices.Equal(rest[:len(want)], want) {
		t.Errorf("after 日本 the picker has %v, want %v", names[1:len(want)+1], want)
	}
	at := func(code string) int { return slices.Index(rest, code) }
	for _, pair := range [][2]string{
		{"CM", "KR"}, {"KR", "KH"}, // カメルーン, 韓国 (かんこく), カンボジア
		{"TH", "TW"}, {"TW", "TJ"}, // タイ, 台湾 (たいわん), タジキスタン
		{"TD", "CN"}, {"CN", "TN"}, // チャド, 中国 (ちゅうごく), チュニジア
		{"GH", "CV"}, {"CV", "KZ"}, // ガーナ (かあな), カーボベルデ, カザフスタン
		{"NC", "NZ"}, // ニューカレドニア, ニュージーランド
	} {
		if i, j := at(pair[0]), at(pair[1]); i < 0 || j < 0 || i > j {
			t.Errorf("%s (at %d) should come before %s (at %d)", pair[0], i, pair[1], j)
		}
	}
	if at("JP") >= 0 {
		t.Errorf("日本 is listed twice")
	}
	all := strings.Join(names, "\n")
	for _, want := range []string{"北マケドニア (+389)", "エスワティニ (+268)"} {
		if !strings.Contains(all, want) {
			t.Errorf("the picker lacks %q", want)
		}
	}
	for _, old := range []string{"スワジランド", "マケドニア (+389)"} {
		if strings.Contains(all, "\n"+old) {
			t.Errorf("the picker has the old name %q", old)
		}
	}
	// The organisation's and the user's names are the operator's.
	text := eval[string](p, `document.body.innerText.replace(/\(\+\d+\)/g, "")`)
	text = strings.NewReplacer("E2E Corp", "", "Alice Example", "").Replace(text)
	if bad := englishWords(text); len(bad) > 0 {
		t.Errorf("English on the Japanese page: %q\n%s", bad, text)
	}
}

// lonelyLines finds, in the page's text blocks, lines that hold one
// character (or only punctuation) after a break: what word-break:
// auto-phrase and line-break: strict are there to prevent in Japanese.
const lonelyLines = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll("main p, main li, main label, main h1, main h2, main button, main a, main dd")) {
    const lines = new Map();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (let i = 0; i < n.data.length; i++) {
        if (/\s/.test(n.data[i])) continue;
        const r = document.createRange();
        r.setStart(n, i); r.setEnd(n, i + 1);
        const rect = r.getClientRects()[0];
        if (!rect) continue;
        const top = Math.round(rect.top);
        lines.set(top, (lines.get(top) || "") + n.data[i]);
      }
    }
    if (lines.size < 2) continue;
    const tops = [...lines.keys()].sort((a, b) => a - b);
    for (const top of tops.slice(1)) {
      const s = lines.get(top);
      if (s.length < 2 || /^[。、．，・）」』！？：ー]/.test(s)) bad.push(s + " ← " + el.textContent.trim());
    }
  }
  return bad;
})()`

// TestBrowserJapaneseLineBreaks renders Japanese pages at 390 px in
// headless Chromium: Japanese text breaks between phrases (word-break:
// auto-phrase, line-break: strict), no line holds a lone character or
// starts with closing punctuation, and a date never breaks.
func TestBrowserJapaneseLineBreaks(t *testing.T) {
	f := twiliotest.New(t, twilioSID, twilioToken)
	g, _ := startPhoneGateway(t, twilioBlock("voice", f))
	p := japaneseBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	check := func(name string) {
		t.Helper()
		screenshot(t, p.ctx, "ja-lines-"+name)
		if wb := eval[string](p, `getComputedStyle(document.querySelector("main p") || document.body).wordBreak`); wb != "auto-phrase" {
			t.Errorf("%s: word-break is %q, want auto-phrase", name, wb)
		}
		if lb := eval[string](p, `getComputedStyle(document.body).lineBreak`); lb != "strict" {
			t.Errorf("%s: line-break is %q, want strict", name, lb)
		}
		if bad := eval[[]string](p, lonelyLines); len(bad) > 0 {
			t.Errorf("%s: lines with a lone character:\n%s", name, strings.Join(bad, "\n"))
		}
	}
	p.do("open the sign-in page", chromedp.Navigate(g.URL+"/app"), chromedp.WaitVisible(css("#username")),
		chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), "wrong password"),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(".error")))
	check("login-error")
	p.do("sign in", chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("a.method"))) // the setup page, not the login page still shown
	check("setup")
	p.do("open the phone form", chromedp.Navigate(g.URL+"/.mfa/setup/phone?method=voice"), chromedp.WaitVisible(css("#region")))
	check("phone")
}

// japaneseBrowser is a Chromium tab that asks for Japanese pages.
func japaneseBrowser(t *testing.T) page {
	t.Helper()
	p := page{t, newChromium(t)}
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	setBrowserLang(t, p, "ja-JP,ja;q=0.9")
	return p
}
