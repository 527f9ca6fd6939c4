package regulation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Smart lockout of passwords, after Azure's: wrong passwords are counted
// and locked per source, so that whoever knows a user name cannot lock the
// user out of a browser they signed in with before.
//
//   - A familiar browser (one that carries a valid familiar-browser cookie
//     for the user: see FamiliarToken) has a count of its own, by the
//     browser's id in the cookie: MaxFailures wrong passwords within
//     FindTime lock that browser, for that user, for BanTime. A copy of the
//     cookie (taken from a shared computer) can lock only the browser it
//     was copied from, never the user's other familiar browsers. Each
//     familiar browser is also held to MaxUnfamiliarFailures wrong
//     passwords a day of its own, so that a copied cookie gets no more
//     guesses a day than every unfamiliar source together.
//   - Every other source is the client address (IPv6: its /64): as many
//     wrong passwords from one address lock that address, for that user
//     only, for BanTime.
//   - Wrong passwords from sources other than a familiar browser are also
//     counted together, MaxUnfamiliarFailures a day (GCRA: a burst of that
//     many, then one every day/MaxUnfamiliarFailures): when the count is
//     full, every unfamiliar source is locked for the user until it lets
//     one more through (at least BanTime), so distributed guessing gets at
//     most MaxUnfamiliarFailures a day. A right password does not empty
//     the count (the user's own sign-ins must not hand a guessing campaign
//     more tries): it drains by itself. An address the user completed a sign-in
//     from in the last 30 days is familiar: it is not locked by this count
//     (only by its own).
//   - Per-user rate limits (LoginPerUser) are kept apart in the same way:
//     familiar browsers, each familiar address, and all unfamiliar sources
//     have a rate of their own; a familiar browser is not held to the
//     per-address rate (LoginPerIP) either.
//
// Account-wide locks (a fraud block, a lockout after wrong second-factor
// codes: lockVerdict) are not counted here: a sign-in checks them after a
// right password (AccountVerdict), so that they stop everyone without
// telling anyone who does not know the password. Unlock lifts every lock
// of a user by starting a new generation of the keys here (see keys.go).

// PasswordSource is where a password attempt comes from.
type PasswordSource struct {
	// Addr is the client address as per-address limits count it (IPv6: its /64).
	Addr string
	// Browser is the id of the familiar browser the attempt comes from
	// (see challenge.Engine.FamiliarBrowser): "" unless it carries a valid
	// familiar-browser cookie for the user.
	Browser string
}

// Familiar reports whether the attempt comes from a familiar browser.
func (s PasswordSource) Familiar() bool { return s.Browser != "" }

// PasswordAttempt is a password attempt as BeforePassword rated it, for
// PasswordFailed and PasswordOK.
type PasswordAttempt struct {
	user      string
	src       PasswordSource
	gen       string
	knownAddr bool
}

// Familiarity names the kind of source of the attempt, for the log:
// SourceBrowser (a familiar browser), SourceAddress (an address the user
// signed in from lately), or SourceUnfamiliar.
func (a PasswordAttempt) Familiarity() SourceKind {
	switch {
	case a.src.Familiar():
		return SourceBrowser
	case a.knownAddr:
		return SourceAddress
	}
	return SourceUnfamiliar
}

// Sides of a user's password counts, the last part of their keys. A part
// never holds "|", so that no user name (which may) makes one user's key
// another's.
const (
	sideBrowser    = "browser:"   // a familiar browser of the user, by its id
	sideUnfamiliar = "unfamiliar" // every unfamiliar source (their count, lock, rate)
)

func addrSide(addr string) string { return "ip:" + addr }

// side is the part of the attempt's own count: its browser or its address.
func (a PasswordAttempt) side() string {
	if a.src.Familiar() {
		return sideBrowser + a.src.Browser
	}
	return addrSide(a.src.Addr)
}

// key is a key of the attempt's user in the current generation.
func (a PasswordAttempt) key(kind, part string) string {
	return kind + a.gen + ":" + a.user + "|" + part
}

