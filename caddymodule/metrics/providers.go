package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

// The providers' sends are counted where they happen, around the
// provider, which alone knows its module name and whether it took the
// text, call or prompt.

// Texts wraps t, the sms provider named provider (its module name), to
// count what it sends in c.
func (c *Collectors) Texts(t phone.TextSender, provider string) phone.TextSender {
	return &texts{t, c.Sends.WithLabelValues(ChannelSMS, provider, ResultSent), c.Sends.WithLabelValues(ChannelSMS, provider, ResultFailed)}
}

// Calls wraps v, the voice provider named provider, to count the calls
// it places in c.
func (c *Collectors) Calls(v phone.Caller, provider string) phone.Caller {
	return &calls{v, c.Sends.WithLabelValues(ChannelVoice, provider, ResultSent), c.Sends.WithLabelValues(ChannelVoice, provider, ResultFailed)}
}

// Prompts wraps n, the push notifier, to count the prompts it fails to
// send (those sent are counted from the push_sent event). A notifier that
// is a push.Subscriber stays one.
func (c *Collectors) Prompts(n push.Notifier) push.Notifier {
	p := &prompts{n, c.PushPrompts.WithLabelValues(PushFailed)}
	if s, ok := n.(push.Subscriber); ok {
		return &subscribedPrompts{p, s}
	}
	return p
}

type texts struct {
	phone.TextSender
	sent, failed prometheus.Counter
}

// SendText implements phone.TextSender.
func (t *texts) SendText(ctx context.Context, m phone.Text) error {
	err := t.TextSender.SendText(ctx, m)
	count(err, t.sent, t.failed)
	return err
}

type calls struct {
	phone.Caller
	sent, failed prometheus.Counter
}

// PlaceCall implements phone.Caller.
func (c *calls) PlaceCall(ctx context.Context, call phone.Call) (string, error) {
	id, err := c.Caller.PlaceCall(ctx, call)
	count(err, c.sent, c.failed)
	return id, err
}

type prompts struct {
	push.Notifier
	failed prometheus.Counter
}

// Notify implements push.Notifier.
func (p *prompts) Notify(ctx context.Context, n push.Notification) error {
	err := p.Notifier.Notify(ctx, n)
	if err != nil {
		p.failed.Inc()
	}
	return err
}

type subscribedPrompts struct {
	*prompts
	push.Subscriber
}

func count(err error, sent, failed prometheus.Counter) {
	if err != nil {
		failed.Inc()
		return
	}
	sent.Inc()
}

// Unwrap is the provider that Texts, Calls or Prompts wrapped in v, or v
// itself if it is no such wrapper.
func Unwrap(v any) any {
	if w, ok := v.(interface{ unwrapped() any }); ok {
		return w.unwrapped()
	}
	return v
}

func (t *texts) unwrapped() any   { return t.TextSender }
func (c *calls) unwrapped() any   { return c.Caller }
func (p *prompts) unwrapped() any { return p.Notifier }
