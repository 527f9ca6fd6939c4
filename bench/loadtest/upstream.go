package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The upstream is the app behind every row: a small page, served by this
// same binary re-executed with -serve-upstream, so that its CPU is its own
// process's and can be told apart from Caddy's and the load generator's.
// It echoes what reached it, for wrk.lua to check on every response:
//
//	X-Bench-User:     the Remote-User it received, or "-"
//	X-Bench-Identity: Remote-User|Remote-Groups|Remote-Name|Remote-Email
//	X-Bench-Cookie:   ok (the app's cookie and no gateway cookie), leaked
//	                  (a caddy_mfa... cookie reached it) or missing (the
//	                  app's own cookie did not)
//	X-Bench-Auth:     ok, or leaked (an Authorization header reached it)

// gatewayCookieStem starts the name of every cookie of the gateway
// (caddymodule/cookies: caddy_mfa, caddy_mfa_device, ...).
const gatewayCookieStem = "caddy_mfa"

// upstreamHandler is the upstream's one page.
func upstreamHandler() http.Handler {
	body := []byte(strings.Repeat("upstream page ", 64))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain")
		user := r.Header.Get("Remote-User")
		if user == "" {
			user = "-"
		}
		h.Set("X-Bench-User", user)
		h.Set("X-Bench-Identity", r.Header.Get("Remote-User")+"|"+r.Header.Get("Remote-Groups")+"|"+
			r.Header.Get("Remote-Name")+"|"+r.Header.Get("Remote-Email"))
		cookies := strings.Join(r.Header.Values("Cookie"), "; ")
		switch {
		case strings.Contains(cookies, gatewayCookieStem):
			h.Set("X-Bench-Cookie", "leaked")
		case !strings.Contains(cookies, appSession):
			h.Set("X-Bench-Cookie", "missing")
		default:
			h.Set("X-Bench-Cookie", "ok")
		}
		if _, ok := r.Header["Authorization"]; ok {
			h.Set("X-Bench-Auth", "leaked")
		} else {
			h.Set("X-Bench-Auth", "ok")
		}
		w.Write(body)
	})
}

// serveUpstream is the -serve-upstream mode: it serves until killed.
func serveUpstream(addr string) error {
	srv := &http.Server{Addr: addr, Handler: upstreamHandler(), ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// startUpstream re-executes this binary as the upstream, in its own process.
func startUpstream(dir string) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the loadtest binary: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	return startProc(exec.Command(self, "-serve-upstream", addr), dir, "upstream", addr, "http://"+addr+"/")
}
