package caddymodule

import (
	"context"
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/notify"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// notices is the app's security-notice machinery: the sink on the events
// writer that queues notices, and the worker that sends them.
type notices struct {
	sink   *notify.Sink
	worker *notify.Worker
	done   chan struct{}
}

// directory is what the notices need of the users: a user's e-mail
// address and display name, by name. It is a function so that it does
// not depend on the type of engine.Users.
type directory = notify.Directory

// buildNotices sets up the notices when smtp or a notify webhook is
// configured, and hands the events writer its sink. kv is the store the
// outbox lives in, lookup finds addresses.
func (a *App) buildNotices(repl *caddy.Replacer, kv store.KV, lookup directory) error {
	if a.SMTP == nil && (a.Notify == nil || a.Notify.Webhook == nil) {
		if a.Notify != nil {
			return errors.New("mfa: notify needs smtp { ... } or notify { webhook <url> { secret ... } } to send its notices")
		}
		return nil
	}
	kinds, err := a.Notify.kinds()
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	log := a.logger.Named("notify")
	senders := map[string]notify.Sender{}
	timeout := defaultSMTPTimeout
	if a.SMTP != nil {
		m, err := a.SMTP.mailer(repl)
		if err != nil {
			return fmt.Errorf("mfa: %w", err)
		}
		security := ""
		if a.public != "" {
			security = a.public + a.prefix + "security"
		}
		if m.Composer, err = notify.NewComposer(a.renderer, a.org, security, a.help); err != nil {
			return fmt.Errorf("mfa: %w", err)
		}
		senders[notify.ChannelMail] = m
		timeout = m.Timeout
		a.mailer = m
	}
	if a.Notify != nil && a.Notify.Webhook != nil {
		c, err := a.Notify.Webhook.build("notify webhook", repl)
		if err != nil {
			return fmt.Errorf("mfa: %w", err)
		}
		senders[notify.ChannelWebhook] = notify.WebhookSender{Poster: c}
	}
	o := &notify.Outbox{KV: kv}
	w := notify.NewWorker(o, senders, log)
	w.Timeout = timeout
	sink := &notify.Sink{Outbox: o, Kinds: kinds, Mail: a.SMTP != nil, Webhook: senders[notify.ChannelWebhook] != nil,
		Lookup: lookup, Languages: a.renderer, Logger: log, Wake: w.Wake}
	a.events.AddSink(sink)
	a.notices = &notices{sink: sink, worker: w}
	return nil
}

// startNotices starts the worker until ctx ends.
func (a *App) startNotices(ctx context.Context) {
	if a.notices == nil {
		return
	}
	a.logger.Info("security notices on", zap.Bool("mail", a.notices.sink.Mail), zap.Bool("webhook", a.notices.sink.Webhook))
	a.notices.done = make(chan struct{})
	go func() {
		defer close(a.notices.done)
		a.notices.worker.Run(ctx)
	}()
}

// waitNotices waits for the worker to end (after its context ended): a
// send in flight ends within its timeout.
func (a *App) waitNotices() {
	if a.notices != nil && a.notices.done != nil {
		<-a.notices.done
	}
}

// usersDirectory finds addresses in the users of the first factor.
func (a *App) usersDirectory() directory {
	return func(user string) (string, string, bool) {
		u := a.engine.Users.Lookup(user)
		if u == nil {
			return "", "", false
		}
		return u.Email, u.DisplayName, true
	}
}
