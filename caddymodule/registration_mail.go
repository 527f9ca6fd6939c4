package caddymodule

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/notify"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
)

// codeMailer e-mails the codes of verified_email registration through the
// smtp server, each in the background: the page answers at once, and a
// slow or down server delays the e-mail only (the user can ask again).
type codeMailer struct {
	mailer *notify.Mailer
	// sends are the sends under way, which Stop waits for.
	sends  *sync.WaitGroup
	logger *zap.Logger
	now    func() time.Time
}

// SendCode implements portal.CodeMailer.
func (c codeMailer) SendCode(ctx context.Context, m portal.CodeMail) error {
	n := notify.Notice{Kind: "email_code", User: m.User, To: m.To, Name: m.Name, Lang: m.Lang,
		Time: c.now().UTC(), IP: m.IP, Browser: m.Browser, ID: notify.NewID()}
	timeout := c.mailer.Timeout
	if timeout <= 0 {
		timeout = defaultSMTPTimeout
	}
	ctx = context.WithoutCancel(ctx)
	c.sends.Go(func() {
		// A connection, TLS, AUTH and DATA: each step has the timeout.
		ctx, cancel := context.WithTimeout(ctx, 4*timeout)
		defer cancel()
		if err := c.mailer.SendCode(ctx, n, m.Code); err != nil {
			c.logger.Error("e-mailing a registration code failed; the user can ask for another", zap.String("user", m.User), zap.Error(err))
			return
		}
		c.logger.Info("registration code e-mailed", zap.String("user", m.User), zap.String("id", n.ID))
	})
	return nil
}
