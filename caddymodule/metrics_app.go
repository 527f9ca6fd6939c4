package caddymodule

import (
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/metrics"
	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
)

// metricsPoolKey is the pool key of the collectors: made once and shared
// by every config that follows (each registers them with its own
// registry, which Caddy makes anew per config), so that a reload keeps
// the counts.
const metricsPoolKey = "metrics"

// pooledMetrics holds the collectors in the pool.
type pooledMetrics struct{ c *metrics.Collectors }

// Destruct implements caddy.Destructor: collectors hold nothing to close.
func (pooledMetrics) Destruct() error { return nil }

// provisionMetrics registers the collectors with the config's metrics
// registry (served at the admin endpoint's /metrics), counts the
// security events through a sink of the events writer, and wraps the
// providers in p to count what they send. Call it after a.events is made
// and before p's providers go into the engine.
func (a *App) provisionMetrics(ctx caddy.Context, p *loadedProviders) error {
	v, _, err := pool.LoadOrNew(metricsPoolKey, func() (caddy.Destructor, error) {
		return pooledMetrics{metrics.New()}, nil
	})
	if err != nil {
		return fmt.Errorf("mfa: metrics: %w", err)
	}
	a.pooled = append(a.pooled, metricsPoolKey)
	c := v.(pooledMetrics).c
	if reg := ctx.GetMetricsRegistry(); reg != nil {
		if c, err = c.Register(reg); err != nil {
			return fmt.Errorf("mfa: %w", err)
		}
	}
	a.metrics = c
	a.events.AddSink(c.Sink())
	if p.text != nil {
		p.text = c.Texts(p.text, providerName(p.text))
	}
	if p.voice != nil {
		p.voice = c.Calls(p.voice, providerName(p.voice))
	}
	if p.notifier != nil {
		p.notifier = c.Prompts(p.notifier)
	}
	return nil
}

// providerName is the module name of a provider (its Caddyfile name:
// "twilio", "webhook", "log"), a value of the provider label.
func providerName(v any) string {
	if m, ok := v.(caddy.Module); ok {
		return m.CaddyModule().ID.Name()
	}
	return metrics.Other
}

// storeError counts a request failed closed because a store could not be
// reached: the LDAP server, or else the store of the sessions and
// accounts (Redis or the embedded one).
func (a *App) storeError(err error) {
	if a.metrics == nil {
		return
	}
	switch {
	case errors.Is(err, ldapdir.ErrServer):
		a.metrics.StoreError(metrics.StoreLDAP)
	case a.Redis != nil:
		a.metrics.StoreError(metrics.StoreRedis)
	default:
		a.metrics.StoreError(metrics.StoreEmbedded)
	}
}
