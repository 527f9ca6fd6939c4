package ldapdir

import (
	"context"

	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// Seen keeps the names of the directory users who signed in (a
// store.KV's sets): `caddy mfa users` lists them, and a restarted gateway
// loads them into its cache before they come back.
type Seen interface {
	SetAdd(ctx context.Context, key, member string, ttl time.Duration) error
	SetMembers(ctx context.Context, key string) ([]string, error)
}

// SeenKey is the key of the set of seen directory users; seenTTL how long
// it lasts after the last sign-in.
const (
	SeenKey = "ldap-seen"
	seenTTL = 400 * 24 * time.Hour
)

// maxNegative bounds the names remembered as not in the directory.
const maxNegative = 4096

// Directory is an LDAP directory as the first factor (challenge.Directory).
type Directory struct {
	cfg  Config
	pool *pool
	gate *users.Gate
	// dummyDN is bound against, with the typed password, when no user
	// matches, so that an unknown name costs what a wrong password does.
	dummyDN string
	// knownCost is a moving average (ns) of what the search and bind of a
	// found user take; an unknown name's answer waits until as long has
	// passed (the dummy bind alone is a little faster: an empty search
	// result, no password to compare).
	knownCost atomic.Int64

	mu sync.RWMutex
	// cache holds users by canonical name; an entry with a nil user is a
	// name the directory does not have (or disables).
	cache map[string]*cached
	// wanted are names Lookup missed, to fetch in the background.
	wanted chan string

	start  sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// cached is one user as the directory last described them, and when.
type cached struct {
	user    *users.User
	checked time.Time
}

// New checks cfg and returns a Directory. It does no I/O: Start begins the
// background refresh; connections are opened when first needed.
func New(cfg Config) (*Directory, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	p, err := newPool(&cfg)
	if err != nil {
		return nil, err
	}
	d := &Directory{cfg: cfg, pool: p, cache: map[string]*cached{}, wanted: make(chan string, 64),
		dummyDN: "cn=caddy-mfa-no-such-user," + cfg.BaseDN, done: make(chan struct{})}
	d.pool.cfg = &d.cfg
	d.gate = users.NewGate(cfg.PoolSize, cfg.PoolSize*users.QueuePerSlot, users.DefaultWait, nil)
	return d, nil
}

// Config is the configuration in force, with the preset's values filled in.
func (d *Directory) Config() Config { return d.cfg }

// Start begins the background work (once): loading the users seen before
// into the cache, refreshing the cache every half TTL, and fetching the
// users Lookup missed.
func (d *Directory) Start() {
	d.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		d.cancel = cancel
		go d.run(ctx)
	})
}

// Close stops the background work and closes the connections.
func (d *Directory) Close() error {
	started := false
	d.start.Do(func() {}) // a Start after Close does nothing
	if d.cancel != nil {
		d.cancel()
		started = true
	}
	if started {
		<-d.done
	}
	d.pool.close()
	return nil
}

// Gate bounds concurrent password checks and searches.
func (d *Directory) Gate() *users.Gate { return d.gate }

// Lookup returns an enabled user from the cache, or nil: for a name the
// cache lacks (after a restart, or a user who signed in at another
// gateway) it asks for a fetch in the background and answers nil now; for
// an entry older than the TTL (the directory has not confirmed it since,
// being unreachable) it answers nil too, failing closed. It never waits.
func (d *Directory) Lookup(name string) *users.User {
	if !validInput(name) {
		return nil
	}
	d.mu.RLock()
	c := d.cache[name]
	d.mu.RUnlock()
	if c == nil {
		select {
		case d.wanted <- name:
		default: // full: a later Lookup asks again
		}
		return nil
	}
	if c.user == nil || c.user.Disabled || d.cfg.Now().Sub(c.checked) > d.cfg.CacheTTL {
		return nil
	}
	return c.user
}

