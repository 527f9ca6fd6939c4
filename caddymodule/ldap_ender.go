package caddymodule

import (
	"context"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
)

// dirEnder ends, for good, the sessions, remembered devices, app passwords
// and waiting pass of directory users whom the directory reports removed
// or disabled, as userEnder does for the users file: they are refused at
// once (Lookup), and ended once gone for the grace period
// (App.UsersEndAfter) and still gone then. Only an answer of the directory
// counts: an unreachable directory ends no one. A refresh that reports
// more than half of the enabled users gone, and more than 3, is held (an
// error is logged; they stay refused and keep what they hold): far likelier
// a filter or tree changed by mistake than everyone leaving at once.
type dirEnder struct {
	dir    *ldapdir.Directory
	end    func(ctx context.Context, user string) (challenge.EndedAccess, error)
	now    func() time.Time
	log    *zap.Logger
	events *events.Writer
	grace  time.Duration

	mu      sync.Mutex
	pending map[string]time.Time // name → first reported gone
}

// gone is the directory's OnGone.
func (e *dirEnder) gone(names []string, known int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(names) > massRemovalMin && 2*len(names) > known {
		e.log.Error("the directory reports most users removed or disabled at once; they are refused, but their sessions, devices and app passwords are kept (check the ldap filter and base_dn; end them with caddy mfa sessions revoke)",
			zap.Int("gone", len(names)), zap.Int("enabled_before", known))
		return
	}
	for _, n := range names {
		if _, ok := e.pending[n]; !ok {
			e.pending[n] = e.now()
		}
	}
}

// run ends the access of the users gone for the grace period.
func (e *dirEnder) run(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.pending))
	for n := range e.pending {
		names = append(names, n)
	}
	sort.Strings(names)
	now := e.now()
	for _, name := range names {
		if ctx.Err() != nil || e.end == nil || now.Before(e.pending[name].Add(e.grace)) {
			continue
		}
		if !e.dir.Gone(name) {
			delete(e.pending, name) // back: what they hold now is theirs
			continue
		}
		c, cancel := context.WithTimeout(ctx, endUserTimeout)
		x, err := e.end(c, name)
		cancel()
		if err != nil {
			e.log.Error("could not end the sessions, devices and app passwords of a user removed or disabled in the directory; trying again",
				zap.String("user", name), zap.Error(err))
			return
		}
		delete(e.pending, name)
		e.events.Write(nil, events.UserDisabled, name, events.Reason("directory"),
			zap.Int("sessions", x.Sessions), zap.Int("devices", x.Devices), zap.Int("app_passwords", x.AppPasswords), zap.Bool("pass", x.Pass))
	}
}

// newDirEnder is the ender of d's users, told by d of those gone. It
// lives with d in the pool, so that a reload forgets no end under way.
func newDirEnder(d *ldapdir.Directory) *dirEnder {
	e := &dirEnder{dir: d, pending: map[string]time.Time{}, now: time.Now, log: zap.NewNop(), grace: defaultUsersEndAfter}
	d.OnGone(e.gone)
	return e
}

// watchDirectory makes e end users with a's engine, log and grace period,
// and runs it every usersWatchInterval until ctx ends.
func (a *App) watchDirectory(ctx context.Context, e *dirEnder) {
	grace := time.Duration(a.UsersEndAfter)
	if grace <= 0 {
		grace = defaultUsersEndAfter
	}
	e.mu.Lock()
	e.end, e.now, e.log, e.events, e.grace = a.engine.EndUser, a.engine.Now, a.logger, a.events, grace
	e.mu.Unlock()
	go every(ctx, usersWatchInterval, false, func() bool { e.run(ctx); return false })
}
