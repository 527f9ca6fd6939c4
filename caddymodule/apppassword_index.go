package caddymodule

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// appPasswordIndexRetry is how long to wait before trying again to build
// the app-password index when the store cannot be reached, or the gateway
// is held by its start-up checks on Redis.
const appPasswordIndexRetry = time.Second

// buildAppPasswordIndex builds the store's app-password index once (see
// challenge.Engine.BuildAppPasswordIndex), trying again while the store
// cannot be reached. Until it is built, app passwords made before the
// index existed are checked against their accounts.
func (a *App) buildAppPasswordIndex(ctx context.Context) {
	every(ctx, appPasswordIndexRetry, true, func() bool {
		if a.gate.held() != nil {
			return false // a gateway held by its start-up checks on Redis writes nothing
		}
		err := a.indexAppPasswords(ctx)
		if err != nil {
			a.logger.Warn("app-password index not built yet; trying again", zap.Error(err))
		}
		return err == nil
	})
}

// indexAppPasswords runs the index's build once, logging each account
// that cannot be read (its app passwords are then checked against the
// account, which fails until it is mended).
func (a *App) indexAppPasswords(ctx context.Context) error {
	return a.engine.BuildAppPasswordIndex(ctx, func(user string, err error) {
		a.logger.Error("app-password index: the account cannot be read; left out", zap.String("user", user), zap.Error(err))
	})
}
