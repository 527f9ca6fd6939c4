package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
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
	// bindTimes are Authenticate's search and bind, searchTimes
	// CanonicalName's search, for found users and unknown names: an unknown
	// name waits for the difference (the dummy bind is a little faster: an
	// empty search result, no password to compare).
	bindTimes, searchTimes stepTimes

	// cache maps a canonical name to its *cached entry; an entry with a
	// nil user is a name the directory does not have. Reads (the hot path)
	// take no lock; writes hold mu, which also guards size.
	cache sync.Map
	mu    sync.Mutex
	size  int
	// asked maps the names Lookup missed to when, until the directory has
	// answered about them (see Pending); guarded by mu.
	asked map[string]time.Time
	// warm is closed once the users seen before are loaded (or that
	// failed); running is set by Start.
	warm    chan struct{}
	running atomic.Bool
	// onGone is OnGone's function.
	onGone atomic.Pointer[func(names []string, known int)]
	// aliases maps the lower-case user name and e-mail of each user in
	// the cache to the user name (Canonical); written under mu.
	aliases sync.Map
	// wanted are names Lookup missed, to fetch in the background.
	wanted chan string

	start  sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// cached is one user as the directory last described them, and when;
// was marks a name that was a user in the cache before (asked about
// again at each refresh, so that one back soon is seen back).
type cached struct {
	user    *users.User
	checked time.Time
	was     bool
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
	d := &Directory{cfg: cfg, pool: p, wanted: make(chan string, 64),
		dummyDN: "cn=caddy-mfa-no-such-user," + cfg.BaseDN, done: make(chan struct{}),
		asked: map[string]time.Time{}, warm: make(chan struct{})}
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
		d.running.Store(true)
		go d.run(ctx)
	})
}

// Warm is closed once Start has loaded the users seen before into the
// cache (or found the directory unreachable).
func (d *Directory) Warm() <-chan struct{} { return d.warm }

// Pending reports whether the directory has not answered about name
// lately, so that Lookup is nil without the user being gone: a user the
// cache lacks while the users seen before are being loaded at start, or
// after a Lookup missed until the background search ends; or a user whose
// entry is older than the TTL because the directory cannot be reached.
// Such a user is neither let in nor signed out: the caller answers 503,
// and once the directory answers they pass again (or are gone).
func (d *Directory) Pending(name string) bool {
	if !validInput(name) || !d.running.Load() {
		return false
	}
	if c := d.cached(name); c != nil {
		return c.user != nil && !c.user.Disabled && d.cfg.Now().Sub(c.checked) > d.cfg.CacheTTL
	}
	select {
	case <-d.warm:
	default:
		return true
	}
	d.mu.Lock()
	_, ok := d.asked[name]
	d.mu.Unlock()
	return ok
}

// maxAsked bounds the names waiting for a background search.
const maxAsked = 1024

