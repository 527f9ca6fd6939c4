package ui

import (
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"
)

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func loadCatalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	data, err := fs.ReadFile(localeFS, "locales/"+lang+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s.yaml: %v", lang, err)
	}
	return m
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCataloguesHaveSameKeys(t *testing.T) {
	en, ja := loadCatalogue(t, "en"), loadCatalogue(t, "ja")
	if len(en) == 0 {
		t.Fatal("en catalogue is empty")
	}
	for _, k := range keys(en) {
		if _, ok := ja[k]; !ok {
			t.Errorf("ja.yaml lacks %q", k)
		}
	}
	for _, k := range keys(ja) {
		if _, ok := en[k]; !ok {
			t.Errorf("en.yaml lacks %q (present in ja.yaml)", k)
		}
	}
	for _, lang := range Languages {
		for k, v := range loadCatalogue(t, lang) {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s.yaml: %q is empty", lang, k)
			}
		}
	}
}

func TestEveryLanguageHasACatalogue(t *testing.T) {
	for _, lang := range Languages {
		if _, err := fs.Stat(localeFS, "locales/"+lang+".yaml"); err != nil {
			t.Errorf("language %s: %v", lang, err)
		}
	}
}

func TestCodeMessageIDsInCatalogues(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range Languages {
		for _, id := range CodeMessageIDs {
			if !r.HasMessage(lang, id) {
				t.Errorf("%s catalogue lacks %q", lang, id)
			}
		}
	}
	// HasMessage itself must say no for an unknown id, or the test above
	// proves nothing.
	if r.HasMessage("en", "no.such.id") {
		t.Error(`HasMessage("en", "no.such.id") = true`)
	}
}

