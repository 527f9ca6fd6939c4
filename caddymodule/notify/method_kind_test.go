package notify

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// A method removed is named by its kind in the notice (and the webhook),
// never by its id: a security key's id is its WebAuthn credential id, a
// phone's an internal index.
func TestRemovedMethodNamedByKind(t *testing.T) {
	o := &Outbox{KV: store.NewMemoryKV()}
	s := &Sink{Outbox: o, Mail: true, Logger: zap.NewNop(),
		Lookup: func(user string) (string, string, bool) { return user + "@example.com", "", true }}
	for id, want := range map[string]string{"key-Y3JlZGVudGlhbC1pZC0wMTIz": "webauthn", "phone-0": "phone", "totp": "totp", "push": "push"} {
		s.Event(httptest.NewRequest("POST", "/.mfa/security/remove", nil), events.MethodRemoved, "u-"+id, []zap.Field{events.Method(id)})
		ids, _ := o.IDs(t.Context())
		found := false
		for _, nid := range ids {
			b, err := o.KV.Get(t.Context(), noticeKey+nid)
			var n Notice
			if err != nil || json.Unmarshal(b, &n) != nil || n.User != "u-"+id {
				continue
			}
			found = true
			if n.Method != want || strings.Contains(n.Method, "Y3Jl") {
				t.Errorf("method %s is %q in the notice, want %q", id, n.Method, want)
			}
		}
		if !found {
			t.Errorf("no notice for the removal of %s", id)
		}
	}
}