// All lists the directory users in the cache (those who signed in, loaded
// from Seen at start), disabled ones included, by name.
func (d *Directory) All() []*users.User {
	d.mu.RLock()
	out := make([]*users.User, 0, len(d.cache))
	for _, c := range d.cache {
		if c.user != nil {
			out = append(out, c.user)
		}
	}
	d.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// unavailable wraps an error of the directory as the outage it is, naming
// the server.
func (d *Directory) unavailable(err error) error {
	return fmt.Errorf("%w: ldap server %s: %w", store.ErrUnavailable, d.cfg.URL, err)
}

// CanonicalName is the user name of the entry typed finds (what limits
// count under), or typed itself when none does. The search passes through
// the gate.
func (d *Directory) CanonicalName(ctx context.Context, typed string) (string, error) {
	if !validInput(typed) {
		return typed, nil
	}
	name := typed
	var err error
	if gerr := d.gate.Do(ctx, func() {
		var c *conn
		if c, err = d.pool.get(ctx); err != nil {
			return
		}
		var e *ldap.Entry
		e, err = d.find(c, typed)
		d.pool.put(c, err != nil && isNetwork(err))
		if e != nil {
			if n := e.GetAttributeValue(d.cfg.Attributes.Username); validInput(n) {
				name = n
			}
		}
	}); gerr != nil {
		return "", gerr
	}
	if err != nil {
		return "", d.unavailable(err)
	}
	return name, nil
}

// Authenticate finds the user typed names with the service account and
// binds as that user with password. When no user matches it binds as a
// DN no entry has, so that the answer and its time are those of a wrong
// password. A user the directory disables is refused as a wrong password
// is. The work passes through the gate.
func (d *Directory) Authenticate(ctx context.Context, typed, password string) (*users.User, error) {
	if !validInput(typed) {
		return nil, nil
	}
	var u *users.User
	var err error
	if gerr := d.gate.Do(ctx, func() { u, err = d.authenticate(ctx, typed, password) }); gerr != nil {
		return nil, gerr
	}
	return u, err
}

func (d *Directory) authenticate(ctx context.Context, typed, password string) (*users.User, error) {
	c, err := d.pool.get(ctx)
	if err != nil {
		return nil, d.unavailable(err)
	}
	start := time.Now()
	e, err := d.find(c, typed)
	if err != nil {
		d.pool.put(c, isNetwork(err))
		return nil, d.unavailable(err)
	}
	dn := d.dummyDN
	if e != nil {
		dn = e.DN
	}
	if password == "" {
		// Never an unauthenticated bind (which many servers accept for any
		// DN): a password no one has, against no one.
		dn, password = d.dummyDN, "\x00empty"
	}
	c.asService = false
	berr := c.Bind(dn, password)
	d.evenTime(start, e != nil)
	if berr != nil {
		if !ldap.IsErrorWithCode(berr, ldap.LDAPResultInvalidCredentials) {
			d.pool.put(c, true)
			return nil, d.unavailable(fmt.Errorf("bind: %w", berr))
		}
		d.pool.put(c, false)
		if e != nil && adExpired(berr) {
			return nil, users.ErrPasswordExpired
		}
		return nil, nil
	}
	if e == nil || dn == d.dummyDN {
		d.pool.put(c, false)
		return nil, nil
	}
	// The groups are read as the service account (the user may not see
	// their own groups).
	if err := c.Bind(d.cfg.BindDN, d.cfg.BindPassword); err != nil {
		d.pool.put(c, true)
		return nil, d.unavailable(fmt.Errorf("service account bind as %s: %w", d.cfg.BindDN, err))
	}
	c.asService = true
	groups, err := d.groups(c, e, typed)
	d.pool.put(c, err != nil && isNetwork(err))
	if err != nil {
		return nil, d.unavailable(err)
	}
	u := d.user(e, groups)
	if u == nil {
		return nil, nil
	}
	d.remember(u.Name, u)
	if u.Disabled {
		return nil, nil
	}
	if d.cfg.Seen != nil {
		if err := d.cfg.Seen.SetAdd(ctx, SeenKey, u.Name, seenTTL); err != nil {
			d.cfg.Logger.Warn("ldap: the record of directory users who signed in was not updated", zap.String("user", u.Name), zap.Error(err))
		}
	}
	return u, nil
}

// evenTime records what a found user's search and bind took, or, for an
// unknown name, waits until the average of those has passed since start.
func (d *Directory) evenTime(start time.Time, found bool) {
	took := time.Since(start)
	avg := time.Duration(d.knownCost.Load())
	if found {
		if avg == 0 {
			avg = took
		}
		d.knownCost.Store(int64(avg + (took-avg)/8))
		return
	}
	wait := min(avg-took, d.cfg.Timeout)
	if wait <= 0 {
		return
	}
	// A timer overshoots by up to a millisecond, as much as the whole
	// difference: sleep all but the last millisecond, then yield until due.
	end := time.Now().Add(wait)
	if wait > time.Millisecond {
		time.Sleep(wait - time.Millisecond)
	}
	for time.Now().Before(end) {
		runtime.Gosched()
	}
}

// remember puts what the directory said of name in the cache (u nil: no
// such user, or unusable), now.
func (d *Directory) remember(name string, u *users.User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u == nil && d.cache[name] == nil && len(d.cache) >= maxNegative {
		return
	}
	d.cache[name] = &cached{user: u, checked: d.cfg.Now()}
}
