// Package metrics is the gateway's Prometheus metrics: the collectors,
// registered in Caddy's registry (served at the admin endpoint's
// /metrics), the sink of the security-events writer that counts events,
// and the wrappers of the text, call and push providers that count what
// they send. Every label takes its values from a small fixed set (methods,
// reasons, outcomes, provider module names): never a user, an address or
// anything else a client chooses. docs/metrics.md lists the metrics.
package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

// Namespace prefixes every metric's name ("caddy_mfa_...").
const Namespace = "caddy_mfa"

// Methods of a sign-in besides the registered second factors, as the
// security events name them.
const (
	MethodRecoveryCode     = "recovery_code"
	MethodRememberedDevice = "remembered_device"
	MethodTemporaryPass    = "temporary_pass"
	// Other stands for a label value outside its fixed set (never a
	// client's own string).
	Other = "other"
)

// Results of a sign-in, of a send.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultSent    = "sent"
	ResultFailed  = "failed"
)

// Outcomes of a push prompt.
const (
	PushSent        = "sent"
	PushApproved    = "approved"
	PushDenied      = "denied"
	PushWrongNumber = "wrong_number"
	PushRefused     = "refused"
	PushFailed      = "failed"
)

// Channels of a send.
const (
	ChannelSMS   = "sms"
	ChannelVoice = "voice"
)

// Stores whose outages are counted.
const (
	StoreRedis    = "redis"
	StoreEmbedded = "embedded"
	StoreLDAP     = "ldap"
)

// RefusalBusy is the refusal kind of a sign-in turned away because too
// many password checks run at once (not a regulation reason).
const RefusalBusy = "busy"

// Methods are the values of the method label: the registered second
// factors, then the other ways to pass the second factor, then Other.
func Methods() []string {
	return append(append([]string{}, challenge.KnownMethods...),
		MethodRecoveryCode, MethodRememberedDevice, MethodTemporaryPass, Other)
}

// RefusalKinds are the values of the kind label of refusals_total: the
// reasons of the rate limits and lockouts (package regulation), and busy.
func RefusalKinds() []string {
	return []string{
		regulation.ReasonIP.String(), regulation.ReasonUser.String(), regulation.ReasonLocked.String(),
		regulation.ReasonUnfamiliar.String(), regulation.ReasonBlocked.String(), regulation.ReasonResend.String(),
		regulation.ReasonNumber.String(), regulation.ReasonDaily.String(), RefusalBusy,
	}
}

// PushOutcomes are the values of the outcome label of push_prompts_total.
func PushOutcomes() []string {
	return []string{PushSent, PushApproved, PushDenied, PushWrongNumber, PushRefused, PushFailed}
}

// Stores are the values of the store label of store_errors_total.
func Stores() []string { return []string{StoreRedis, StoreEmbedded, StoreLDAP} }

// FraudMethods are the values of the method label of fraud_reports_total.
func FraudMethods() []string { return []string{challenge.MethodPush, challenge.MethodVoice, Other} }

// Collectors are the gateway's metrics. Make them once (New) and register
// them with the registry of every config that uses them (Register): the
// counts then survive a reload.
type Collectors struct {
	// SignIns counts sign-ins completed (result success) and second
	// factors that failed at sign-in (result failure), by method.
	SignIns *prometheus.CounterVec
	// FirstFactorFailures counts wrong passwords (and unknown users).
	FirstFactorFailures prometheus.Counter
	// SecondFactorFailures counts wrong second factors by method, at
	// sign-in and when confirming a method being registered: those that
	// count toward the lockout.
	SecondFactorFailures *prometheus.CounterVec
	// Refusals counts attempts a rate limit or lockout refused, by kind
	// (the regulation reason, or busy).
	Refusals *prometheus.CounterVec
	// Lockouts counts lockouts begun (of a user's second factor, or of a
	// source of passwords for a user).
	Lockouts prometheus.Counter
	// Sends counts texts and calls handed to a provider, by channel,
	// provider module name and result.
	Sends *prometheus.CounterVec
	// PushPrompts counts app-notification prompts by outcome.
	PushPrompts *prometheus.CounterVec
	// FraudReports counts "this wasn't me" answers by method.
	FraudReports *prometheus.CounterVec
	// AppPasswordUses and AppPasswordFailures count requests signed in by
	// an app password, and wrong app passwords.
	AppPasswordUses, AppPasswordFailures prometheus.Counter
	// StoreErrors counts requests failed closed (503) because a store
	// could not be reached, by store.
	StoreErrors *prometheus.CounterVec
}

