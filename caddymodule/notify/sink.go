package notify

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// langKey holds the language of a user's last sign-in, for notices made
// outside a request (an administrator's action).
const langKey = "notify:lang:"

// changedKey marks, for a minute, a phone number just changed: the
// method_added event that follows it (the new number) gets no notice of
// its own, the phone_changed notice covers it.
const changedKey = "notify:phone-changed:"

// langKeep is how long a user's language is remembered after a sign-in.
const langKeep = 400 * 24 * time.Hour

// enqueueTimeout bounds the store writes of one event's notices.
const enqueueTimeout = 2 * time.Second

// Negotiator picks the language a request prefers among the catalogues'
// (ui.Renderer does): it translates id and returns the language used.
type Negotiator interface {
	Localize(req *http.Request, id string, data map[string]any) (string, string, error)
}

// Directory finds a user's e-mail address and display name ("" if they
// have none); known is false for a name that is no user (a lockout of a
// name typed at the login page): such events get no notice at all, so
// that names made up by an attacker cannot fill the outbox.
type Directory func(user string) (email, name string, ok bool)

// Sink is the events.Sink that queues a notice for each event that has
// one, on each configured channel.
type Sink struct {
	Outbox *Outbox
	// Kinds are the notices the operator picked; nil means all.
	Kinds map[Kind]bool
	// Mail and Webhook say which channels are configured.
	Mail, Webhook bool
	Lookup        Directory
	Languages     Negotiator
	Logger        *zap.Logger
	// Wake, if set, tells the local worker a notice is waiting.
	Wake func()
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Interface guard.
var _ events.Sink = (*Sink)(nil)

// Event implements events.Sink.
func (s *Sink) Event(r *http.Request, e events.Event, user string, fields []zap.Field) {
	if !mayNotify(e) {
		return
	}
	f := fieldMap(fields)
	k := kindOf(e, f)
	if k != "" && s.Kinds != nil && !s.Kinds[k] {
		k = ""
	}
	if k == "" && e != events.SignedIn {
		return
	}
	base := context.Background()
	if r != nil {
		base = context.WithoutCancel(r.Context())
	}
	ctx, cancel := context.WithTimeout(base, enqueueTimeout)
	defer cancel()
	lang := s.language(ctx, r, e, user)
	if k == "" {
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	n := Notice{Kind: k, Event: e, User: user, Lang: lang, Time: now().UTC(), Method: methodKind(f["method"])}
	if until, err := time.Parse(time.RFC3339, f[events.ExpiresKey]); err == nil {
		n.Until = until.UTC()
	}
	if r != nil {
		n.IP = events.ClientIP(r)
		n.Browser = push.Browser(r.UserAgent())
	}
	if e == events.FraudReported && f["sign_in_ip"] != "" {
		// Reported from the user's phone: where the sign-in came from.
		n.IP, n.Browser = f["sign_in_ip"], f["sign_in_browser"]
	}
	if s.Lookup == nil || s.partOfPhoneChange(ctx, k, user, f["method"]) {
		return
	}
	to, name, known := s.Lookup(user)
	if !known {
		return
	}
	queued := false
	if s.Mail && to != "" {
		m := n
		m.ID, m.Channel, m.To, m.Name = NewID(), ChannelMail, to, name
		queued = s.enqueue(ctx, m) || queued
	}
	if s.Webhook {
		w := n
		w.ID, w.Channel = NewID(), ChannelWebhook
		queued = s.enqueue(ctx, w) || queued
	}
	if queued && s.Wake != nil {
		s.Wake()
	}
}

func (s *Sink) enqueue(ctx context.Context, n Notice) bool {
	err := s.Outbox.Enqueue(ctx, n)
	if err == nil {
		return true
	}
	// A security notice not sent is worth an operator's look; only a
	// repeated lockout notice, dropped by design, is not.
	level := zapcore.WarnLevel
	if errors.Is(err, ErrRepeated) {
		level = zapcore.InfoLevel
	}
	if ce := s.Logger.Check(level, "notice not queued"); ce != nil {
		ce.Write(zap.String("notice", n.ID), zap.String("event", string(n.Event)), zap.String("kind", string(n.Kind)),
			zap.String("channel", n.Channel), zap.String("user", n.User), zap.Error(err))
	}
	return false
}

// partOfPhoneChange reports whether a notice of kind k is the second half
// of a change of phone number (the new number's method_added), and marks
// the first half (phone_changed).
func (s *Sink) partOfPhoneChange(ctx context.Context, k Kind, user, method string) bool {
	switch {
	case k == PhoneChanged:
		if err := s.Outbox.KV.Set(ctx, changedKey+user, []byte{1}, time.Minute); err != nil {
			s.Logger.Warn("cannot mark a change of phone number", zap.String("user", user), zap.Error(err))
		}
	case k == MethodAdded && (method == "sms" || method == "voice"):
		_, err := s.Outbox.KV.Take(ctx, changedKey+user)
		return err == nil
	}
	return false
}

// language is the language of the notice: the request's (and, at a
// sign-in, remembered as the user's), else the user's last sign-in's,
// else English. For an event someone else may have caused (notByUser),
// the user's last sign-in's comes first.
func (s *Sink) language(ctx context.Context, r *http.Request, e events.Event, user string) string {
	if notByUser(e) {
		// Whoever caused it may not be the user (their browser's language
		// would tell the notice's reader nothing, or mislead): the user's
		// own, when known.
		if b, err := s.Outbox.KV.Get(ctx, langKey+user); err == nil {
			return string(b)
		}
	}
	if r != nil && s.Languages != nil {
		if _, lang, err := s.Languages.Localize(r, "notice.greeting", map[string]any{"Name": ""}); err == nil && lang != "" {
			if e == events.SignedIn {
				if err := s.Outbox.KV.Set(ctx, langKey+user, []byte(lang), langKeep); err != nil {
					s.Logger.Warn("cannot remember a user's language for notices", zap.String("user", user), zap.Error(err))
				}
			}
			return lang
		}
	}
	if b, err := s.Outbox.KV.Get(ctx, langKey+user); err == nil {
		return string(b)
	} else if !errors.Is(err, store.ErrNotFound) {
		s.Logger.Warn("cannot read a user's language for notices", zap.String("user", user), zap.Error(err))
	}
	return "en"
}

// notByUser reports an event whose request may be someone else's than the
// user's (wrong codes typed with a stolen password, a pass or a bypass used
// by whoever holds it).
func notByUser(e events.Event) bool {
	return e == events.LockedOut || e == events.TemporaryPassUsed || e == events.BypassUsed
}

// fieldMap is the string and bool fields of an event by key.
func fieldMap(fields []zap.Field) map[string]string {
	m := make(map[string]string, len(fields))
	for _, f := range fields {
		switch f.Type {
		case zapcore.StringType:
			m[f.Key] = f.String
		case zapcore.BoolType:
			m[f.Key] = strconv.FormatBool(f.Integer == 1)
		}
	}
	return m
}

// methodKind is the kind of the method a security event names, for the
// notice: the events name a security key or phone by its id (a key's is
// its WebAuthn credential id), which a notice never shows.
func methodKind(id string) string {
	switch {
	case strings.HasPrefix(id, "key-"):
		return "webauthn"
	case strings.HasPrefix(id, "phone-"):
		return "phone"
	}
	return id
}
