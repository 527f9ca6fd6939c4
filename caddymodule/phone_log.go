package caddymodule

import (
	"context"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// logSender is the development provider: it writes texts and calls to
// Caddy's log instead of sending them. Provisioning refuses it unless the
// operator sets `development`.
type logSender struct{ logger *zap.Logger }

// SendText implements phone.TextSender.
func (l *logSender) SendText(_ context.Context, t phone.Text) error {
	l.logger.Warn("development: text message not sent", zap.String("to", t.To.E164), zap.String("body", t.Body))
	return nil
}

// PlaceCall implements phone.Caller: the call's answer is given by posting
// `Digits` to its gather URL, which in development needs no signature.
func (l *logSender) PlaceCall(_ context.Context, c phone.Call) (string, error) {
	l.logger.Warn("development: call not placed; answer it with: curl -d 'Digits=%23' '"+c.GatherURL+"'",
		zap.String("to", c.To.E164), zap.String("say", c.Say))
	return "", nil
}

var (
	_ phone.TextSender = (*logSender)(nil)
	_ phone.Caller     = (*logSender)(nil)
)
