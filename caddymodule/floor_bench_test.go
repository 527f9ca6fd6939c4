package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
)

// BenchmarkFloorHeaderOps is what bench/loadtest's floor row (row 3) adds
// to plain reverse_proxy, on the same request as BenchmarkSignedInRequest:
// Caddy's own header_up setting the four identity headers and cutting the
// gateway's cookie out with a regexp. The gateway's handler should cost
// about this, plus the session read.
func BenchmarkFloorHeaderOps(b *testing.B) {
	ops := &headers.HeaderOps{
		Set:     http.Header{"Remote-User": {"alice"}, "Remote-Groups": {"staff"}, "Remote-Name": {"Alice"}, "Remote-Email": {"a@example.com"}},
		Replace: map[string][]headers.Replacement{"Cookie": {{SearchRegexp: "; ?caddy_mfa[^;]*", Replace: ""}}},
	}
	if err := ops.Provision(caddy.Context{}); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/app/page?x=1", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", "bench")
	cookie := "app_session=" + strings.Repeat("x", 150) + "; caddy_mfa=" + strings.Repeat("s", 120)
	repl := caddy.NewReplacer()
	req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl))
	b.ReportAllocs()
	for b.Loop() {
		*repl = *caddy.NewReplacer()
		repl.Map(httpVarsStandIn)
		req.Header["Cookie"] = []string{cookie}
		ops.ApplyToRequest(req)
		if req.Header.Get("Remote-User") != "alice" || strings.Contains(req.Header.Get("Cookie"), "caddy_mfa") {
			b.Fatalf("headers %v", req.Header)
		}
	}
}
