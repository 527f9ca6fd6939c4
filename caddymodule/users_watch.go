package caddymodule

import (
	"context"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// usersWatchInterval is how often the users file is looked at, and ends
// of access that are due (or that the store refused) are tried.
const usersWatchInterval = 2 * time.Second

// defaultUsersEndAfter is the grace period of App.UsersEndAfter.
const defaultUsersEndAfter = time.Minute

// confirmEndAfter is how long after the first end of a user's access the
// second pass runs: it catches a session, device or app password that a
// request in flight at the first pass (slow Redis, a slow upload) wrote
// after it. Longer than any request the gateway lets run.
const confirmEndAfter = 30 * time.Second

// endUserTimeout bounds the store work of ending one user's access.
const endUserTimeout = 10 * time.Second

// massRemovalMin and the half rule: a change that would end more than
// half of the enabled users, and more than massRemovalMin of them, is
// held (see userEnder).
const massRemovalMin = 3

// pendingEnd is a user whose access is still to be ended.
type pendingEnd struct {
	reason string
	// since is when the user was first seen gone (or, when held, when a
	// later file confirmed it): the end runs a grace period after it.
	since time.Time
	// held marks a mass removal that waits for a later users file.
	held bool
	// heldAt is the reload count at which it was held.
	heldAt int
	// announce logs the security event even when nothing was left to end
	// (the file changed under this gateway's eyes).
	announce bool
	// ended: the first pass ran; the second runs at confirmAt.
	ended     bool
	confirmAt time.Time
}

// userEnder ends, for good, the sessions, remembered devices, app
// passwords and waiting pass of users this gateway saw leave its users
// file or become disabled in it (challenge.Engine.EndUser).
//
// Nothing is deleted at once. Users.Lookup already refuses a removed or
// disabled user on every request, so only the deletion waits: a user is
// ended once gone continuously for the grace period (App.UsersEndAfter,
// default 1 minute) and still gone then; one back within it (a users file
// read in the middle of a write, a botched edit put right) loses nothing.
// The second pass runs confirmEndAfter (30 s) after the first.
//
// A change that would end more than half of the enabled users, and more
// than 3, is held: an error is logged, nothing is ended, and the users
// stay refused but keep what they hold until a later users file (the
// file written again, even only touched) still lacks them; the grace
// period then runs from that file. A truncated file left in place never
// wipes everyone by waiting; an administrator who means it saves the file
// once more.
//
// Which users left is decided against the record of the users this
// gateway has seen (usersSeenName in the data dir, rewritten after each
// change), never against the store: gateways sharing Redis with another
// users file, or started from an older one, end nothing of users they
// never listed. At start, the users in the record that the file no longer
// lists or now disables are gone, and so are the users the file disables
// (explicitly, so always safe to end again); with no record (the first
// start) nothing else is ended and a record is made.
type userEnder struct {
	db       *users.DB
	end      func(ctx context.Context, user string) (challenge.EndedAccess, error)
	now      func() time.Time
	log      *zap.Logger
	events   *events.Writer
	grace    time.Duration
	seenPath string
	// shared: the store is Redis, shared with other gateways.
	shared bool

	mu sync.Mutex
	// seen maps every user in the record to whether the file disabled them.
	seen    map[string]bool
	pending map[string]*pendingEnd
	reloads int
	// dirty: seen changed and the record is to be written.
	dirty bool
}

// newUserEnder is the ender of a's users.
func (a *App) newUserEnder(db *users.DB) *userEnder {
	grace := time.Duration(a.UsersEndAfter)
	if grace <= 0 {
		grace = defaultUsersEndAfter
	}
	return &userEnder{db: db, end: a.engine.EndUser, now: a.engine.Now, log: a.logger, events: a.events, grace: grace,
		seenPath: filepath.Join(a.dataDir, usersSeenName(a.usersFile, a.storeName())), shared: a.rdb != nil,
		pending: map[string]*pendingEnd{}}
}

// watchUsers watches the users file and ends the access of the users it
// removes or disables, as userEnder says. It returns when ctx ends.
func (a *App) watchUsers(ctx context.Context) {
	db, ok := a.engine.Users.(*users.DB)
	if !ok {
		return // a directory keeps itself up to date (package ldapdir)
	}
	u := a.newUserEnder(db)
	u.begin()
	// The watch's own loop is waited for too (its reloads write the
	// record of users seen into the data dir).
	a.background.Go(func() {
		db.Watch(ctx, usersWatchInterval,
			func(n int, _ []users.Gone) {
				a.logger.Info("users file reloaded", zap.Int("users", n))
				u.reloaded()
				u.run(ctx)
				// Users the file has gained get their app-password index marked
				// (the start-up build tries again if this one fails).
				if a.gate.held() != nil {
					return // the start-up build does it once the gate opens
				}
				if err := a.indexAppPasswords(ctx); err != nil {
					a.logger.Warn("app-password index not brought up to date with the users file", zap.Error(err))
				}
			},
			func(err error) {
				a.logger.Error("users file not reloaded; the previous users stay in force", zap.Error(err))
			})
	})
	every(ctx, usersWatchInterval, true, func() bool { u.run(ctx); return false })
}

// begin reads the record of users seen and finds who left while this
// gateway was stopped.
func (u *userEnder) begin() {
	u.mu.Lock()
	defer u.mu.Unlock()
	seen, ok, err := loadUsersSeen(u.seenPath)
	if err != nil {
		// Fail safe: ending nothing loses no one's access by mistake; the
		// record is written anew below.
		u.log.Error("could not read the record of users seen; users removed while this gateway was stopped are not ended", zap.Error(err))
	}
	if !ok {
		msg := "no record of the users this gateway has seen: making one; users removed from the users file before now keep their sessions, devices and app passwords (list them with disabled: true to end those)"
		if u.shared {
			// On a shared store a lost data dir (a container redeployed
			// without its volume) is how removals go unended: say so louder.
			u.log.Warn(msg+"; keep the data_dir of a gateway on Redis on lasting storage", zap.String("record", u.seenPath))
		} else {
			u.log.Info(msg, zap.String("record", u.seenPath))
		}
	}
	u.seen = seen
	u.diff(false)
	now := u.now()
	for _, x := range u.db.All() {
		if _, pending := u.pending[x.Name]; x.Disabled && !pending {
			u.pending[x.Name] = &pendingEnd{reason: users.GoneDisabled, since: now}
		}
	}
	u.remember()
}

// reloaded takes in a new users file.
func (u *userEnder) reloaded() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reloads++
	now := u.now()
	for name, p := range u.pending {
		switch {
		case u.db.Lookup(name) != nil:
			if !p.ended {
				u.log.Info("user back in the users file within the grace period; nothing of theirs was ended", zap.String("user", name))
			}
			delete(u.pending, name)
		case p.held && p.heldAt < u.reloads:
			p.held, p.since = false, now
			u.log.Warn("a later users file confirms the removal: ending this user's access after the grace period",
				zap.String("user", name), zap.Duration("grace", u.grace))
		}
	}
	u.diff(true)
	u.remember()
}