// Every literal id the templates translate is in every catalogue.
func TestTemplateMessageIDsInCatalogues(t *testing.T) {
	r := newRenderer(t)
	re := regexp.MustCompile(`\.(?:T|Dated) "([^"]+)"`)
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		data, err := fs.ReadFile(templateFS, "templates/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			n++
			for _, lang := range Languages {
				if !r.HasMessage(lang, m[1]) {
					t.Errorf("%s uses %q, missing from %s catalogue", e.Name(), m[1], lang)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("found no message ids in the templates")
	}
}

// pageTitles gives each page a sensible heading.
var pageTitles = map[string]string{
	"login":           TitleLogin,
	"setup":           TitleSetup,
	"setup_totp":      TitleSetupTOTP,
	"recovery":        TitleRecovery,
	"recovery_left":   TitleRecoveryLeft,
	"challenge":       TitleChallenge,
	"message":         TitleForbidden,
	"setup_phone":     TitleSetupPhone,
	"phone_code":      TitlePhoneCode,
	"phone_start":     TitlePhoneStart,
	"phone_wait":      TitlePhoneWait,
	"setup_push":      TitleSetupPush,
	"push_start":      TitlePushStart,
	"push_wait":       TitlePushWait,
	"push_open":       TitlePushApprove,
	"push_approve":    TitlePushApprove,
	"security":        TitleSecurity,
	"app_password":    TitleAppPassword,
	"setup_key":       TitleSetupKey,
	"key_challenge":   TitleKeyChallenge,
	"step_up":         TitleStepUp,
	"confirm":         TitleConfirmRecovery,
	"step_up_confirm": TitleStepUpConfirm,
	"forbidden":       TitleForbidden,
	"register":        TitleRegister,
}

// fullPage sets every optional field.
func fullPage(page string, recovery bool) *Page {
	p := &Page{
		Org:        "Acme",
		Prefix:     "/.mfa/",
		Title:      pageTitles[page],
		CSRF:       "csrf-token",
		User:       "Alice Example",
		Error:      ErrBadCode,
		Message:    MsgForbidden,
		Return:     "/app/?x=1",
		Username:   "alice",
		Methods:    []string{"totp", "sms"},
		TOTPSecret: "ABCD EFGH IJKL MNOP",
		TOTPURL:    template.URL("otpauth://totp/Acme:alice?secret=ABCDEFGHIJKLMNOP&issuer=Acme"),
		Codes:      []string{"aaaa-bbbb", "cccc-dddd"},
		Recovery:   recovery,
		Method:     "voice",
		Enrol:      recovery,
		Masked:     "+81 •• •••• 5678",
		Regions:    []phone.Region{{Code: "JP", Name: "Japan", CallingCode: 81}},
		Region:     "JP",
		Number:     "090",
		Ext:        "12",
		Replace:    "phone-0", ReplaceMasked: "+81 •• •••• 5678",
		Others:       []Other{{Method: "totp"}, {Method: "sms", Masked: "+81 •• •••• 5678"}, {Method: "voice", Masked: "+81 •• •••• 5678"}, {Method: "recovery"}},
		CallStatus:   "pending",
		Refresh:      5,
		RememberDays: 14,
		Subscribe:    &Subscribe{Link: template.URL("ntfy://ntfy.example.com/mfa-abc"), Server: "https://ntfy.example.com", Topic: "mfa-abc"},
		PushNumber:   42,
		KeyOptions:   `{"publicKey":{"challenge":"AAAA","rpId":"wiki.example.com"}}`,
		KeyName:      "YubiKey <5>",
		MethodRows: []MethodRow{{ID: "totp", Kind: "totp", Added: "2026-01-02 03:04 UTC"},
			{ID: "key-AQID", Kind: "webauthn", Name: "YubiKey <5>", Added: "2026-01-02 03:04 UTC"},
			{ID: "phone-0", Kind: "phone", Masked: "+81 •• •••• 5678", Added: "2026-01-02 03:04 UTC", LastUsed: "2026-01-03 03:04 UTC"}},
		CanRemove:    !recovery,
		RecoveryLeft: 9,
		AppPasswords: []AppPasswordRow{{ID: "a1", Name: "Mail", Created: "2026-01-02 03:04 UTC"}},
		Devices:      []DeviceRow{{ID: "d1", Name: "Firefox on Linux", Created: "x", LastUsed: "y", Expires: "z"}},
		AppPassword:  "abcd-efgh-ijkl-mnop",
		TitleData:    map[string]any{"Name": "Mail <1>"},
		Confirm: &Confirm{Text: MsgConfirmForget, Data: map[string]any{"Name": "Firefox on Linux"}, Action: "/.mfa/security/app-passwords/revoke",
			Fields: []Field{{Name: "id", Value: "a1"}}, Button: ConfirmRevokeButton},
		PushStatus: "pending",
		Register:   &Register{Email: "alice•••@example.com", EmailSent: recovery, PassError: ErrBadPass, EmailError: ErrBadEmailCode},
		Prompt: &Prompt{Token: "tok", User: "alice", Site: "wiki.example.com", IP: "192.0.2.1",
			Browser: "Firefox on Linux", Time: "2026-01-02 03:04 UTC", Expires: "2026-01-02 03:06:00 UTC", Enrol: recovery},
	}
	if page == "push_approve" && !recovery {
		// The approval page shows either the prompt or the outcome.
		p.Message = ""
	}
	return p
}

func render(t *testing.T, r *Renderer, lang, page string, p *Page) (*httptest.ResponseRecorder, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/.mfa/"+page, nil)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	rec := httptest.NewRecorder()
	if err := r.Render(rec, req, http.StatusOK, page, p); err != nil {
		t.Fatalf("Render %s (%s): %v", page, lang, err)
	}
	return rec, rec.Body.String()
}

func hasJapanese(s string) bool {
	for _, c := range s {
		if unicode.In(c, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}

func TestRenderEveryPage(t *testing.T) {
	r := newRenderer(t)
	if len(Pages) != len(pageTitles) {
		t.Fatalf("Pages = %q; update pageTitles in this test", Pages)
	}
	for _, lang := range Languages {
		cat := loadCatalogue(t, lang)
		for _, page := range Pages {
			for _, recovery := range []bool{false, true} {
				name := lang + "/" + page
				if recovery {
					name += "/recovery"
				}
				t.Run(name, func(t *testing.T) {
					p := fullPage(page, recovery)
					rec, body := render(t, r, lang, page, p)
					if miss := p.Missing(); len(miss) != 0 {
						t.Errorf("untranslated ids: %q", miss)
					}
					if p.Lang != lang {
						t.Errorf("Page.Lang = %q, want %q", p.Lang, lang)
					}
					if !strings.Contains(body, `<html lang="`+lang+`">`) {
						t.Errorf("no <html lang=%q> in\n%s", lang, body)
					}
					if rec.Code != http.StatusOK {
						t.Errorf("status = %d", rec.Code)
					}
					if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
						t.Errorf("Content-Type = %q", ct)
					}
					// The heading is the translated title.
					title := template.HTMLEscapeString(cat[p.Title])
					if !strings.Contains(body, "<h1>"+title+"</h1>") {
						t.Errorf("no <h1>%s</h1> in\n%s", title, body)
					}
					if hasJapanese(body) != (lang == "ja") {
						t.Errorf("%s page has Japanese text: %v", lang, hasJapanese(body))
					}
					if !strings.Contains(body, "Acme") {
						t.Error("organisation name not shown")
					}
					checkLabels(t, body)
				})
			}
		}
	}
}

func TestRenderLanguageNegotiation(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range []struct{ accept, want string }{
		{"", "en"},
		{"en-GB,en;q=0.9", "en"},
		{"ja-JP,ja;q=0.9,en;q=0.5", "ja"},
		{"fr-FR,fr;q=0.9", "en"},
		{"fr;q=0.9,ja;q=0.8", "ja"},
	} {
		p := fullPage("login", false)
		_, body := render(t, r, tc.accept, "login", p)
		if p.Lang != tc.want || !strings.Contains(body, `<html lang="`+tc.want+`">`) {
			t.Errorf("Accept-Language %q: Lang = %q, want %q", tc.accept, p.Lang, tc.want)
		}
		if len(p.Missing()) != 0 {
			t.Errorf("Accept-Language %q: untranslated ids %q", tc.accept, p.Missing())
		}
	}
}

func TestRenderSecurityHeaders(t *testing.T) {
	r := newRenderer(t)
	for _, page := range Pages {
		rec, body := render(t, r, "en", page, fullPage(page, false))
		checkSecurityHeaders(t, page, rec.Header())
		if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(body) || strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
			t.Errorf("%s: inline script or event handler in the page", page)
		}
	}
	// SecurityHeaders on its own, as the handler uses it for redirects.
	h := http.Header{}
	SecurityHeaders(h)
	checkSecurityHeaders(t, "SecurityHeaders", h)
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", what, got)
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, d)
		}
	}
	// Scripts only on the pages that wait for a phone or ask a security
	// key, only the portal's own files, never inline or evaluated.
	wantScripts := slices.Contains([]string{"phone_wait", "push_wait", "push_open", "setup_key", "key_challenge", "security", "recovery"}, what)
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "script-src") != wantScripts ||
		wantScripts && !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("%s: Content-Security-Policy %q: scripts allowed where they should not be, or from elsewhere", what, csp)
	}
	if got := h.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options = %q, want DENY", what, got)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", what, got)
	}
	if got := h.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy = %q, want no-referrer", what, got)
	}
}

