package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

// series gathers every series of reg as "name{label=value,...}" → value.
func series(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[name(mf, m)] = m.GetCounter().GetValue()
		}
	}
	return out
}

func name(mf *dto.MetricFamily, m *dto.Metric) string {
	var labels []string
	for _, l := range m.GetLabel() {
		labels = append(labels, l.GetName()+"="+l.GetValue())
	}
	return mf.GetName() + "{" + strings.Join(labels, ",") + "}"
}

// changed is what differs from before to after, as "series +delta".
func changed(before, after map[string]float64) []string {
	var out []string
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out = append(out, k+" +"+strconv.FormatFloat(d, 'g', -1, 64))
		}
	}
	sort.Strings(out)
	return out
}

// registered makes collectors registered with a fresh registry, and a
// writer that hands its events to their sink.
func registered(t *testing.T) (*Collectors, *prometheus.Registry, *events.Writer) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	c, err := New().Register(reg)
	if err != nil {
		t.Fatal(err)
	}
	w := events.New(zap.NewNop())
	w.AddSink(c.Sink())
	return c, reg, w
}

// Each security event moves exactly the series it stands for, by one;
// the events that are no metric move none.
func TestEventsMapToCounters(t *testing.T) {
	method, reason := events.Method, events.Reason
	cases := []struct {
		e      events.Event
		fields []zap.Field
		want   []string
	}{
		{events.SignedIn, []zap.Field{method("totp"), events.NewBrowser(true)}, []string{"caddy_mfa_signins_total{method=totp,result=success} +1"}},
		{events.SignedIn, []zap.Field{method("webauthn")}, []string{"caddy_mfa_signins_total{method=webauthn,result=success} +1"}},
		{events.SignedIn, []zap.Field{method("recovery_code")}, []string{"caddy_mfa_signins_total{method=recovery_code,result=success} +1"}},
		{events.SignedIn, []zap.Field{method("remembered_device")}, []string{"caddy_mfa_signins_total{method=remembered_device,result=success} +1"}},
		{events.SignedIn, []zap.Field{method("temporary_pass")}, []string{"caddy_mfa_signins_total{method=temporary_pass,result=success} +1"}},
		{events.SignedIn, []zap.Field{method("alice@example.com")}, []string{"caddy_mfa_signins_total{method=other,result=success} +1"}},
		{events.SignedIn, nil, []string{"caddy_mfa_signins_total{method=other,result=success} +1"}},
		{events.SignInFailed, []zap.Field{reason("password"), zap.String("source", "unfamiliar")}, []string{"caddy_mfa_first_factor_failures_total{} +1"}},
		{events.SignInFailed, []zap.Field{reason("second_factor"), method("totp")}, []string{
			"caddy_mfa_second_factor_failures_total{method=totp} +1", "caddy_mfa_signins_total{method=totp,result=failure} +1"}},
		{events.SignInFailed, []zap.Field{reason("push_not_approved"), method("push")}, []string{
			"caddy_mfa_second_factor_failures_total{method=push} +1", "caddy_mfa_signins_total{method=push,result=failure} +1"}},
		{events.SignInFailed, []zap.Field{reason("call_not_approved"), method("voice")}, []string{
			"caddy_mfa_second_factor_failures_total{method=voice} +1", "caddy_mfa_signins_total{method=voice,result=failure} +1"}},
		{events.EnrolmentCodeRejected, []zap.Field{method("sms")}, []string{"caddy_mfa_second_factor_failures_total{method=sms} +1"}},
		{events.LockedOut, nil, []string{"caddy_mfa_lockouts_total{} +1"}},
		{events.SignInRefused, []zap.Field{reason("locked")}, []string{"caddy_mfa_refusals_total{kind=locked} +1"}},
		{events.SignInRefused, []zap.Field{reason("unfamiliar")}, []string{"caddy_mfa_refusals_total{kind=unfamiliar} +1"}},
		{events.SignInRefused, []zap.Field{reason("busy")}, []string{"caddy_mfa_refusals_total{kind=busy} +1"}},
		{events.SignInRefused, []zap.Field{reason("password_expired")}, nil},
		{events.CodeRefused, []zap.Field{reason("user")}, []string{"caddy_mfa_refusals_total{kind=user} +1"}},
		{events.SendRefused, []zap.Field{method("sms"), reason("daily")}, []string{"caddy_mfa_refusals_total{kind=daily} +1"}},
		{events.SendRefused, []zap.Field{method("sms"), reason("resend")}, []string{"caddy_mfa_refusals_total{kind=resend} +1"}},
		{events.SendRefused, []zap.Field{method("voice"), reason("number")}, []string{"caddy_mfa_refusals_total{kind=number} +1"}},
		{events.SendRefused, []zap.Field{method("sms"), reason("country")}, nil},
		{events.AppPasswordRefused, []zap.Field{reason("ip")}, []string{"caddy_mfa_refusals_total{kind=ip} +1"}},
		{events.PushRefused, []zap.Field{reason("blocked")}, []string{"caddy_mfa_push_prompts_total{outcome=refused} +1", "caddy_mfa_refusals_total{kind=blocked} +1"}},
		{events.PushSent, []zap.Field{method("push")}, []string{"caddy_mfa_push_prompts_total{outcome=sent} +1"}},
		{events.PushApproved, nil, []string{"caddy_mfa_push_prompts_total{outcome=approved} +1"}},
		{events.PushDenied, []zap.Field{reason("denied")}, []string{"caddy_mfa_push_prompts_total{outcome=denied} +1"}},
		{events.PushDenied, []zap.Field{reason("wrong_number")}, []string{"caddy_mfa_push_prompts_total{outcome=wrong_number} +1"}},
		{events.FraudReported, []zap.Field{method("push"), zap.String("sign_in_ip", "192.0.2.1")}, []string{"caddy_mfa_fraud_reports_total{method=push} +1"}},
		{events.FraudReported, []zap.Field{method("voice")}, []string{"caddy_mfa_fraud_reports_total{method=voice} +1"}},
		{events.AppPasswordUsed, []zap.Field{zap.String("app_password", "mail")}, []string{"caddy_mfa_app_password_uses_total{} +1"}},
		{events.AppPasswordFailed, nil, []string{"caddy_mfa_app_password_failures_total{} +1"}},
		{events.CallCallbackRefused, []zap.Field{reason("call already answered")}, nil},
		{events.CodeSent, []zap.Field{method("sms")}, nil},
		{events.MethodAdded, []zap.Field{method("totp")}, nil},
		{events.CSRFRejected, nil, nil},
		{events.FirstFactorPassed, nil, nil},
	}
	for _, tc := range cases {
		_, reg, w := registered(t)
		before := series(t, reg)
		w.Write(httptest.NewRequest("POST", "/.mfa/login", nil), tc.e, "alice", tc.fields...)
		if got := changed(before, series(t, reg)); strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
			t.Errorf("%s %v: changed %q, want %q", tc.e, tc.fields, got, tc.want)
		}
	}
}

