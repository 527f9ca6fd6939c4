package caddymodule

import (
	"context"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
)

// redisLog is go-redis's logger, which writes through Caddy's own
// (logger "mfa.redis") instead of plain text beside Caddy's JSON log.
// It holds nothing: each line asks caddy.Log() for the logger of the
// current configuration, so setting it again at every provisioning (go-redis
// keeps one logger for the whole process) changes nothing, and a reload
// or several apps do not matter.
type redisLog struct{}

// Printf implements go-redis's internal.Logging.
func (redisLog) Printf(_ context.Context, format string, v ...any) {
	caddy.Log().Named("mfa.redis").Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// routeRedisLog sends go-redis's lines to Caddy's log.
func routeRedisLog() { redis.SetLogger(redisLog{}) }
