package caddymodule

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// usersWatchInterval is how often the users file is looked at, and ends
// of access that the store refused are tried again.
const usersWatchInterval = 2 * time.Second

// endUserTimeout bounds the store work of ending one user's access.
const endUserTimeout = 10 * time.Second

// pendingEnd is a user whose access is still to be ended.
type pendingEnd struct {
	reason string
	// announce logs the security event even when nothing was left to end
	// (the file changed under this gateway's eyes).
	announce bool
	// confirm marks the second pass, one interval after the first, that
	// catches a session or app password a request in flight during the
	// reload wrote after the first pass.
	confirm bool
	// notBefore is when the second pass may run.
	notBefore time.Time
}

// userEnder ends the access of users who leave the users file or are
// disabled in it, retrying while the store cannot be reached.
type userEnder struct {
	a       *App
	mu      sync.Mutex
	pending map[string]pendingEnd
	// sweep asks for GoneUsers again: the start-up sweep failed.
	sweep bool
}

// watchUsers watches the users file and ends, for good, the sessions,
// remembered devices and app passwords of every user it removes or
// disables (challenge.Engine.EndUser); at start, those of users it
// disables and of accounts it no longer lists. It returns when ctx ends.
func (a *App) watchUsers(ctx context.Context) {
	u := &userEnder{a: a, pending: map[string]pendingEnd{}, sweep: true}
	go a.engine.Users.Watch(ctx, usersWatchInterval,
		func(n int, gone []users.Gone) {
			a.logger.Info("users file reloaded", zap.Int("users", n))
			u.add(gone, true)
			u.run(ctx)
		},
		func(err error) {
			a.logger.Error("users file not reloaded; the previous users stay in force", zap.Error(err))
		})
	u.run(ctx)
	t := time.NewTicker(usersWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		u.run(ctx)
	}
}

func (u *userEnder) add(gone []users.Gone, announce bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, g := range gone {
		if p, ok := u.pending[g.Name]; ok && !p.confirm {
			p.announce = p.announce || announce
			u.pending[g.Name] = p
			continue
		}
		u.pending[g.Name] = pendingEnd{reason: g.Reason, announce: announce}
	}
}

// run does what is pending. It holds the lock throughout, so the watcher
// and the ticker never end one user twice at once.
func (u *userEnder) run(ctx context.Context) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, log := u.a.engine, u.a.logger
	if u.sweep {
		c, cancel := context.WithTimeout(ctx, endUserTimeout)
		gone, err := e.GoneUsers(c)
		cancel()
		if err != nil {
			log.Error("could not list accounts to end those of users no longer in the users file; trying again", zap.Error(err))
		} else {
			u.sweep = false
		}
		for _, g := range gone {
			if _, ok := u.pending[g.Name]; !ok {
				u.pending[g.Name] = pendingEnd{reason: g.Reason}
			}
		}
	}
	for name, p := range u.pending {
		if ctx.Err() != nil {
			return
		}
		if p.confirm && e.Now().Before(p.notBefore) {
			continue
		}
		if p.confirm && e.Users.Lookup(name) != nil {
			// Back in the file since the first pass: what they hold now
			// is new, and theirs.
			delete(u.pending, name)
			continue
		}
		c, cancel := context.WithTimeout(ctx, endUserTimeout)
		x, err := e.EndUser(c, name)
		cancel()
		if err != nil {
			// The store is likely down: try everything again next time
			// rather than wait out its timeout for each user.
			log.Error("could not end the sessions, devices and app passwords of a user removed or disabled in the users file; trying again",
				zap.String("user", name), zap.Int("pending", len(u.pending)), zap.Error(err))
			return
		}
		if p.announce || x.Any() {
			log.Info("security event", zap.String("event", "user_disabled"), zap.String("user", name), zap.String("reason", p.reason),
				zap.Int("sessions", x.Sessions), zap.Int("devices", x.Devices), zap.Int("app_passwords", x.AppPasswords), zap.Bool("pass", x.Pass))
		}
		if p.confirm || !p.announce {
			delete(u.pending, name)
			continue
		}
		u.pending[name] = pendingEnd{reason: p.reason, confirm: true, notBefore: e.Now().Add(usersWatchInterval)}
	}
}
