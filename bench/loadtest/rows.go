package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// row is one configuration measured, set up once and kept running through
// every round.
type row struct {
	// id is the row's number ("1" to "6"), name what the tables print.
	id, name string
	// target is the base URL wrk loads; headers are sent on every request.
	target  string
	headers []string
	expect  expectation
	// caddy is the row's Caddy (nil for the upstream directly).
	caddy *caddyProc
	// redisPID is redis-server's process in the Redis row, else 0.
	redisPID int
	// stop ends what the row started.
	stop func()
}

// expectation is what must reach the upstream on every request of a row
// (see upstream.go and wrk.lua).
type expectation struct {
	user, identity, cookie string
}

// The bench user, as the users file gives it; the floor row sets the same.
const (
	benchUser     = "bench"
	benchGroups   = "staff"
	benchName     = "Bench"
	benchEmail    = "bench@example.com"
	benchPassword = "bench password 1234"
)

var (
	// anonymous: nothing of the gateway reaches the upstream (rows 1, 2).
	anonymous = expectation{user: "-", identity: "|||", cookie: "ok"}
	// signedIn: the bench user's four headers and the app's cookie only.
	signedIn = expectation{user: benchUser, identity: benchUser + "|" + benchGroups + "|" + benchName + "|" + benchEmail, cookie: "ok"}
)

// appSession stands for the protected app's own session cookie.
var appSession = "app_session=" + strings.Repeat("x", 150)

// appCookie is the Cookie header of a client of the app.
func appCookie() string { return "Cookie: " + appSession }

// upstreamRow is row 1: the upstream directly.
func (b *bench) upstreamRow() *row {
	return &row{id: "1", name: "1 upstream directly", target: "http://" + b.upstream.addr,
		headers: []string{appCookie()}, expect: anonymous, stop: func() {}}
}

// caddyRow starts a Caddy of one site at a free port in front of the upstream.
func (b *bench) caddyRow(id, name, dirName, global, site string) (*row, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cf := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n%s}\nhttp://127.0.0.1:%d {\n%s}\n", global, port, site)
	c, err := b.startCaddy(dirName, cf, port)
	if err != nil {
		return nil, err
	}
	return &row{id: id, name: name, target: "http://" + c.addr, caddy: c, stop: c.stop}, nil
}

// plainRow is row 2: Caddy's reverse_proxy alone.
func (b *bench) plainRow() (*row, error) {
	r, err := b.caddyRow("2", "2 Caddy reverse_proxy", "plain", "", fmt.Sprintf("\treverse_proxy %s\n", b.upstream.addr))
	if err != nil {
		return nil, err
	}
	r.headers, r.expect = []string{appCookie()}, anonymous
	return r, nil
}

// floorRow is row 3, the floor of any inline gateway: reverse_proxy that
// sets the four identity headers of the bench user and strips a cookie
// named like the gateway's (as the gateway strips its own), for a client
// that sends the same Cookie header as the embedded row's (gatewayCookie
// is that row's caddy_mfa=... cookie; the floor's has a value of the
// same length).
func (b *bench) floorRow(gatewayCookie string) (*row, error) {
	site := fmt.Sprintf(`	reverse_proxy %s {
		header_up Remote-User %s
		header_up Remote-Groups %s
		header_up Remote-Name %s
		header_up Remote-Email %s
		header_up Cookie "; ?%s[^;]*" ""
	}
`, b.upstream.addr, benchUser, benchGroups, benchName, benchEmail, gatewayCookieStem)
	r, err := b.caddyRow("3", "3 floor: reverse_proxy + header_up", "floor", "", site)
	if err != nil {
		return nil, err
	}
	name, value, _ := strings.Cut(gatewayCookie, "=")
	r.headers = []string{appCookie() + "; " + name + "=" + strings.Repeat("x", len(value))}
	r.expect = signedIn
	return r, nil
}

// gatewayKind is which of rows 4, 5 and 6 a gateway row is.
type gatewayKind int

const (
	embedded gatewayKind = iota
	withRedis
	appPassword
)

