// Package events is the one writer of the gateway's security events: what
// an operator reads (or ships to a SIEM) to see sign-ins, failures,
// lockouts, changes of security info and administrators' actions. Every
// event is a named constant below and is written with the same keys
// everywhere: "event", "user", "client_ip" (when there is a request),
// and, where they apply, "method" and "reason". All of them are logged
// under one logger name (the app's logger named "security", so
// "mfa.security") with the message "security event".
package events

import (
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerName is the name, under the app's logger, of the logger that
// writes every security event.
const LoggerName = "security"

// Message is the log message of every security event.
const Message = "security event"

// Writer writes security events. Never pass it secrets: no password,
// code, token or phone number goes into a field.
type Writer struct {
	log   *zap.Logger
	sinks []Sink
}

// Sink receives every event a Writer writes, after it is logged (and
// whatever the log level): the security notices hook in here. It must
// not block on the network: Event runs on the page's own request.
type Sink interface {
	// Event is called with what Write was given; r is nil outside a
	// request.
	Event(r *http.Request, e Event, user string, fields []zap.Field)
}

// AddSink makes w hand each event to s as well, after the sinks added
// before it (the security notices, the metrics). Call it while the app is
// built, before w is used.
func (w *Writer) AddSink(s Sink) { w.sinks = append(w.sinks, s) }

// SetSink is AddSink, for the callers written when a writer had one sink.
func (w *Writer) SetSink(s Sink) { w.AddSink(s) }

// New makes the writer that logs to l.Named(LoggerName).
func New(l *zap.Logger) *Writer { return &Writer{log: l.Named(LoggerName)} }

// Write logs e about user for request r (nil outside a request: the
// admin API's command line, the users-file watch), with more fields.
// Events an administrator should look at (Event.Warn) go at warn level,
// the rest at info.
func (w *Writer) Write(r *http.Request, e Event, user string, fields ...zap.Field) {
	level := zapcore.InfoLevel
	if e.Warn() {
		level = zapcore.WarnLevel
	}
	if len(w.sinks) != 0 {
		defer w.toSinks(r, e, user, fields)
	}
	ce := w.log.Check(level, Message)
	if ce == nil {
		return
	}
	all := make([]zap.Field, 0, len(fields)+3)
	all = append(all, zap.String("event", string(e)), zap.String("user", user))
	if r != nil {
		all = append(all, zap.String("client_ip", ClientIP(r)))
	}
	ce.Write(append(all, fields...)...)
}

// toSinks hands the event to each sink in turn.
func (w *Writer) toSinks(r *http.Request, e Event, user string, fields []zap.Field) {
	for _, s := range w.sinks {
		w.toSink(s, r, e, user, fields)
	}
}

// toSink hands the event to s; a panic there (a bug in a notice's lookup
// or store) is logged and does not fail the request that wrote the event,
// nor keep it from the other sinks.
func (w *Writer) toSink(s Sink, r *http.Request, e Event, user string, fields []zap.Field) {
	defer func() {
		if v := recover(); v != nil {
			w.log.Error("security event not handed on: the sink failed", zap.String("event", string(e)), zap.Any("panic", v))
		}
	}()
	s.Event(r, e, user, fields)
}

// Method is the "method" field: the second-factor method concerned.
func Method(m string) zap.Field { return zap.String("method", m) }

// Reason is the "reason" field: why something was refused or ended.
func Reason(r string) zap.Field { return zap.String("reason", r) }

// NewBrowserKey is the key of the NewBrowser field.
const NewBrowserKey = "new_browser"

// NewBrowser is the "new_browser" field of a signed_in event: true when
// the browser was not familiar for the user before this sign-in (the
// new-browser security notice is sent for it).
func NewBrowser(isNew bool) zap.Field { return zap.Bool(NewBrowserKey, isNew) }

// ExpiresKey is the key of the Expires field.
const ExpiresKey = "expires"

// Expires is the "expires" field of an event that grants something for a
// while (a temporary access pass): when it ends, in UTC as RFC 3339 (the
// notice of a temporary pass says it).
func Expires(t time.Time) zap.Field {
	return zap.String(ExpiresKey, t.UTC().Format(time.RFC3339))
}

// ClientIP is the client address of r as Caddy determined it (honouring
// the server's trusted_proxies), without a port: what limits count,
// lockouts judge, notices and the log say. On a server without
// trusted_proxies_strict a request through a trusted proxy is the
// exception: Caddy took the left-most address of X-Forwarded-For, which
// the client writes itself whenever the proxy appends to the header, so
// the right-most one (the address the proxy itself saw) is used instead.
func ClientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		if viaLooseProxy(r) {
			if last := rightmostForwarded(r); last != "" {
				return last
			}
		}
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
