package ui

import (
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

// Message ids of the words inside a masked number and a browser's
// description.
const (
	PhoneExtMasked  = "phone.ext_masked"
	DeviceBrowserOn = "device.browser_on"
)

// localPhone writes the extension mark of a masked number (phone.MaskedExt,
// " ext. ") in loc's language: "+1 ••• ••• 0000 内線 •••".
func localPhone(loc *i18n.Localizer, masked string) string {
	before, ext, ok := strings.Cut(masked, phone.MaskedExt)
	if !ok {
		return masked
	}
	word, err := loc.Localize(&i18n.LocalizeConfig{MessageID: PhoneExtMasked})
	if err != nil {
		return masked
	}
	return before + " " + word + " " + ext
}

// localBrowser writes a browser's description as push.Browser made it
// ("Chrome on Linux") in loc's language: "Linux 上の Chrome". A name alone
// ("Chrome") is a proper name and stays.
func localBrowser(loc *i18n.Localizer, name string) string {
	b, s, ok := strings.Cut(name, push.BrowserOn)
	if !ok {
		return name
	}
	out, err := loc.Localize(&i18n.LocalizeConfig{MessageID: DeviceBrowserOn,
		TemplateData: map[string]string{"Browser": b, "System": s}})
	if err != nil {
		return name
	}
	return out
}

// Phone is a masked phone number in the page's language, for templates.
func (p *Page) Phone(masked string) string { return localPhone(p.loc, masked) }

// Device is a browser's description in the page's language, for templates.
func (p *Page) Device(name string) string { return localBrowser(p.loc, name) }

// localizeNames writes, in the page's language, the numbers and browsers
// the page only shows (not those its forms post back, which the templates
// write with Phone and Device where they show them).
func (p *Page) localizeNames() {
	p.Masked = p.Phone(p.Masked)
	for i := range p.Others {
		p.Others[i].Masked = p.Phone(p.Others[i].Masked)
	}
	if p.Prompt != nil {
		p.Prompt.Browser = p.Device(p.Prompt.Browser)
	}
	// What a confirmation names (a phone, a remembered browser).
	if p.Confirm != nil {
		p.Confirm.Data = p.localNamesIn(p.Confirm.Data)
	}
	p.TitleData = p.localNamesIn(p.TitleData)
}

// localNamesIn is data with its string values (numbers, browsers) in the
// page's language, as a new map.
func (p *Page) localNamesIn(data map[string]any) map[string]any {
	if data == nil {
		return nil
	}
	out := make(map[string]any, len(data))
	for k, v := range data {
		if s, ok := v.(string); ok {
			v = p.Device(p.Phone(s))
		}
		out[k] = v
	}
	return out
}

// LocalizeBrowser is a browser's description (push.Browser's) in language
// lang, for texts that are not pages, such as a push notification.
func (r *Renderer) LocalizeBrowser(lang, name string) string {
	return localBrowser(i18n.NewLocalizer(r.bundle, lang), name)
}
