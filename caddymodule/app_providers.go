package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

// The providers of texts, calls and app notifications are guest modules
// (package providers, or another plugin's), one per option: the option's
// namespace, and the key that names the module in its JSON object.
const (
	nsSMS   = "mfa.sms"
	nsVoice = "mfa.voice"
	nsPush  = "mfa.push"

	keyProvider = "provider" // of sms and voice
	keyNotifier = "notifier" // of push
)

// loadedProviders are the senders loaded from the sms, voice and push
// modules.
type loadedProviders struct {
	text     phone.TextSender
	voice    phone.Caller
	notifier push.Notifier
	// callbacks checks the voice provider's callbacks; nil if it has none
	// to check (the log provider).
	callbacks phone.CallbackVerifier
	// voiceName is the voice provider's name, for errors.
	voiceName string
}

// loadProviders loads the configured providers and says so in the log.
func (a *App) loadProviders(ctx caddy.Context) (loadedProviders, error) {
	var out loadedProviders
	sms, _, devSMS, err := a.loadProvider(ctx, "SMSRaw", "sms", nsSMS, keyProvider, a.SMSRaw)
	if err != nil {
		return out, err
	}
	if sms != nil {
		t, ok := sms.(phone.TextSender)
		if !ok {
			return out, fmt.Errorf("sms: module %s cannot send texts (it is no phone.TextSender)", sms.(caddy.Module).CaddyModule().ID)
		}
		out.text = t
	}
	voice, name, devVoice, err := a.loadProvider(ctx, "VoiceRaw", "voice", nsVoice, keyProvider, a.VoiceRaw)
	if err != nil {
		return out, err
	}
	if voice != nil {
		c, ok := voice.(phone.Caller)
		if !ok {
			return out, errors.New("voice: this provider cannot place calls")
		}
		out.voice, out.voiceName = c, name
		if v, ok := voice.(phone.CallbackVerifier); ok {
			out.callbacks = v
		} else if !devVoice && !a.Development {
			// Its callbacks would go unchecked: anyone could answer a
			// call for the user.
			return out, fmt.Errorf("voice %s: the provider cannot check that its callbacks come from it (it is no phone.CallbackVerifier), which only development allows", name)
		}
	}
	n, _, _, err := a.loadProvider(ctx, "PushRaw", "push", nsPush, keyNotifier, a.PushRaw)
	if err != nil {
		return out, err
	}
	if n != nil {
		p, ok := n.(push.Notifier)
		if !ok {
			return out, fmt.Errorf("push: module %s cannot send notifications (it is no push.Notifier)", n.(caddy.Module).CaddyModule().ID)
		}
		out.notifier = p
	}
	if devSMS || devVoice {
		a.logger.Warn("development mode: text-message codes and calls are written to the log and never sent; never use this in production")
	}
	return out, nil
}

// loadProvider loads the guest module in a's field (of the Caddyfile
// option option, whose raw JSON is raw) from namespace, where key names
// it; nil if none is configured. It returns the module's name, and whether
// it is for development only (allowed by `development` alone).
func (a *App) loadProvider(ctx caddy.Context, field, option, namespace, key string, raw json.RawMessage) (any, string, bool, error) {
	if len(raw) == 0 {
		return nil, "", false, nil
	}
	var probe map[string]any
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, "", false, fmt.Errorf("%s: %w", option, err)
	}
	name, _ := probe[key].(string)
	if _, err := caddy.GetModule(namespace + "." + name); name == "" || err != nil {
		return nil, "", false, unknownProvider(option, namespace, key, name)
	}
	mod, err := ctx.LoadModule(a, field)
	if err != nil {
		return nil, "", false, err
	}
	d, dev := mod.(providers.DevelopmentOnly)
	if dev && !a.Development {
		return nil, "", false, fmt.Errorf("%s %s: %s, which is for development only; add `development` to the global mfa block to allow it", option, name, d.DevelopmentOnly())
	}
	return mod, name, dev, nil
}

// unknownProvider is the error for a provider name that is not a module
// of namespace ("" for none given).
func unknownProvider(option, namespace, key, name string) error {
	known := moduleNames(namespace)
	switch {
	case name == "":
		return fmt.Errorf("%s: a %s is required: %s", option, key, orList(known))
	case namespace == nsVoice && moduleExists(nsSMS+"."+name):
		return fmt.Errorf("voice: the %s provider sends texts only; use %s for calls", name, orList(known))
	}
	return fmt.Errorf("%s: unknown %s %q; known: %s", option, key, name, strings.Join(known, ", "))
}

// unmarshalProvider reads `<option> <name> [args] [{ ... }]`, the
// Caddyfile of the module name of namespace, and returns its JSON with the
// name under key.
func unmarshalProvider(d *caddyfile.Dispenser, namespace, key string) (json.RawMessage, error) {
	option := d.Val()
	if !d.NextArg() {
		return nil, d.Errf("%s needs a %s: %s", option, key, orList(moduleNames(namespace)))
	}
	name := d.Val()
	if !moduleExists(namespace + "." + name) {
		return nil, d.Err(unknownProvider(option, namespace, key, name).Error())
	}
	unm, err := caddyfile.UnmarshalModule(d, namespace+"."+name)
	if err != nil {
		return nil, err
	}
	var warnings []caddyconfig.Warning
	raw := caddyconfig.JSONModuleObject(unm, key, name, &warnings)
	if len(warnings) > 0 {
		return nil, d.Errf("%s %s: %s", option, name, warnings[0].Message)
	}
	return raw, nil
}

// moduleNames are the names of the registered modules of namespace.
func moduleNames(namespace string) []string {
	var names []string
	for _, m := range caddy.GetModules(namespace) {
		names = append(names, m.ID.Name())
	}
	return names
}

func moduleExists(id string) bool {
	_, err := caddy.GetModule(id)
	return err == nil
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