// ask queues a background search for name, which the cache lacks.
func (d *Directory) ask(name string) {
	d.mu.Lock()
	if _, ok := d.asked[name]; !ok {
		if len(d.asked) >= maxAsked {
			d.mu.Unlock()
			return
		}
		d.asked[name] = d.cfg.Now()
	}
	d.mu.Unlock()
	select {
	case d.wanted <- name:
	default: // full: a later Lookup asks again
	}
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
// gateway) it asks for a fetch in the background and answers nil now
// (Pending then tells that apart from a user who is gone); for
// an entry older than the TTL (the directory has not confirmed it since,
// being unreachable) it answers nil too, failing closed. It never waits.
func (d *Directory) Lookup(name string) *users.User {
	if !validInput(name) {
		return nil
	}
	c := d.cached(name)
	if c == nil {
		d.ask(name)
		return nil
	}
	if c.user == nil || c.user.Disabled || d.cfg.Now().Sub(c.checked) > d.cfg.CacheTTL {
		return nil
	}
	return c.user
}

// Peek is Lookup without asking: a name the cache lacks is answered nil
// and nothing is queued (for names an unauthenticated request typed).
func (d *Directory) Peek(name string) *users.User {
	if !validInput(name) {
		return nil
	}
	c := d.cached(name)
	if c == nil || c.user == nil || c.user.Disabled || d.cfg.Now().Sub(c.checked) > d.cfg.CacheTTL {
		return nil
	}
	return c.user
}

// All lists the directory users in the cache (those who signed in, loaded
// from Seen at start), disabled ones included, by name.
func (d *Directory) All() []*users.User {
	var out []*users.User
	d.cache.Range(func(_, v any) bool {
		if c := v.(*cached); c.user != nil {
			out = append(out, c.user)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ErrServer is in every error of a directory server that could not be
// reached (with store.ErrUnavailable), so that callers can tell its
// outages from the stores' (the metrics count them apart).
var ErrServer = errors.New("ldap server")

// unavailable wraps an error of the directory as the outage it is, naming
// the server.
func (d *Directory) unavailable(err error) error {
	return fmt.Errorf("%w: %w %s: %w", store.ErrUnavailable, ErrServer, d.cfg.URL, err)
}

// Canonical is the user name typed stands for as far as the cache knows,
// without asking the directory (for app passwords, the admin API and the
// log): a cached user's name or e-mail in any case, else typed itself.
// CanonicalName asks the directory.
func (d *Directory) Canonical(typed string) string {
	if !validInput(typed) {
		return typed
	}
	if d.cached(typed) != nil {
		return typed
	}
	if v, ok := d.aliases.Load(strings.ToLower(typed)); ok {
		return v.(string)
	}
	return typed
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
		start := time.Now()
		e, err = d.find(c, typed)
		if err == nil {
			d.evenTime(&d.searchTimes, start, e != nil)
		}
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
	d.evenTime(&d.bindTimes, start, dn != d.dummyDN)
	if berr != nil {
		if isNetwork(berr) {
			d.pool.put(c, true)
			return nil, d.unavailable(fmt.Errorf("bind: %w", berr))
		}
		// Any answer of the server (invalid credentials; or a locked,
		// disabled or constrained account, as some servers say) is a
		// refusal, told as a wrong password.
		d.pool.put(c, !ldap.IsErrorWithCode(berr, ldap.LDAPResultInvalidCredentials))
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
	known := d.enabled()
	if d.remember(u.Name, u) {
		d.tellGone([]string{u.Name}, known)
	}
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

// evenTime records what a step took since start, for a found user or an
// unknown name, and for an unknown name then waits for the difference of
// the two medians: the unknown name's times are shifted onto the found
// users' (the same median), whatever the load.
func (d *Directory) evenTime(st *stepTimes, start time.Time, found bool) {
	took := time.Since(start)
	if found {
		st.found.add(took)
		return
	}
	st.unknown.add(took)
	wait := min(st.found.median()-st.unknown.median(), d.cfg.Timeout)
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

// stepTimes are the recent durations of one step (a search, or a search
// and a bind) for found users and for unknown names.
type stepTimes struct{ found, unknown timings }

// timings keeps the last len(ring) durations.
type timings struct {
	mu   sync.Mutex
	ring [31]time.Duration
	n    int
}

func (t *timings) add(d time.Duration) {
	t.mu.Lock()
	t.ring[t.n%len(t.ring)] = d
	t.n++
	t.mu.Unlock()
}

// median is the median of the durations kept (0 with none).
func (t *timings) median() time.Duration {
	t.mu.Lock()
	n := min(t.n, len(t.ring))
	s := make([]time.Duration, n)
	copy(s, t.ring[:n])
	t.mu.Unlock()
	if n == 0 {
		return 0
	}
	slices.Sort(s)
	return s[n/2]
}

// remember puts what the directory said of name in the cache (u nil: no
// such user, or unusable), now. It reports whether that ends an enabled
// user's access (removed or disabled since the cache last had them).
func (d *Directory) remember(name string, u *users.User) (ended bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.asked, name)
	v, had := d.cache.Load(name)
	was := false
	if had {
		prev := v.(*cached)
		ended = prev.user != nil && !prev.user.Disabled && (u == nil || u.Disabled)
		was = prev.was || prev.user != nil
		if prev.user != nil {
			d.aliases.Delete(strings.ToLower(prev.user.Name))
			if prev.user.Email != "" {
				d.aliases.Delete(strings.ToLower(prev.user.Email))
			}
		}
	} else {
		if u == nil && d.size >= maxNegative {
			return false
		}
		d.size++
	}
	d.cache.Store(name, &cached{user: u, checked: d.cfg.Now(), was: was})
	if u != nil {
		d.aliases.Store(strings.ToLower(u.Name), u.Name)
		if u.Email != "" {
			d.aliases.Store(strings.ToLower(u.Email), u.Name)
		}
	}
	return ended
}

// OnGone sets the function told of the users the directory says are gone
// (removed, or disabled) who were enabled before, with how many enabled
// users the cache held; each configuration of Caddy sets its own.
func (d *Directory) OnGone(fn func(names []string, known int)) { d.onGone.Store(&fn) }

// tellGone tells OnGone's function of names.
func (d *Directory) tellGone(names []string, known int) {
	if fn := d.onGone.Load(); fn != nil && len(names) > 0 {
		(*fn)(names, known)
	}
}

// enabled counts the enabled users in the cache.
func (d *Directory) enabled() int {
	n := 0
	d.cache.Range(func(_, v any) bool {
		if u := v.(*cached).user; u != nil && !u.Disabled {
			n++
		}
		return true
	})
	return n
}

// Gone reports whether the directory said name is removed or disabled and
// has said nothing else since (true also once such an answer has left the
// cache); false for a user it confirmed, even long ago (an unreachable
// directory is no proof of anything) and for a name being asked about.
func (d *Directory) Gone(name string) bool {
	if c := d.cached(name); c != nil {
		return c.user == nil || c.user.Disabled
	}
	d.mu.Lock()
	_, asked := d.asked[name]
	d.mu.Unlock()
	return !asked
}

// cached is the cache's entry of name, or nil.
func (d *Directory) cached(name string) *cached {
	v, ok := d.cache.Load(name)
	if !ok {
		return nil
	}
	return v.(*cached)
}
