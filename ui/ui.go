// Package ui renders the portal: embedded html/template pages, the style
// sheet, and message catalogues (English and Japanese) chosen by the
// browser's Accept-Language.
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed locales/*.yaml
var localeFS embed.FS

// Languages are the catalogues shipped, the first being the fallback.
var Languages = []string{"en", "ja"}

// Pages are the page templates, by name.
var Pages = []string{"login", "setup", "setup_totp", "recovery", "challenge", "message",
	"setup_phone", "phone_code", "phone_start", "phone_wait",
	"setup_push", "push_start", "push_wait", "push_open", "push_approve", "security", "app_password",
	"setup_key", "key_challenge", "step_up", "recovery_left", "confirm", "step_up_confirm", "forbidden", "register"}

// Renderer renders portal pages. It is safe for concurrent use.
type Renderer struct {
	pages  map[string]*template.Template
	bundle *i18n.Bundle
	static http.Handler
}

// New parses the templates and catalogues.
func New() (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, p := range Pages {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/cancel.html", "templates/others.html", "templates/remember.html", "templates/key.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", p, err)
		}
		r.pages[p] = t
	}
	r.bundle = i18n.NewBundle(language.English)
	r.bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	for _, lang := range Languages {
		if _, err := r.bundle.LoadMessageFileFS(localeFS, "locales/"+lang+".yaml"); err != nil {
			return nil, fmt.Errorf("loading %s catalogue: %w", lang, err)
		}
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	r.static = http.FileServer(http.FS(filesOnly{sub}))
	return r, nil
}

// Static serves the embedded assets; the request path must already be
// relative to the static folder ("/style.css").
func (r *Renderer) Static() http.Handler { return r.static }

// csp allows only the portal's own style sheet and images; scriptedCSP
// also its scripts (and their requests), only on the pages that need them:
// the portal shares its origin with the protected app, whose scripts must
// not run on other portal pages.
const (
	csp         = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	scriptedCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

// scripted are the pages that run a script of the portal's: the waits
// and security keys, Security info (local-time.js shows its times in the
// browser's time zone) and the recovery codes' Print button. The push
// approval page runs none (it holds the prompt's token): its times stay
// in UTC.
func scripted(page string) bool {
	switch page {
	case "phone_wait", "push_wait", "push_open", "setup_key", "key_challenge", "security", "recovery":
		return true
	}
	return false
}

// wide are the pages laid out wider than the sign-in card on a desktop:
// Security info, whose lists are rows of name, details and actions.
func wide(page string) bool { return page == "security" }

// SecurityHeaders sets the headers every portal response carries: no
// caching, a CSP that allows only the portal's own assets, no framing, and
// no referrer (portal URLs carry return paths).
func SecurityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// Render writes page with status, in the language the request prefers.
// It writes the page's shown phone numbers and browsers in that language
// (localizeNames).
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, status int, page string, p *Page) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	p.loc = i18n.NewLocalizer(r.bundle, req.Header.Get("Accept-Language"))
	p.Lang = p.language()
	p.localizeNames()
	p.Wide = wide(page)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("rendering %s: %w", page, err)
	}
	SecurityHeaders(w.Header())
	if scripted(page) {
		w.Header().Set("Content-Security-Policy", scriptedCSP)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Localize translates id with data in the language req prefers, and
// returns the text and that language: for texts and calls, which are not
// pages.
func (r *Renderer) Localize(req *http.Request, id string, data map[string]any) (string, string, error) {
	loc := i18n.NewLocalizer(r.bundle, req.Header.Get("Accept-Language"))
	s, tag, err := loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "", "", fmt.Errorf("translating %s: %w", id, err)
	}
	return s, tag.String(), nil
}

// LocalizeIn is Localize in language lang (as Localize returned it).
func (r *Renderer) LocalizeIn(lang, id string, data map[string]any) (string, error) {
	s, err := i18n.NewLocalizer(r.bundle, lang).Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "", fmt.Errorf("translating %s: %w", id, err)
	}
	return s, nil
}

// HasMessage reports whether id is in the catalogue of lang, for tests.
func (r *Renderer) HasMessage(lang, id string) bool {
	_, tag, err := i18n.NewLocalizer(r.bundle, lang).LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id})
	return err == nil && tag.String() == lang
}
