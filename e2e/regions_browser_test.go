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
	p := page{t, newChromium(t)}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(p.ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "ja-JP,ja;q=0.9"}}); err != nil {
		t.Fatal(err)
	}
	p.do("sign in", chromedp.Navigate(g.URL+"/app"), chromedp.WaitVisible(css("#username")),
		chromedp.SendKeys(css("#username"), "alice"), chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("main")))
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