// Parts of the keys of the password counts (prefixPasswordFail,
// prefixPasswordLock, prefixPasswordRate: see keys.go). Each key holds a
// generation (see generation), the user and a part: a side, or partAddrs,
// one marker of every locked address (the addresses themselves are listed
// nowhere).
const (
	partAddrs = "addresses"
	// partBrowsers is one marker of every locked familiar browser.
	partBrowsers = "browsers"
)

// unfamiliarWindow is the period of MaxUnfamiliarFailures.
const unfamiliarWindow = 24 * time.Hour

// KnownAddressFor is how long an address stays familiar for a user after
// a complete sign-in from it.
const KnownAddressFor = 30 * 24 * time.Hour

// knownRefresh is how old the record of a familiar address must be before
// a sign-in from it writes it again (for KnownAddressFor from then): the
// users who sign in every day from the office write it once a day, not at
// every sign-in, so the address stays familiar for KnownAddressFor less
// at most this much.
const knownRefresh = 24 * time.Hour

func knownKey(user, addr string) string { return prefixKnownAddress + user + "|" + addrSide(addr) }

// generation is the current generation of user's password keys ("0" at first).
func (r *Regulation) generation(ctx context.Context, user string) (string, error) {
	v, err := r.kv.Get(ctx, userKey(prefixGeneration, user))
	if errors.Is(err, store.ErrNotFound) {
		return "0", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: reading lockout generation: %w", store.ErrUnavailable, err)
	}
	return string(v), nil
}

// BeforePassword rates a password attempt for user from src. Reasons:
// ReasonIP (the address's rate, before any user is looked at), ReasonUser
// (the user's rate for this kind of source), ReasonLocked (this address, or
// the user's familiar browsers, are locked), ReasonUnfamiliar (every
// unfamiliar source is locked for the user). Callers do not check a refused password
// at all, and answer alike whether it was right or wrong, so a refusal
// tells nothing about the password and costs no hash. A familiar browser
// is rated per address and browser apart from everyone else
// (login-ip-familiar:), so that neither a guesser behind the same address
// nor another familiar browser there (a colleague behind the office NAT, a
// copied cookie) can use its rate up, while a flood sent with a copied
// cookie is still bounded.
// Fraud blocks and second-factor lockouts are not looked at: see
// AccountVerdict.
func (r *Regulation) BeforePassword(ctx context.Context, user string, src PasswordSource) (Verdict, PasswordAttempt, error) {
	if v, err := r.BeforeSource(ctx, src); err != nil || !v.Allowed {
		return v, PasswordAttempt{user: user, src: src}, err
	}
	return r.BeforeUser(ctx, user, src)
}

// BeforeSource is the first step of BeforePassword alone: the rate of the
// client address (login_per_ip; a familiar browser's per address and
// browser), before any user is looked at. A caller that must look the
// typed name up somewhere costly (a directory search) takes this step
// first, so that a flood from one address is refused without a lookup,
// and then BeforeUser with the name found.
func (r *Regulation) BeforeSource(ctx context.Context, src PasswordSource) (Verdict, error) {
	ipKey := prefixLoginIP + src.Addr
	if src.Familiar() {
		ipKey = prefixLoginIPFamiliar + src.Addr + "|" + src.Browser
	}
	res, err := r.limiter.Allow(ctx, ipKey, r.limits.LoginPerIP)
	if err != nil {
		return Verdict{}, err
	}
	if !res.Allowed {
		return Verdict{RetryAfter: res.RetryAfter, Reason: ReasonIP}, nil
	}
	return allowed(), nil
}