// diff adds to pending the users of the record, enabled there, that the
// file no longer lists or now disables, holding them if they are many.
func (u *userEnder) diff(announce bool) {
	if u.seen == nil {
		return
	}
	var gone []string
	reasons := map[string]string{}
	enabled := 0
	for name, disabled := range u.seen {
		if disabled {
			continue
		}
		enabled++
		if _, ok := u.pending[name]; ok || u.db.Lookup(name) != nil {
			continue
		}
		reason := users.GoneRemoved
		if u.db.Known(name) {
			reason = users.GoneDisabled
		}
		gone = append(gone, name)
		reasons[name] = reason
	}
	if len(gone) == 0 {
		return
	}
	sort.Strings(gone)
	held := len(gone) > massRemovalMin && 2*len(gone) > enabled
	if held {
		u.log.Error("the users file would remove or disable more than half of the users: nothing was ended; they cannot sign in, but keep their sessions, devices and app passwords until a later users file (save or touch it again) still lacks them",
			zap.Int("users_gone", len(gone)), zap.Int("users_before", enabled), zap.Strings("users", gone))
	}
	now := u.now()
	for _, name := range gone {
		u.pending[name] = &pendingEnd{reason: reasons[name], since: now, held: held, heldAt: u.reloads, announce: announce}
	}
}

// remember makes seen the users of the file plus those still pending,
// and writes the record when that changed.
func (u *userEnder) remember() {
	next := map[string]bool{}
	for _, x := range u.db.All() {
		next[x.Name] = x.Disabled
	}
	for name := range u.pending {
		if _, ok := next[name]; !ok {
			next[name] = false
		}
	}
	if u.seen == nil || !sameSeen(u.seen, next) {
		u.seen, u.dirty = next, true
	}
	u.save()
}

func (u *userEnder) save() {
	if !u.dirty {
		return
	}
	if err := saveUsersSeen(u.seenPath, u.seen); err != nil {
		u.log.Error("could not write the record of users seen; trying again", zap.Error(err))
		return
	}
	u.dirty = false
}

func sameSeen(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// run does what is due. It holds the lock throughout, so the watcher and
// the ticker never end one user twice at once.
func (u *userEnder) run(ctx context.Context) {
	u.mu.Lock()
	defer u.mu.Unlock()
	defer u.save()
	now := u.now()
	names := make([]string, 0, len(u.pending))
	for name := range u.pending {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := u.pending[name]
		if ctx.Err() != nil {
			return
		}
		if p.held || (!p.ended && now.Before(p.since.Add(u.grace))) || (p.ended && now.Before(p.confirmAt)) {
			continue
		}
		if u.db.Lookup(name) != nil {
			// Back: what they hold now is theirs.
			delete(u.pending, name)
			continue
		}
		c, cancel := context.WithTimeout(ctx, endUserTimeout)
		x, err := u.end(c, name)
		cancel()
		if err != nil {
			// The store is likely down: try everything again next time
			// rather than wait out its timeout for each user.
			u.log.Error("could not end the sessions, devices and app passwords of a user removed or disabled in the users file; trying again",
				zap.String("user", name), zap.Int("pending", len(u.pending)), zap.Error(err))
			return
		}
		if (p.announce && !p.ended) || x.Any() {
			u.events.Write(nil, events.UserDisabled, name, events.Reason(p.reason),
				zap.Int("sessions", x.Sessions), zap.Int("devices", x.Devices), zap.Int("app_passwords", x.AppPasswords), zap.Bool("pass", x.Pass))
		}
		if !p.ended {
			p.ended, p.confirmAt = true, now.Add(confirmEndAfter)
			continue
		}
		delete(u.pending, name)
		if !u.db.Known(name) {
			delete(u.seen, name)
			u.dirty = true
		}
	}
}