// Every series of the fixed label sets exists at zero before any event,
// and no label value is outside them.
func TestSeriesStartAtZero(t *testing.T) {
	_, reg, _ := registered(t)
	s := series(t, reg)
	for _, k := range []string{
		"caddy_mfa_signins_total{method=totp,result=success}", "caddy_mfa_signins_total{method=other,result=failure}",
		"caddy_mfa_first_factor_failures_total{}", "caddy_mfa_lockouts_total{}", "caddy_mfa_refusals_total{kind=daily}",
		"caddy_mfa_push_prompts_total{outcome=failed}", "caddy_mfa_store_errors_total{store=ldap}",
		"caddy_mfa_fraud_reports_total{method=voice}", "caddy_mfa_app_password_uses_total{}",
	} {
		if v, ok := s[k]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0", k, v, ok)
		}
	}
	// 9 methods × 2 results of sign-ins, 9 of second-factor failures, 9
	// refusal kinds, 6 push outcomes, 3 fraud methods, 3 stores, 4 counters.
	if n := len(s); n != 9*2+9+9+6+3+3+4 {
		t.Errorf("%d series at start", n)
	}
}

// Two Provisions on one registry keep one collector each, and its count.
func TestRegisterTwiceKeepsOneCollectorAndItsCount(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	first, err := New().Register(reg)
	if err != nil {
		t.Fatal(err)
	}
	first.Sink().Event(nil, events.LockedOut, "alice", nil)
	first.Sink().Event(nil, events.SignedIn, "alice", []zap.Field{events.Method("totp")})
	second, err := New().Register(reg) // a new app of the same config
	if err != nil {
		t.Fatalf("second Register: %v", err)
	}
	if second.Lockouts != first.Lockouts || second.SignIns != first.SignIns {
		t.Fatal("the second registration made new collectors")
	}
	second.Sink().Event(nil, events.LockedOut, "bob", nil)
	if v := testutil.ToFloat64(first.Lockouts); v != 2 {
		t.Fatalf("lockouts = %v, want 2", v)
	}
	if v := testutil.ToFloat64(second.SignIns.WithLabelValues("totp", "success")); v != 1 {
		t.Fatalf("totp sign-ins = %v, want 1", v)
	}
	if n, err := testutil.GatherAndCount(reg, "caddy_mfa_lockouts_total"); err != nil || n != 1 {
		t.Fatalf("lockouts series %d (%v), want 1", n, err)
	}
	// The same collectors again (the pool's, on a reload that keeps the
	// registry) are fine too.
	if _, err := first.Register(reg); err != nil {
		t.Fatalf("registering the same collectors again: %v", err)
	}
}

