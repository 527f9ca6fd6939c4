package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// run is the background work of Start, until ctx ends.
func (d *Directory) run(ctx context.Context) {
	defer close(d.done)
	if err := d.fetch(ctx, d.seenNew(ctx)); err != nil {
		d.logOutage(err)
	}
	close(d.warm)
	t := time.NewTicker(d.cfg.CacheTTL / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.Refresh(ctx); err != nil {
				d.logOutage(err)
			}
		case name := <-d.wanted:
			if d.fresh(name) {
				continue
			}
			if err := d.fetch(ctx, []string{name}); err != nil {
				d.logOutage(err)
				// Retried at the next miss; not at once, which would spin.
			}
		}
	}
}

func (d *Directory) logOutage(err error) {
	d.cfg.Logger.Error("ldap: the directory could not be read; users it has not confirmed within cache_ttl are refused until it answers",
		zap.String("url", d.cfg.URL), zap.Duration("cache_ttl", d.cfg.CacheTTL), zap.Error(err))
}

// fresh reports whether name is in the cache and younger than half the TTL
// (a fetch now would be wasted).
func (d *Directory) fresh(name string) bool {
	c := d.cached(name)
	return c != nil && d.cfg.Now().Sub(c.checked) < d.cfg.CacheTTL/2
}

// seenNew lists the users of the record of those who signed in (at any
// gateway sharing the store) that the cache lacks.
func (d *Directory) seenNew(ctx context.Context) []string {
	if d.cfg.Seen == nil {
		return nil
	}
	names, err := d.cfg.Seen.SetMembers(ctx, SeenKey)
	if err != nil {
		d.cfg.Logger.Error("ldap: the record of directory users who signed in could not be read", zap.Error(err))
		return nil
	}
	var out []string
	for _, n := range names {
		if d.cached(n) == nil {
			out = append(out, n)
		}
	}
	return out
}

// forgetGone is how long a user the directory removed is asked about
// again at each refresh (one restored is then seen back) before the cache
// forgets them.
const forgetGone = 24 * time.Hour

// Refresh asks the directory again about every user in the cache (and
// those it removed, for forgetGone) and about those who signed in at
// other gateways since, and forgets names it never had that are older
// than the TTL (and misses never answered after ten TTLs). The
// background work calls it every half TTL; an error (the directory
// unreachable) leaves the cache as it was, whose entries then age past
// the TTL and are refused.
func (d *Directory) Refresh(ctx context.Context) error {
	now := d.cfg.Now()
	var names []string
	d.mu.Lock()
	for name, at := range d.asked {
		if now.Sub(at) > 10*d.cfg.CacheTTL {
			delete(d.asked, name)
		}
	}
	d.cache.Range(func(k, v any) bool {
		name, c := k.(string), v.(*cached)
		switch {
		case c.user == nil && !c.was && now.Sub(c.checked) > d.cfg.CacheTTL,
			c.user == nil && now.Sub(c.checked) > forgetGone:
			d.cache.Delete(name)
			d.size--
		case c.user != nil || c.was:
			names = append(names, name)
		}
		return true
	})
	d.mu.Unlock()
	return d.fetch(ctx, append(names, d.seenNew(ctx)...))
}

// fetch reads names (canonical user names) from the directory into the
// cache, on one connection; a name whose search finds no entry, or an
// entry of another user name, is remembered as no user.
func (d *Directory) fetch(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	c, err := d.pool.get(ctx)
	if err != nil {
		return d.unavailable(err)
	}
	known := d.enabled()
	var gone []string
	defer func() { d.tellGone(gone, known) }()
	for _, name := range names {
		if ctx.Err() != nil {
			d.pool.put(c, false)
			return ctx.Err()
		}
		if !validInput(name) {
			continue
		}
		e, err := d.findUser(c, name)
		if errors.Is(err, errAmbiguous) {
			// Two entries claim this user name: say so, and keep what was
			// known (ending the user would let whoever made the second
			// entry end them).
			d.cfg.Logger.Warn("ldap: more than one entry has this user name; kept as it was", zap.String("user", name), zap.String("url", d.cfg.URL))
			continue
		}
		if err != nil {
			d.pool.put(c, isNetwork(err))
			return d.unavailable(err)
		}
		if e == nil || e.GetAttributeValue(d.cfg.Attributes.Username) != name {
			if d.remember(name, nil) {
				gone = append(gone, name)
			}
			continue
		}
		groups, err := d.groups(c, e, name)
		if err != nil {
			d.pool.put(c, isNetwork(err))
			return d.unavailable(fmt.Errorf("refreshing %s: %w", name, err))
		}
		if d.remember(name, d.user(e, groups)) {
			gone = append(gone, name)
		}
	}
	d.pool.put(c, false)
	return nil
}