// BeforeUser is the rest of BeforePassword, after BeforeSource allowed
// the address: the user's locks and rate for this kind of source.
func (r *Regulation) BeforeUser(ctx context.Context, user string, src PasswordSource) (Verdict, PasswordAttempt, error) {
	a := PasswordAttempt{user: user, src: src}
	var err error
	if a.gen, err = r.generation(ctx, user); err != nil {
		return Verdict{}, a, err
	}
	if !src.Familiar() {
		if a.knownAddr, err = r.present(ctx, knownKey(user, src.Addr)); err != nil {
			return Verdict{}, a, err
		}
	}
	// Both locks are read for every source, so that the reads do not tell
	// a familiar address from an unfamiliar one; the lock of unfamiliar
	// sources holds only for unfamiliar ones.
	if retry, locked, err := r.lockedUntil(ctx, a.key(prefixPasswordLock, a.side())); err != nil || locked {
		return Verdict{RetryAfter: retry, Reason: ReasonLocked}, a, err
	}
	retry, locked, err := r.lockedUntil(ctx, a.key(prefixPasswordLock, sideUnfamiliar))
	if err != nil {
		return Verdict{}, a, err
	}
	if locked && a.Familiarity() == SourceUnfamiliar {
		return Verdict{RetryAfter: retry, Reason: ReasonUnfamiliar}, a, nil
	}
	ratePart := a.side()
	if a.Familiarity() == SourceUnfamiliar {
		ratePart = sideUnfamiliar
	}
	res, err := r.limiter.Allow(ctx, a.key(prefixPasswordRate, ratePart), r.limits.LoginPerUser)
	if err != nil {
		return Verdict{}, a, err
	}
	if !res.Allowed {
		return Verdict{RetryAfter: res.RetryAfter, Reason: ReasonUser}, a, nil
	}
	return allowed(), a, nil
}

// present reports whether key holds a value.
func (r *Regulation) present(ctx context.Context, key string) (bool, error) {
	_, err := r.kv.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: reading %s: %w", store.ErrUnavailable, key, err)
	}
	return true, nil
}

// lockedUntil reads a lock key that holds when the lock ends.
func (r *Regulation) lockedUntil(ctx context.Context, key string) (time.Duration, bool, error) {
	v, err := r.kv.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("%w: reading lockout: %w", store.ErrUnavailable, err)
	}
	until, err := time.Parse(time.RFC3339, string(v))
	if err != nil {
		return r.limits.BanTime, true, nil
	}
	return max(until.Sub(r.now()), time.Second), true, nil
}

// setLock writes a lock key that holds for d.
func (r *Regulation) setLock(ctx context.Context, key string, d time.Duration) error {
	return r.kv.Set(ctx, key, []byte(r.now().Add(d).UTC().Format(time.RFC3339)), d)
}

// PasswordFailed records the wrong password of attempt a and reports what
// that locked, for the log: "" (nothing), SourceBrowser (the user's familiar
// browsers), SourceAddress (this address, for the user), SourceUnfamiliar (every
// unfamiliar source, for the user; the address too, maybe).
func (r *Regulation) PasswordFailed(ctx context.Context, a PasswordAttempt) (SourceKind, error) {
	var locked SourceKind
	l := limit.Limit{Rate: r.limits.MaxFailures, Period: r.limits.FindTime}
	res, err := r.limiter.Allow(ctx, a.key(prefixPasswordFail, a.side()), l)
	if err != nil {
		return "", err
	}
	if !res.Allowed || res.Remaining == 0 {
		if err := r.setLock(ctx, a.key(prefixPasswordLock, a.side()), r.limits.BanTime); err != nil {
			return "", err
		}
		// One marker for every locked address (or familiar browser), for
		// the list of users: the addresses and browsers are listed nowhere.
		marker := partAddrs
		locked = SourceAddress
		if a.src.Familiar() {
			locked, marker = SourceBrowser, partBrowsers
		}
		if err := r.setLock(ctx, a.key(prefixPasswordLock, marker), r.limits.BanTime); err != nil {
			return "", err
		}
	}
	ul := limit.Limit{Rate: r.limits.MaxUnfamiliarFailures, Period: unfamiliarWindow}
	if a.src.Familiar() {
		// A familiar browser (a copy of its cookie too) is held to as many
		// a day of its own: past them, it is locked for the user until
		// its count lets one more through.
		if res, err = r.limiter.Allow(ctx, a.key(prefixPasswordFail, "day:"+a.side()), ul); err != nil {
			return "", err
		}
		if !res.Allowed || res.Remaining == 0 {
			ban := max(r.limits.BanTime, unfamiliarWindow/time.Duration(ul.Rate), res.RetryAfter)
			if err := r.setLock(ctx, a.key(prefixPasswordLock, a.side()), ban); err != nil {
				return "", err
			}
			if err := r.setLock(ctx, a.key(prefixPasswordLock, partBrowsers), ban); err != nil {
				return "", err
			}
			locked = SourceBrowser
		}
		return locked, nil
	}
	if res, err = r.limiter.Allow(ctx, a.key(prefixPasswordFail, sideUnfamiliar), ul); err != nil {
		return "", err
	}
	if !res.Allowed || res.Remaining == 0 {
		// Locked until the count lets one more through.
		ban := max(r.limits.BanTime, unfamiliarWindow/time.Duration(ul.Rate), res.RetryAfter)
		if err := r.setLock(ctx, a.key(prefixPasswordLock, sideUnfamiliar), ban); err != nil {
			return "", err
		}
		locked = SourceUnfamiliar
	}
	return locked, nil
}