// New makes the collectors, every count at zero.
func New() *Collectors {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	return &Collectors{
		SignIns:              vec("signins_total", "Sign-ins completed (result success) and second factors failed at sign-in (result failure), by method.", "method", "result"),
		FirstFactorFailures:  counter("first_factor_failures_total", "Sign-ins refused for a wrong password or an unknown user."),
		SecondFactorFailures: vec("second_factor_failures_total", "Wrong second factors counted toward the lockout (at sign-in and when confirming a new method), by method.", "method"),
		Refusals:             vec("refusals_total", "Attempts refused by a rate limit or lockout, by kind.", "kind"),
		Lockouts:             counter("lockouts_total", "Lockouts begun (a user's second factor, or a source of passwords for a user)."),
		Sends:                vec("sends_total", "Texts and calls handed to a provider, by channel, provider and result.", "channel", "provider", "result"),
		PushPrompts:          vec("push_prompts_total", "App-notification prompts by outcome.", "outcome"),
		FraudReports:         vec("fraud_reports_total", "Prompts and calls answered \"this wasn't me\", by method.", "method"),
		AppPasswordUses:      counter("app_password_uses_total", "Requests signed in with an app password."),
		AppPasswordFailures:  counter("app_password_failures_total", "Requests with a wrong app password."),
		StoreErrors:          vec("store_errors_total", "Requests failed closed because a store could not be reached, by store.", "store"),
	}
}

// Register registers c with reg and returns the collectors to count with:
// c's own, or, for one reg already holds (another Provision of the same
// config, or c itself), the one reg holds, so that one count goes on.
func (c *Collectors) Register(reg prometheus.Registerer) (*Collectors, error) {
	out := *c
	var errs []error
	vecs := []**prometheus.CounterVec{&out.SignIns, &out.SecondFactorFailures, &out.Refusals, &out.Sends,
		&out.PushPrompts, &out.FraudReports, &out.StoreErrors}
	for _, v := range vecs {
		r, err := register(reg, *v)
		*v = r
		errs = append(errs, err)
	}
	for _, v := range []*prometheus.Counter{&out.FirstFactorFailures, &out.Lockouts, &out.AppPasswordUses, &out.AppPasswordFailures} {
		r, err := register(reg, *v)
		*v = r
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out.zero()
	return &out, nil
}

// register registers col with reg, or returns the like collector reg
// already holds.
func register[T prometheus.Collector](reg prometheus.Registerer, col T) (T, error) {
	err := reg.Register(col)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
		return col, fmt.Errorf("metrics: another collector of a different type is registered as %v", are.ExistingCollector)
	}
	if err != nil {
		return col, fmt.Errorf("metrics: registering: %w", err)
	}
	return col, nil
}

// zero makes every series of the fixed label sets exist, at zero, so that
// a rate over them works before the first event.
func (c *Collectors) zero() {
	for _, m := range Methods() {
		c.SignIns.WithLabelValues(m, ResultSuccess)
		c.SignIns.WithLabelValues(m, ResultFailure)
		c.SecondFactorFailures.WithLabelValues(m)
	}
	for _, k := range RefusalKinds() {
		c.Refusals.WithLabelValues(k)
	}
	for _, o := range PushOutcomes() {
		c.PushPrompts.WithLabelValues(o)
	}
	for _, m := range FraudMethods() {
		c.FraudReports.WithLabelValues(m)
	}
	for _, s := range Stores() {
		c.StoreErrors.WithLabelValues(s)
	}
}

// StoreError counts a request failed closed because store (StoreRedis,
// StoreEmbedded or StoreLDAP) could not be reached.
func (c *Collectors) StoreError(store string) {
	c.StoreErrors.WithLabelValues(oneOf(store, Stores())).Inc()
}

// oneOf is v if it is in set, else Other.
func oneOf(v string, set []string) string {
	for _, s := range set {
		if s == v {
			return v
		}
	}
	return Other
}