func TestRenderStatus(t *testing.T) {
	r := newRenderer(t)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	if err := r.Render(rec, req, http.StatusForbidden, "message", fullPage("message", false)); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusForbidden {
		t.Errorf("status = %d, want 403", rec.Code)
	}
}

func TestRenderUnknownPage(t *testing.T) {
	r := newRenderer(t)
	rec := httptest.NewRecorder()
	err := r.Render(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, "nope", &Page{})
	if err == nil {
		t.Fatal("no error for an unknown page")
	}
	if rec.Body.Len() != 0 {
		t.Errorf("wrote %q for an unknown page", rec.Body.String())
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	r := newRenderer(t)
	const evil = `"><script>alert(1)</script>`
	p := fullPage("login", false)
	p.Username = evil
	p.User = evil
	p.Org = evil
	p.Return = `"><script>x</script>`
	p.Refresh = 0 // a number: its meta tag would trip the breakout check below
	_, body := render(t, r, "en", "login", p)
	if strings.Contains(body, "<script") {
		t.Fatalf("unescaped <script> in\n%s", body)
	}
	if strings.Contains(body, `"><`) {
		t.Errorf("attribute breakout %q in\n%s", `"><`, body)
	}
	if !strings.Contains(body, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("username not escaped into the value attribute:\n%s", body)
	}

	// Recovery codes and the TOTP secret are data too.
	p = fullPage("recovery", false)
	p.Codes = []string{evil}
	_, body = render(t, r, "en", "recovery", p)
	if strings.Contains(body, "<script>") {
		t.Errorf("unescaped recovery code in\n%s", body)
	}
	p = fullPage("setup_totp", false)
	p.TOTPSecret = evil
	_, body = render(t, r, "en", "setup_totp", p)
	if strings.Contains(body, "<script") {
		t.Errorf("unescaped TOTP secret in\n%s", body)
	}
}

// A Return that is not a plain path must not become a javascript: link.
func TestRenderReturnURLFiltered(t *testing.T) {
	r := newRenderer(t)
	p := fullPage("recovery", false)
	p.Return = "javascript:alert(1)"
	_, body := render(t, r, "en", "recovery", p)
	if strings.Contains(body, `action="javascript:`) {
		t.Errorf("javascript: URL rendered as the form action:\n%s", body)
	}
}

var (
	inputRe = regexp.MustCompile(`<(?:input|select)\b[^>]*>`)
	labelRe = regexp.MustCompile(`<label\b[^>]*\bfor="([^"]*)"`)
	attrRe  = regexp.MustCompile(`\b([a-z-]+)(?:="([^"]*)")?`)
)

type input map[string]string

func inputs(body string) []input {
	var out []input
	for _, tag := range inputRe.FindAllString(body, -1) {
		in := input{}
		tag = strings.TrimPrefix(strings.TrimPrefix(tag, "<input"), "<select")
		for _, m := range attrRe.FindAllStringSubmatch(tag, -1) {
			in[m[1]] = m[2]
		}
		out = append(out, in)
	}
	return out
}

// checkLabels: every visible input has an id, unique on the page, and a
// <label for> naming it.
func checkLabels(t *testing.T, body string) {
	t.Helper()
	var labels []string
	for _, m := range labelRe.FindAllStringSubmatch(body, -1) {
		labels = append(labels, m[1])
	}
	ids := map[string]bool{}
	for _, in := range inputs(body) {
		if in["type"] == "hidden" {
			continue
		}
		id := in["id"]
		if id == "" {
			t.Errorf("input %v has no id", in)
			continue
		}
		if ids[id] {
			t.Errorf("id %q used twice", id)
		}
		ids[id] = true
		if !slices.Contains(labels, id) {
			t.Errorf("input id=%q has no <label for=%q>", id, id)
		}
	}
	for _, l := range labels {
		if !ids[l] {
			t.Errorf("<label for=%q> names no input", l)
		}
	}
}

func findInput(t *testing.T, body, name string) input {
	t.Helper()
	for _, in := range inputs(body) {
		if in["name"] == name {
			return in
		}
	}
	t.Fatalf("no input name=%q in\n%s", name, body)
	return nil
}

func TestInputAttributes(t *testing.T) {
	r := newRenderer(t)
	type want struct {
		name, typ, autocomplete, inputmode string
	}
	tests := []struct {
		page     string
		recovery bool
		want     []want
	}{
		{"login", false, []want{
			{"username", "text", "username", ""},
			{"password", "password", "current-password", ""},
		}},
		{"setup_totp", false, []want{{"code", "text", "one-time-code", "numeric"}}},
		{"challenge", false, []want{{"code", "text", "one-time-code", "numeric"}}},
		// Recovery codes are not one-time codes from an app, and not
		// numeric-only.
		{"challenge", true, []want{{"code", "text", "off", ""}}},
	}
	for _, tc := range tests {
		for _, lang := range Languages {
			_, body := render(t, r, lang, tc.page, fullPage(tc.page, tc.recovery))
			for _, w := range tc.want {
				in := findInput(t, body, w.name)
				what := tc.page + "/" + lang + "/" + w.name
				if tc.recovery {
					what += " (recovery)"
				}
				if in["type"] != w.typ {
					t.Errorf("%s: type = %q, want %q", what, in["type"], w.typ)
				}
				if in["autocomplete"] != w.autocomplete {
					t.Errorf("%s: autocomplete = %q, want %q", what, in["autocomplete"], w.autocomplete)
				}
				if in["inputmode"] != w.inputmode {
					t.Errorf("%s: inputmode = %q, want %q", what, in["inputmode"], w.inputmode)
				}
				if _, ok := in["required"]; !ok {
					t.Errorf("%s: not required", what)
				}
			}
		}
	}
	// The challenge form posts which method it is for.
	_, body := render(t, r, "en", "challenge", fullPage("challenge", true))
	if m := findInput(t, body, "method"); m["value"] != "recovery" {
		t.Errorf("recovery challenge posts method %q", m["value"])
	}
	_, body = render(t, r, "en", "challenge", fullPage("challenge", false))
	if m := findInput(t, body, "method"); m["value"] != "totp" {
		t.Errorf("totp challenge posts method %q", m["value"])
	}
}

// Forms that post carry the CSRF token.
func TestFormsCarryCSRF(t *testing.T) {
	r := newRenderer(t)
	postRe := regexp.MustCompile(`(?s)<form method="post".*?</form>`)
	for _, page := range Pages {
		if page == "push_approve" || page == "push_open" {
			// Opened on a phone with no session: the link's single-use
			// token, posted back, is what no other site can forge.
			continue
		}
		_, body := render(t, r, "en", page, fullPage(page, false))
		for _, form := range postRe.FindAllString(body, -1) {
			if in := findInput(t, form, "csrf"); in["value"] != "csrf-token" || in["type"] != "hidden" {
				t.Errorf("%s: form csrf input = %v", page, in)
			}
		}
	}
}

// The error message is tied to its input for screen readers.
func TestErrorDescribesInput(t *testing.T) {
	r := newRenderer(t)
	for _, page := range []string{"login", "setup_totp", "challenge"} {
		_, body := render(t, r, "en", page, fullPage(page, false))
		m := regexp.MustCompile(`<p class="error" id="([^"]+)" role="alert">`).FindStringSubmatch(body)
		if m == nil {
			t.Errorf("%s: no error paragraph in\n%s", page, body)
			continue
		}
		if !strings.Contains(body, `aria-describedby="`+m[1]+`"`) {
			t.Errorf("%s: no input is described by %q", page, m[1])
		}
		p := fullPage(page, false)
		p.Error = ""
		_, body = render(t, r, "en", page, p)
		if strings.Contains(body, "aria-describedby") || strings.Contains(body, `class="error"`) {
			t.Errorf("%s: error markup without an error", page)
		}
	}
}

func TestStaticStyleSheet(t *testing.T) {
	r := newRenderer(t)
	rec := httptest.NewRecorder()
	r.Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/style.css", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /style.css: status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q, want text/css", ct)
	}
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), "prefers-color-scheme") {
		t.Error("style.css has no prefers-color-scheme rule")
	}

	rec = httptest.NewRecorder()
	r.Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nope.css", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /nope.css: status %d, want 404", rec.Code)
	}
}