// gatewayRow is rows 4, 5 and 6: the same site behind mfa, with a client
// signed in once with password and code (its cookie after the app's), or
// (appPassword) with an app password as HTTP Basic auth on a route with
// app_passwords and no cookie. It returns the row and the session cookie.
func (b *bench) gatewayRow(ctx context.Context, kind gatewayKind) (*row, string, error) {
	id, name, dirName := "4", "4 Caddy + mfa, embedded stores", "mfa-embedded"
	route := "allow_groups " + benchGroups
	extra := ""
	var rdb *redis.Client
	prefix := fmt.Sprintf("mfabench:%d:", time.Now().UnixNano())
	switch kind {
	case withRedis:
		id, name, dirName = "5", "5 Caddy + mfa, Redis", "mfa-redis"
		extra = fmt.Sprintf("\t\tredis {\n\t\t\turl %s\n\t\t\tkey_prefix %s\n\t\t}\n", b.redisURL, prefix)
		opt, err := redis.ParseURL(b.redisURL)
		if err != nil {
			return nil, "", fmt.Errorf("-redis: %w", err)
		}
		rdb = redis.NewClient(opt)
	case appPassword:
		id, name, dirName = "6", "6 Caddy + mfa, app password", "mfa-app-password"
		route += "\n\t\tapp_passwords"
		if b.appPwLimit != "" {
			extra = fmt.Sprintf("\t\tlimits {\n\t\t\tapp_password_per_user %s\n\t\t}\n", b.appPwLimit)
		}
	}
	dir := filepath.Join(b.dir, dirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	users := filepath.Join(dir, "users.yml")
	hash, err := hashPassword(b.caddy, benchPassword)
	if err != nil {
		return nil, "", err
	}
	usersYAML := fmt.Sprintf("users:\n  %s:\n    displayname: %s\n    email: %s\n    groups: [%s]\n    password: %q\n",
		benchUser, benchName, benchEmail, benchGroups, hash)
	if err := os.WriteFile(users, []byte(usersYAML), 0o600); err != nil {
		return nil, "", err
	}
	global := fmt.Sprintf("\tmfa {\n\t\tusers_file %s\n\t\tdata_dir %s\n\t\tstorage_key \"bench-storage-key-0123456789abcdef-0123456789\"\n%s\t}\n",
		users, filepath.Join(dir, "mfa"), extra)
	site := fmt.Sprintf("\tmfa {\n\t\t%s\n\t}\n\treverse_proxy %s\n", route, b.upstream.addr)
	r, err := b.caddyRow(id, name, dirName, global, site)
	if err != nil {
		return nil, "", err
	}
	stopCaddy := r.stop
	r.stop = func() {
		stopCaddy()
		if rdb != nil {
			ctx := context.Background() // also after an interrupt cancelled the run's
			iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
			for iter.Next(ctx) {
				rdb.Del(ctx, iter.Val())
			}
			rdb.Close()
		}
	}
	fail := func(what string, err error) (*row, string, error) {
		r.stop()
		return nil, "", fmt.Errorf("%s: %s: %w", name, what, err)
	}
	if rdb != nil {
		if r.redisPID, err = redisPID(ctx, rdb); err != nil {
			return fail("finding redis-server", err)
		}
	}
	cookie, err := signIn(ctx, r.target, benchUser, benchPassword)
	if err != nil {
		return fail("signing in", err)
	}
	r.expect = signedIn
	if kind == appPassword {
		header, err := appPasswordHeader(ctx, r.target, cookie, benchUser)
		if err != nil {
			return fail("making an app password", err)
		}
		r.headers, r.expect.cookie = []string{header}, "missing"
		return r, cookie, nil
	}
	r.headers = []string{appCookie() + "; " + cookie}
	return r, cookie, nil
}

// caddyLog is the end of the row's Caddy log, to show with a failure.
func (r *row) caddyLog() string {
	if r.caddy == nil {
		return ""
	}
	return "\nlast lines of " + r.caddy.logPath + ":\n" + r.caddy.logTail(6)
}
