package providers

import (
	"context"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

func init() {
	caddy.RegisterModule(LogSMS{})
	caddy.RegisterModule(LogVoice{})
}

// devLogReason is why the log providers are for development only.
const devLogReason = "the log provider writes codes to the log"

// logSender writes texts and calls to the log instead of sending them.
type logSender struct{ logger *zap.Logger }

// sendText writes t to the log.
func (l logSender) sendText(t phone.Text) {
	l.logger.Warn("development: text message not sent", zap.String("to", t.To.E164), zap.String("body", t.Body))
}

// placeCall writes c to the log with the command that answers it: the
// call's answer is given by posting `Digits` to its gather URL, which in
// development needs no signature.
func (l logSender) placeCall(c phone.Call) {
	l.logger.Warn("development: call not placed; answer it with: curl -d 'Digits=%23' '"+c.GatherURL+"'",
		zap.String("to", c.To.E164), zap.String("say", c.Say))
}

// LogSMS is the development provider of texts: it writes each text, code
// included, to Caddy's log instead of sending it. The app refuses it
// unless `development` is set. In the Caddyfile: `sms log`.
type LogSMS struct {
	log logSender
}

// CaddyModule returns the Caddy module information.
func (LogSMS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.sms.log", New: func() caddy.Module { return new(LogSMS) }}
}

// Provision takes the module's logger.
func (s *LogSMS) Provision(ctx caddy.Context) error {
	s.log.logger = ctx.Logger()
	return nil
}

// DevelopmentOnly implements DevelopmentOnly.
func (*LogSMS) DevelopmentOnly() string { return devLogReason }

// SendText implements phone.TextSender: it logs t.
func (s *LogSMS) SendText(_ context.Context, t phone.Text) error {
	s.log.sendText(t)
	return nil
}

// UnmarshalCaddyfile reads `log`, which takes no arguments or options.
func (s *LogSMS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the provider's name
	if d.NextArg() {
		return d.ArgErr()
	}
	return noBlock(d, s)
}

// LogVoice is the development provider of calls: it writes each call to
// Caddy's log with the curl command that answers it, instead of placing
// it. The app refuses it unless `development` is set. In the Caddyfile:
// `voice log`.
type LogVoice struct {
	log logSender
}

// CaddyModule returns the Caddy module information.
func (LogVoice) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.voice.log", New: func() caddy.Module { return new(LogVoice) }}
}

// Provision takes the module's logger.
func (v *LogVoice) Provision(ctx caddy.Context) error {
	v.log.logger = ctx.Logger()
	return nil
}

// DevelopmentOnly implements DevelopmentOnly.
func (*LogVoice) DevelopmentOnly() string { return devLogReason }

// PlaceCall implements phone.Caller: it logs c.
func (v *LogVoice) PlaceCall(_ context.Context, c phone.Call) (string, error) {
	v.log.placeCall(c)
	return "", nil
}

// UnmarshalCaddyfile reads `log`, which takes no arguments or options.
func (v *LogVoice) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the provider's name
	if d.NextArg() {
		return d.ArgErr()
	}
	return noBlock(d, v)
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*LogSMS)(nil)
	_ caddyfile.Unmarshaler = (*LogSMS)(nil)
	_ phone.TextSender      = (*LogSMS)(nil)
	_ DevelopmentOnly       = (*LogSMS)(nil)
	_ caddy.Provisioner     = (*LogVoice)(nil)
	_ caddyfile.Unmarshaler = (*LogVoice)(nil)
	_ phone.Caller          = (*LogVoice)(nil)
	_ DevelopmentOnly       = (*LogVoice)(nil)
)
