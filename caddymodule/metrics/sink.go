package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
)

// Sink is the events writer's sink that counts security events. Every
// counter it can touch is looked up when it is made, so that an event
// costs a few map lookups and an atomic add, and no allocation.
type Sink struct {
	signedIn, signInFailed, secondFailed map[string]prometheus.Counter
	refusals, push, fraud                map[string]prometheus.Counter
	firstFailed, lockouts                prometheus.Counter
	appUses, appFailures                 prometheus.Counter
}

// Sink makes the sink that counts events into c.
func (c *Collectors) Sink() *Sink {
	s := &Sink{
		signedIn: map[string]prometheus.Counter{}, signInFailed: map[string]prometheus.Counter{},
		secondFailed: map[string]prometheus.Counter{}, refusals: map[string]prometheus.Counter{},
		push: map[string]prometheus.Counter{}, fraud: map[string]prometheus.Counter{},
		firstFailed: c.FirstFactorFailures, lockouts: c.Lockouts,
		appUses: c.AppPasswordUses, appFailures: c.AppPasswordFailures,
	}
	for _, m := range Methods() {
		s.signedIn[m] = c.SignIns.WithLabelValues(m, ResultSuccess)
		s.signInFailed[m] = c.SignIns.WithLabelValues(m, ResultFailure)
		s.secondFailed[m] = c.SecondFactorFailures.WithLabelValues(m)
	}
	for _, k := range RefusalKinds() {
		s.refusals[k] = c.Refusals.WithLabelValues(k)
	}
	for _, o := range PushOutcomes() {
		s.push[o] = c.PushPrompts.WithLabelValues(o)
	}
	for _, m := range FraudMethods() {
		s.fraud[m] = c.FraudReports.WithLabelValues(m)
	}
	return s
}

// reasonPassword is the reason of a sign_in_failed event for a wrong
// password; every other reason is of the second factor.
const reasonPassword = "password"

// Event implements events.Sink: it counts e. The user and the request
// are never read.
func (s *Sink) Event(_ *http.Request, e events.Event, _ string, fields []zap.Field) {
	switch e {
	case events.SignedIn:
		byMethod(s.signedIn, fields).Inc()
	case events.SignInFailed:
		if field(fields, "reason") == reasonPassword {
			s.firstFailed.Inc()
			return
		}
		byMethod(s.signInFailed, fields).Inc()
		byMethod(s.secondFailed, fields).Inc()
	case events.EnrolmentCodeRejected:
		byMethod(s.secondFailed, fields).Inc()
	case events.LockedOut:
		s.lockouts.Inc()
	case events.SignInRefused, events.CodeRefused, events.SendRefused, events.AppPasswordRefused:
		s.refused(fields)
	case events.PushRefused:
		s.refused(fields)
		s.push[PushRefused].Inc()
	case events.PushSent:
		s.push[PushSent].Inc()
	case events.PushApproved:
		s.push[PushApproved].Inc()
	case events.PushDenied:
		if field(fields, "reason") == "wrong_number" {
			s.push[PushWrongNumber].Inc()
		} else {
			s.push[PushDenied].Inc()
		}
	case events.FraudReported:
		byMethod(s.fraud, fields).Inc()
	case events.AppPasswordUsed:
		s.appUses.Inc()
	case events.AppPasswordFailed:
		s.appFailures.Inc()
	}
}

// refused counts a refusal of a rate limit or lockout; other reasons
// (an expired password, a country not allowed) are no such refusal.
func (s *Sink) refused(fields []zap.Field) {
	if c, ok := s.refusals[field(fields, "reason")]; ok {
		c.Inc()
	}
}

// byMethod is the counter of the event's method in m, or of Other.
func byMethod(m map[string]prometheus.Counter, fields []zap.Field) prometheus.Counter {
	if c, ok := m[field(fields, "method")]; ok {
		return c
	}
	return m[Other]
}

// field is the string field key of fields ("" if none).
func field(fields []zap.Field, key string) string {
	for i := range fields {
		if fields[i].Key == key && fields[i].Type == zapcore.StringType {
			return fields[i].String
		}
	}
	return ""
}

var _ events.Sink = (*Sink)(nil)
