package portal

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Remove, Revoke, Forget, Get new recovery codes and Sign out everywhere
// ask once. The security page's buttons post without the confirmation;
// the action then does nothing but redirect to its own address, whose GET
// is the confirmation page: it changes nothing, needs no script, and its
// button posts the action again with confirm=1 (and the CSRF token; the
// step-up guard runs on both posts). A GET of the address, from a link or
// a reload, shows the same page.

// confirmed reports whether the action's form carries the confirmation.
func confirmed(q *request) bool { return q.r.PostFormValue("confirm") == "1" }

// askFirst answers an unconfirmed action: a redirect to its confirmation
// page, path (under the prefix) with query.
func (p *Portal) askFirst(q *request, path string, query url.Values) error {
	to := p.prefix + path
	if len(query) > 0 {
		to += "?" + query.Encode()
	}
	return p.redirect(q, to)
}

// renderConfirm shows the confirmation page of action (a path under the
// prefix): title is the question, c what it does and its button.
func (p *Portal) renderConfirm(q *request, title string, titleData map[string]any, action string, c ui.Confirm) error {
	pg := p.page(q, title)
	pg.TitleData, pg.SignedIn = titleData, true
	c.Action = p.prefix + action
	pg.Confirm = &c
	return p.render(q, http.StatusOK, "confirm", pg)
}

// confirmRemove asks before removing the method named by "id".
func (p *Portal) confirmRemove(q *request) error {
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return err
	}
	methods := challenge.Registered(a)
	i := slices.IndexFunc(methods, func(m challenge.MethodInfo) bool { return m.ID == q.r.URL.Query().Get("id") })
	if i < 0 || len(methods) < 2 {
		return p.toSecurity(q)
	}
	m := methods[i]
	return p.renderConfirm(q, ui.TitleConfirmRemove, map[string]any{"Name": p.methodLabel(q, m)}, "security/remove", ui.Confirm{
		Text: ui.MsgConfirmRemove, Button: ui.ConfirmRemoveButton,
		Fields: []ui.Field{{Name: "id", Value: m.ID}, {Name: "masked", Value: m.Masked}},
	})
}

// methodLabel is how the security page names m.
func (p *Portal) methodLabel(q *request, m challenge.MethodInfo) string {
	switch m.Kind {
	case "phone":
		return p.localize(q.r, "security.phone", nil) + " " + m.Masked
	case challenge.MethodWebAuthn:
		return m.Name
	}
	return p.localize(q.r, "method."+m.Kind+".name", nil)
}

// confirmRecovery asks before replacing the recovery codes.
func (p *Portal) confirmRecovery(q *request) error {
	return p.renderConfirm(q, ui.TitleConfirmRecovery, nil, "security/recovery", ui.Confirm{
		Text: ui.MsgConfirmRecovery, Button: ui.ConfirmRecoveryButton,
	})
}

// confirmSignOut asks before signing out everywhere (and, with
// app_passwords=revoke, revoking every app password).
func (p *Portal) confirmSignOut(q *request) error {
	c := ui.Confirm{Text: ui.MsgConfirmSignOut, Button: ui.ConfirmSignOutButton}
	if q.r.URL.Query().Get("app_passwords") == "revoke" {
		c.Text, c.Fields = ui.MsgConfirmSignOutAll, []ui.Field{{Name: "app_passwords", Value: "revoke"}}
	}
	return p.renderConfirm(q, ui.TitleConfirmSignOut, nil, "security/signout", c)
}

// confirmRevoke asks before revoking the app password named by "id".
func (p *Portal) confirmRevoke(q *request) error {
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return err
	}
	id := q.r.URL.Query().Get("id")
	if a == nil {
		return p.toSecurity(q)
	}
	for _, ap := range a.AppPasswords {
		if ap.ID == id && id != "" {
			return p.renderConfirm(q, ui.TitleConfirmRevoke, map[string]any{"Name": ap.Name}, "security/app-passwords/revoke", ui.Confirm{
				Text: ui.MsgConfirmRevoke, Button: ui.ConfirmRevokeButton, Fields: []ui.Field{{Name: "id", Value: ap.ID}},
			})
		}
	}
	return p.toSecurity(q)
}

// confirmForget asks before forgetting the remembered device named by "id".
func (p *Portal) confirmForget(q *request) error {
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return err
	}
	id, now := q.r.URL.Query().Get("id"), p.engine.Now()
	if a == nil {
		return p.toSecurity(q)
	}
	for _, d := range a.Devices {
		if d.ID == id && id != "" && now.Before(d.Expires) {
			return p.renderConfirm(q, ui.TitleConfirmForget, nil, "security/devices/forget", ui.Confirm{
				Text: ui.MsgConfirmForget, Data: map[string]any{"Name": d.Name}, Button: ui.ConfirmForgetButton,
				Fields: []ui.Field{{Name: "id", Value: d.ID}},
			})
		}
	}
	return p.toSecurity(q)
}