// A reload registers the same collectors with a new registry: the counts
// go on there.
func TestReloadKeepsCounts(t *testing.T) {
	c := New()
	old, err := c.Register(prometheus.NewPedanticRegistry())
	if err != nil {
		t.Fatal(err)
	}
	old.Sink().Event(nil, events.AppPasswordUsed, "alice", nil)
	reg := prometheus.NewPedanticRegistry()
	if _, err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP caddy_mfa_app_password_uses_total Requests signed in with an app password.
# TYPE caddy_mfa_app_password_uses_total counter
caddy_mfa_app_password_uses_total 1
`), "caddy_mfa_app_password_uses_total"); err != nil {
		t.Fatal(err)
	}
}

// A collector of another type under one of the names is an error, not a
// panic.
func TestRegisterConflictIsAnError(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "lockouts_total", Help: "Requests signed in with an app password."}))
	if _, err := New().Register(reg); err == nil {
		t.Fatal("no error")
	}
}

type fakeText struct{ err error }

func (f fakeText) SendText(context.Context, phone.Text) error { return f.err }

type fakeCall struct{ err error }

func (f fakeCall) PlaceCall(context.Context, phone.Call) (string, error) { return "id", f.err }

type fakeNotifier struct{ err error }

func (f fakeNotifier) Notify(context.Context, push.Notification) error { return f.err }

type fakeSubscriber struct{ fakeNotifier }

func (fakeSubscriber) Subscription(string) push.Subscription { return push.Subscription{} }

// The providers' wrappers count each send by channel, provider and
// result, pass the provider's answer through, and keep a subscriber one.
func TestProvidersCountSends(t *testing.T) {
	c, reg, _ := registered(t)
	ctx := context.Background()
	bad := errors.Join(phone.ErrProvider, errors.New("down"))
	before := series(t, reg)
	ok, failing := c.Texts(fakeText{}, "log"), c.Texts(fakeText{bad}, "twilio")
	_ = ok.SendText(ctx, phone.Text{})
	_ = ok.SendText(ctx, phone.Text{})
	if err := failing.SendText(ctx, phone.Text{}); !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("error %v not passed through", err)
	}
	if id, _ := c.Calls(fakeCall{}, "twilio").PlaceCall(ctx, phone.Call{}); id != "id" {
		t.Fatalf("call id %q", id)
	}
	_, _ = c.Calls(fakeCall{bad}, "log").PlaceCall(ctx, phone.Call{})
	_ = c.Prompts(fakeNotifier{}).Notify(ctx, push.Notification{})
	_ = c.Prompts(fakeNotifier{push.ErrNotifier}).Notify(ctx, push.Notification{})
	want := []string{
		"caddy_mfa_push_prompts_total{outcome=failed} +1",
		"caddy_mfa_sends_total{channel=sms,provider=log,result=sent} +2",
		"caddy_mfa_sends_total{channel=sms,provider=twilio,result=failed} +1",
		"caddy_mfa_sends_total{channel=voice,provider=log,result=failed} +1",
		"caddy_mfa_sends_total{channel=voice,provider=twilio,result=sent} +1",
	}
	if got := changed(before, series(t, reg)); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("changed %q, want %q", got, want)
	}
	if _, sub := c.Prompts(fakeNotifier{}).(push.Subscriber); sub {
		t.Error("a notifier that is no subscriber became one")
	}
	if _, sub := c.Prompts(fakeSubscriber{}).(push.Subscriber); !sub {
		t.Error("a subscriber lost its subscription")
	}
	if _, same := Unwrap(c.Texts(fakeText{}, "log")).(fakeText); !same {
		t.Error("Unwrap does not give the provider back")
	}
	if _, same := Unwrap(c.Prompts(fakeSubscriber{})).(fakeSubscriber); !same {
		t.Error("Unwrap does not give the subscriber back")
	}
}

// Store outages are counted by store; a name outside the set is other.
func TestStoreErrors(t *testing.T) {
	c, _, _ := registered(t)
	c.StoreError(StoreRedis)
	c.StoreError(StoreRedis)
	c.StoreError(StoreLDAP)
	if r, l, e := testutil.ToFloat64(c.StoreErrors.WithLabelValues("redis")), testutil.ToFloat64(c.StoreErrors.WithLabelValues("ldap")),
		testutil.ToFloat64(c.StoreErrors.WithLabelValues("embedded")); r != 2 || l != 1 || e != 0 {
		t.Fatalf("redis %v ldap %v embedded %v", r, l, e)
	}
}