// PasswordOK forgets the wrong passwords of the source of attempt a after
// a right one. The count of all unfamiliar sources is left to drain: a
// sign-in of the user from a new browser must not give a distributed
// guesser another MaxUnfamiliarFailures tries.
func (r *Regulation) PasswordOK(ctx context.Context, a PasswordAttempt) error {
	return r.limiter.Reset(ctx, a.key(prefixPasswordFail, a.side()))
}

// SignedInFrom records that user completed a sign-in (both factors) from
// the address addr (as PasswordSource.Addr), which is then familiar for
// KnownAddressFor (from the last record, renewed at most every
// knownRefresh).
func (r *Regulation) SignedInFrom(ctx context.Context, user, addr string) error {
	key, now := knownKey(user, addr), r.now()
	v, err := r.kv.Get(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: reading %s: %w", store.ErrUnavailable, key, err)
	}
	if at, perr := time.Parse(time.RFC3339, string(v)); err == nil && perr == nil && now.Sub(at) < knownRefresh {
		return nil
	}
	if err := r.kv.Set(ctx, key, []byte(now.UTC().Format(time.RFC3339)), KnownAddressFor); err != nil {
		return fmt.Errorf("%w: remembering the address of a sign-in: %w", store.ErrUnavailable, err)
	}
	return nil
}

// AccountVerdict is the account-wide verdict on user: ReasonBlocked
// after a fraud report (until an administrator unlocks), ReasonLocked after
// wrong second-factor codes. The sign-in looks at it only after a right
// password.
func (r *Regulation) AccountVerdict(ctx context.Context, user string) (Verdict, error) {
	return r.lockVerdict(ctx, user)
}

// SourceLocks lists the password locks of sources in force for user:
// LockedAddresses, LockedUnfamiliar, LockedFamiliar; nil if none.
func (r *Regulation) SourceLocks(ctx context.Context, user string) ([]SourceLock, error) {
	gen, err := r.generation(ctx, user)
	if err != nil {
		return nil, err
	}
	a := PasswordAttempt{user: user, gen: gen}
	var out []SourceLock
	for _, l := range []struct {
		part string
		name SourceLock
	}{{partAddrs, LockedAddresses}, {sideUnfamiliar, LockedUnfamiliar}, {partBrowsers, LockedFamiliar}} {
		if _, locked, err := r.lockedUntil(ctx, a.key(prefixPasswordLock, l.part)); err != nil {
			return nil, err
		} else if locked {
			out = append(out, l.name)
		}
	}
	return out, nil
}
