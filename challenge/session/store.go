package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// dataKey is the key of *Data in sessions.Session.Values.
const dataKey = "mfa"

// sessionKeyPrefix starts the store key of every session: the key is the
// prefix and the session id.
const sessionKeyPrefix = "session:"

// CookiePolicy names and makes the session cookie. The gateway has one
// policy for all its cookies (caddymodule/cookies.go); the store asks it
// rather than deciding names, prefixes and attributes itself.
type CookiePolicy interface {
	// Name is the session cookie's name for r: the only name read.
	Name(r *http.Request) string
	// Secure reports whether cookies for r are Secure.
	Secure(r *http.Request) bool
	// Cookie is the session cookie to set on the response to r, holding
	// value for maxAge seconds (negative: delete it).
	Cookie(r *http.Request, value string, maxAge int) *http.Cookie
}

// Config says how sessions behave.
type Config struct {
	// CookieName is the cookie's base name, which its signature covers.
	// Default: "caddy_mfa".
	CookieName string
	// Cookies names and makes the cookie; required.
	Cookies CookiePolicy
	// Idle ends a session this long after its last request.
	Idle time.Duration
	// Lifetime ends a session this long after it began, however active.
	Lifetime time.Duration
	// HashKeys sign the cookie; the first signs, all verify (rotation).
	HashKeys [][]byte
}

// Store is a gorilla/sessions Store. Its cookie carries a random 256-bit id
// signed with HMAC-SHA256; the session data never leaves the server.
type Store struct {
	cfg Config
	kv  store.KV
	// refresh writes a session whose LastSeen moved: the KV's Touch where
	// it has one (a durable embedded store need not sync the disk for it),
	// else Replace.
	refresh func(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error)
	// deferred is the KV's deferred changes, nil if it has none (Redis):
	// a change of level (Rotate, then Save) and a sign-out then sync the
	// embedded store's disk once, with the session's own write or
	// deletion, which comes last.
	deferred store.Deferrer
	ids      *signedIDs
	now      func() time.Time
	touch    time.Duration
}

// Interface guard.
var _ sessions.Store = (*Store)(nil)

// NewStore returns a Store over kv.
func NewStore(cfg Config, kv store.KV) (*Store, error) {
	if cfg.Idle <= 0 || cfg.Lifetime <= 0 {
		return nil, errors.New("session idle timeout and lifetime must be positive")
	}
	if len(cfg.HashKeys) == 0 {
		return nil, errors.New("session store needs a cookie hash key")
	}
	if cfg.Cookies == nil {
		return nil, errors.New("session store needs a cookie policy")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "caddy_mfa"
	}
	s := &Store{cfg: cfg, kv: kv, now: time.Now, refresh: kv.Replace}
	if t, ok := kv.(store.Toucher); ok {
		s.refresh = t.Touch
	}
	s.deferred, _ = kv.(store.Deferrer)
	s.ids = newSignedIDs(cfg.HashKeys, cfg.Lifetime)
	// Refresh LastSeen at most this often, so most signed-in requests need
	// one read and no write. With the embedded store the refresh reaches
	// the accounts file within store.FlushEvery more; after a crash, a
	// session's idle time may so count from up to touch + FlushEvery
	// before its last request: it ends at most that much sooner, never later.
	s.touch = min(cfg.Idle/10, time.Minute)
	return s, nil
}

// SetClock replaces the clock, for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// CookieName is the cookie name used for r, as the cookie policy gives it.
func (s *Store) CookieName(r *http.Request) string { return s.cfg.Cookies.Name(r) }

// options are the session's gorilla options; only MaxAge is read back (a
// negative one signs out): the cookie itself comes from the policy.
func (s *Store) options(r *http.Request) *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   int(s.cfg.Lifetime / time.Second),
		Secure:   s.cfg.Cookies.Secure(r),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// Get returns the request's session, or a new one. It does not cache per
// request: callers keep the *sessions.Session they got.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return s.New(r, name)
}

// New returns the session named by the request's cookie if it is valid and
// live, otherwise a new empty session. An error means the store could not be
// reached (wrapping store.ErrUnavailable); the returned session is then new.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options(r)
	sess.IsNew = true
	id, d, err := s.Lookup(r)
	if err != nil {
		sess.Values[dataKey] = s.fresh()
		return sess, err
	}
	if d == nil {
		sess.Values[dataKey] = s.fresh()
		return sess, nil
	}
	sess.ID = id
	sess.IsNew = false
	sess.Values[dataKey] = d
	return sess, nil
}

func (s *Store) fresh() *Data {
	n := s.now().Unix()
	return &Data{Created: n, LastSeen: n}
}

// Lookup is the hot path: it verifies the cookie, reads the session and
// checks its expiry, refreshing LastSeen when it is stale. It returns a nil
// Data (and no error) when there is no live session.
func (s *Store) Lookup(r *http.Request) (string, *Data, error) {
	c, ok := cookieValue(r.Header, s.CookieName(r))
	if !ok {
		return "", nil, nil
	}
	now := s.now()
	key, ok := s.ids.verifyPrefixed(s.cfg.CookieName, c, now, sessionKeyPrefix)
	if !ok {
		return "", nil, nil
	}
	id := key[len(sessionKeyPrefix):]
	v, err := s.kv.Get(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("%w: reading session: %w", store.ErrUnavailable, err)
	}
	d := new(Data)
	if err := d.UnmarshalBinary(v); err != nil {
		return "", nil, nil
	}
	if d.Expired(now, s.cfg.Idle, s.cfg.Lifetime) {
		_ = s.kv.Delete(r.Context(), key)
		return "", nil, nil
	}
	if time.Duration(now.Unix()-d.LastSeen)*time.Second >= s.touch {
		d.LastSeen = now.Unix()
		// Only if it still exists: a sign-out or revocation that deleted the
		// session while this request was in flight must stay done.
		v, ttl, err := s.encode(d)
		if err != nil {
			return "", nil, err
		}
		ok, err := s.refresh(r.Context(), key, v, ttl)
		if err != nil {
			return "", nil, fmt.Errorf("%w: refreshing session: %w", store.ErrUnavailable, err)
		}
		if !ok {
			return "", nil, nil
		}
	}
	return id, d, nil
}

