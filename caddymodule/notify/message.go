package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates
var templateFS embed.FS

// Localizer translates catalogue messages (ui.Renderer does).
type Localizer interface {
	// LocalizeIn translates id with data in language lang.
	LocalizeIn(lang, id string, data map[string]any) (string, error)
}

// Composer writes notices as e-mail texts, from the templates here and
// the texts in the ui catalogues (keys notice.*).
type Composer struct {
	loc  Localizer
	text *texttemplate.Template
	html *htmltemplate.Template
	// Org names the organisation; SecurityURL is the absolute URL of
	// Security info ("" without public_url); HelpURL the operator's help.
	Org, SecurityURL, HelpURL string
}

// NewComposer parses the templates.
func NewComposer(loc Localizer, org, securityURL, helpURL string) (*Composer, error) {
	t, err := texttemplate.ParseFS(templateFS, "templates/notice.txt")
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	h, err := htmltemplate.ParseFS(templateFS, "templates/notice.html")
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &Composer{loc: loc, text: t, html: h, Org: org, SecurityURL: securityURL, HelpURL: helpURL}, nil
}

// Message is a notice as e-mail texts.
type Message struct {
	Subject, Text, HTML string
}

// dateLayouts are how each language writes a notice's time.
var dateLayouts = map[string]string{
	"en": "Monday 2 January 2006, 15:04 UTC",
	"ja": "2006年1月2日 15:04 UTC",
}

// FormatTime writes t (in UTC) as lang does.
func FormatTime(lang string, t time.Time) string {
	l, ok := dateLayouts[lang]
	if !ok {
		l = dateLayouts["en"]
	}
	return t.UTC().Format(l)
}

// Compose writes n in its language.
func (c *Composer) Compose(n Notice) (Message, error) { return c.compose(n, "") }

// compose writes n, with code (a registration code, "" for a notice) on a
// line of its own after what happened.
func (c *Composer) compose(n Notice, code string) (Message, error) {
	lang := n.Lang
	if lang == "" {
		lang = "en"
	}
	tr := func(id string, data map[string]any) (string, error) {
		s, err := c.loc.LocalizeIn(lang, id, data)
		if err != nil {
			return "", fmt.Errorf("notify: %w", err)
		}
		return s, nil
	}
	method := n.Method
	if name, err := c.loc.LocalizeIn(lang, "method."+n.Method+".name", nil); n.Method != "" && err == nil {
		method = name
	}
	browser := n.Browser
	if b, ok := c.loc.(interface {
		LocalizeBrowser(lang, name string) string
	}); ok && browser != "" {
		browser = b.LocalizeBrowser(lang, browser)
	}
	name := n.Name
	if name == "" {
		name = n.User
	}
	d := map[string]any{
		"Org": c.Org, "Method": method, "Name": name, "User": n.User,
		"Time": FormatTime(lang, n.Time), "Address": n.IP, "Browser": browser, "Until": "",
	}
	if !n.Until.IsZero() {
		d["Until"] = FormatTime(lang, n.Until)
	}
	v := map[string]any{"Lang": lang, "SecurityURL": c.SecurityURL, "HelpURL": c.HelpURL, "Code": code}
	subject, what := "notice."+string(n.Kind)+".subject", "notice."+string(n.Kind)+".what"
	if code != "" {
		d["Code"] = code
		subject, what = "email_code.subject", "email_code.what"
	}
	for key, id := range map[string]string{
		"Subject": subject, "What": what,
		"Greeting": "notice.greeting", "When": "notice.when", "Footer": "notice.footer",
		"Help": "notice.help", "SecurityLink": "notice.security_link",
	} {
		s, err := tr(id, d)
		if err != nil {
			return Message{}, err
		}
		v[key] = s
	}
	notYou := "notice.not_you_admin"
	switch {
	case code != "":
		notYou = "email_code.not_you"
	case c.SecurityURL != "":
		notYou = "notice.not_you"
	}
	var err error
	if v["NotYou"], err = tr(notYou, d); err != nil {
		return Message{}, err
	}
	v["Where"] = ""
	if n.IP != "" {
		where := "notice.where"
		if n.Browser == "" {
			where = "notice.where_address"
		}
		if v["Where"], err = tr(where, d); err != nil {
			return Message{}, err
		}
	}
	var tb, hb bytes.Buffer
	if err := c.text.Execute(&tb, v); err != nil {
		return Message{}, fmt.Errorf("notify: text part: %w", err)
	}
	if err := c.html.Execute(&hb, v); err != nil {
		return Message{}, fmt.Errorf("notify: HTML part: %w", err)
	}
	return Message{Subject: v["Subject"].(string), Text: strings.TrimLeft(tb.String(), "\n"), HTML: hb.String()}, nil
}
