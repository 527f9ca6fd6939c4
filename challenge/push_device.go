package challenge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// MethodPush is an app notification: a prompt on the user's phone that asks
// for the number the sign-in page shows (number matching).
const MethodPush = "push"

// pushEnrolTTL is how long a topic offered at registration waits to be
// confirmed by a first approved prompt.
const pushEnrolTTL = 15 * time.Minute

// pushContext binds a sealed topic to its user.
func pushContext(user string) string { return user + "\x00push" }

// PushReady reports whether app notifications are allowed and have a notifier.
func (e *Engine) PushReady() bool { return e.MethodEnabled(MethodPush) && e.Notifier != nil }

// PushTopic opens the topic of user's registered phone; ok is false if the
// user has none.
func (e *Engine) PushTopic(a *store.Account) (string, bool, error) {
	if a == nil || a.Push == nil {
		return "", false, nil
	}
	t, err := e.openTopic(a.User, a.Push.Topic)
	return t, err == nil, err
}

func (e *Engine) openTopic(user string, sealed []byte) (string, error) {
	b, err := e.Keys.Open(sealed, pushContext(user))
	if err != nil {
		return "", fmt.Errorf("opening push topic of %q (was storage_key changed?): %w", user, err)
	}
	return string(b), nil
}

func pushEnrolKey(session string) string { return "push-enrol:" + session }

// PendingPushTopic is the topic offered to user, in the session tagged
// session, to subscribe to at registration: the same one on every visit of
// the page, a fresh one after pushEnrolTTL.
func (e *Engine) PendingPushTopic(ctx context.Context, user, session string) (string, error) {
	raw, err := e.KV.Get(ctx, pushEnrolKey(session))
	if err == nil {
		if t, err := e.openTopic(user, raw); err == nil {
			return t, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: reading push registration: %w", store.ErrUnavailable, err)
	}
	t, err := push.NewTopic()
	if err != nil {
		return "", fmt.Errorf("making a push topic: %w", err)
	}
	sealed, err := e.Keys.Seal([]byte(t), pushContext(user))
	if err != nil {
		return "", fmt.Errorf("sealing push topic: %w", err)
	}
	// Stored only if no page of this session stored one meanwhile: pages
	// opened at once show one topic, the one the test prompt goes to.
	created, err := e.KV.Create(ctx, pushEnrolKey(session), sealed, pushEnrolTTL)
	if err != nil {
		return "", fmt.Errorf("%w: saving push registration: %w", store.ErrUnavailable, err)
	}
	if !created {
		raw, err := e.KV.Get(ctx, pushEnrolKey(session))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("%w: reading push registration: %w", store.ErrUnavailable, err)
		}
		if err == nil {
			if won, err := e.openTopic(user, raw); err == nil {
				return won, nil
			}
		}
		// What is stored cannot be opened (or expired just now): replace it.
		if err := e.KV.Set(ctx, pushEnrolKey(session), sealed, pushEnrolTTL); err != nil {
			return "", fmt.Errorf("%w: saving push registration: %w", store.ErrUnavailable, err)
		}
	}
	return t, nil
}

// AddPush registers the phone subscribed to topic for user, with Added and
// LastUsed now, replacing any earlier one. If it is the user's first second
// factor, recovery codes are made too and returned, to be shown once.
func (e *Engine) AddPush(ctx context.Context, user, topic string, firstOnly bool) ([]string, error) {
	if !push.ValidTopic(topic) {
		return nil, fmt.Errorf("registering push: malformed topic")
	}
	sealed, err := e.Keys.Seal([]byte(topic), pushContext(user))
	if err != nil {
		return nil, fmt.Errorf("sealing push topic: %w", err)
	}
	now := e.Now()
	return e.addMethod(ctx, user, firstOnly, "push registration", func(a *store.Account) error {
		a.Push = &store.Push{Topic: sealed, Added: now, LastUsed: now}
		return nil
	})
}

// pushUsed records a sign-in approved on user's registered phone.
func (e *Engine) pushUsed(ctx context.Context, user, topic string) error {
	now := e.Now()
	return e.updateAccount(ctx, user, "recording push sign-in", func(a *store.Account) error {
		if a.Push == nil {
			return ErrBadCode
		}
		if t, err := e.openTopic(user, a.Push.Topic); err != nil || t != topic {
			// Registered again since the prompt went out.
			return ErrBadCode
		}
		a.Push.LastUsed, a.LastSignIn = now, now
		return nil
	})
}