// DataOf returns the session's data.
func DataOf(sess *sessions.Session) *Data {
	d, _ := sess.Values[dataKey].(*Data)
	if d == nil {
		d = &Data{}
		sess.Values[dataKey] = d
	}
	return d
}

// Rotate gives the session a new id at its next Save and removes the old
// one now, so a cookie captured before a change of level is worthless after.
// (With the embedded store the removal reaches the file with that Save,
// before it returns: the new level is never answered before.)
func (s *Store) Rotate(ctx context.Context, sess *sessions.Session) error {
	if err := s.remove(ctx, sess.ID, DataOf(sess).User, true); err != nil {
		return err
	}
	sess.ID = ""
	return nil
}

// remove deletes session id and takes it out of user's index, in that
// order: if the deletion fails, the index still names the session, so
// "sign out everywhere" finds it (a stale entry is harmless; a missing one
// would hide a live session from revocation). With a KV that defers, the
// index's change is deferred and goes to the file with the next durable
// write; the session's deletion is deferred too if deferred is set.
func (s *Store) remove(ctx context.Context, id, user string, deferred bool) error {
	if id == "" {
		return nil
	}
	del, setRemove := s.kv.Delete, s.kv.SetRemove
	if s.deferred != nil {
		setRemove = s.deferred.DeferSetRemove
		if deferred {
			del = s.deferred.DeferDelete
		}
	}
	if err := del(ctx, sessionKeyPrefix+id); err != nil {
		return fmt.Errorf("%w: removing session: %w", store.ErrUnavailable, err)
	}
	if user != "" {
		if err := setRemove(ctx, userIndex(user), id); err != nil {
			return fmt.Errorf("%w: updating session index: %w", store.ErrUnavailable, err)
		}
	}
	return nil
}

// userIndex is the key of the set of a user's session ids.
func userIndex(user string) string { return "user-sessions:" + user }

// RevokeUser ends every session of user, on every gateway sharing the
// store ("sign out everywhere", an administrator's reset), and returns how
// many it ended.
func (s *Store) RevokeUser(ctx context.Context, user string) (int, error) {
	ids, err := s.kv.SetMembers(ctx, userIndex(user))
	if err != nil {
		return 0, fmt.Errorf("%w: reading session index: %w", store.ErrUnavailable, err)
	}
	n := 0
	for _, id := range ids {
		if _, err := s.kv.Get(ctx, sessionKeyPrefix+id); err == nil {
			n++
		}
		if err := s.kv.Delete(ctx, sessionKeyPrefix+id); err != nil {
			return n, fmt.Errorf("%w: removing session: %w", store.ErrUnavailable, err)
		}
	}
	if err := s.kv.Delete(ctx, userIndex(user)); err != nil {
		return n, fmt.Errorf("%w: removing session index: %w", store.ErrUnavailable, err)
	}
	return n, nil
}

// Save writes the session and its cookie. A negative MaxAge deletes both.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if err := s.remove(r.Context(), sess.ID, DataOf(sess).User, false); err != nil {
			return err
		}
		http.SetCookie(w, s.cfg.Cookies.Cookie(r, "", -1))
		return nil
	}
	if sess.ID == "" {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return fmt.Errorf("generating session id: %w", err)
		}
		sess.ID = base64.RawURLEncoding.EncodeToString(raw)
	}
	d := DataOf(sess)
	d.LastSeen = s.now().Unix()
	if d.User != "" && s.deferred != nil {
		// In the file with the session's write below.
		if err := s.deferred.DeferSetAdd(r.Context(), userIndex(d.User), sess.ID, s.cfg.Lifetime); err != nil {
			return fmt.Errorf("%w: updating session index: %w", store.ErrUnavailable, err)
		}
	}
	if err := s.write(r.Context(), sess.ID, d); err != nil {
		return err
	}
	if d.User != "" && s.deferred == nil {
		if err := s.kv.SetAdd(r.Context(), userIndex(d.User), sess.ID, s.cfg.Lifetime); err != nil {
			return fmt.Errorf("%w: updating session index: %w", store.ErrUnavailable, err)
		}
	}
	enc := s.ids.sign(s.cfg.CookieName, sess.ID, s.now())
	http.SetCookie(w, s.cfg.Cookies.Cookie(r, enc, sess.Options.MaxAge))
	return nil
}

// encode returns the stored form of d and how long to keep it: no longer
// than both the idle timeout and the absolute lifetime allow.
func (s *Store) encode(d *Data) ([]byte, time.Duration, error) {
	v, err := d.MarshalBinary()
	if err != nil {
		return nil, 0, fmt.Errorf("encoding session: %w", err)
	}
	return v, min(s.cfg.Idle, time.Unix(d.Created, 0).Add(s.cfg.Lifetime).Sub(s.now())), nil
}

func (s *Store) write(ctx context.Context, id string, d *Data) error {
	v, ttl, err := s.encode(d)
	if err != nil {
		return err
	}
	if ttl <= 0 {
		return nil
	}
	if err := s.kv.Set(ctx, sessionKeyPrefix+id, v, ttl); err != nil {
		return fmt.Errorf("%w: writing session: %w", store.ErrUnavailable, err)
	}
	return nil
}
