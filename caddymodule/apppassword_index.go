package caddymodule

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// appPasswordIndexRetry is how long to wait before trying again to build
// the app-password index when the store cannot be reached, or the gateway
// is held by its start-up checks on Redis.
const appPasswordIndexRetry = time.Second

// errHeld is a build put off while the gateway is held (redis_gate.go).
var errHeld = errors.New("held by the start-up checks on Redis")

// buildAppPasswordIndex builds the store's app-password index once (see
// challenge.Engine.BuildAppPasswordIndex), trying again while the store
// cannot be reached. Until it is built, app passwords made before the
// index existed are checked against their accounts.
func (a *App) buildAppPasswordIndex(ctx context.Context) {
	for {
		// A gateway held by its start-up checks on Redis writes nothing.
		err := errHeld
		if a.gate.held() == nil {
			err = a.indexAppPasswords(ctx)
		}
		if err == nil {
			return
		}
		if err != errHeld {
			a.logger.Warn("app-password index not built yet; trying again", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(appPasswordIndexRetry):
		}
	}
}

// indexAppPasswords runs the index's build once, logging each account
// that cannot be read (its app passwords are then checked against the
// account, which fails until it is mended).
func (a *App) indexAppPasswords(ctx context.Context) error {
	return a.engine.BuildAppPasswordIndex(ctx, func(user string, err error) {
		a.logger.Error("app-password index: the account cannot be read; left out", zap.String("user", user), zap.Error(err))
	})
}
