#!/usr/bin/env bash
# The hot-path load benchmark: builds Caddy with the plugin, starts one
# upstream (its own process), and measures with wrk, the same settings for
# every row, in interleaved rounds: the upstream directly, plain Caddy
# reverse_proxy, the floor (reverse_proxy that sets the identity headers and
# strips a gateway-named cookie), and Caddy + mfa (embedded stores, Redis,
# and an app password) with a signed-in client. Prints, per round and as
# medians, req/s, p50, p99, the CPU per request of Caddy, the upstream,
# redis-server and wrk, and each row's ratios to plain reverse_proxy and to
# the floor. Every run is bounded in time and request count and targets
# only 127.0.0.1.
#
#   bench/run.sh [-duration 10s] [-connections 16] [-rounds 3] [-redis URL|""] [-pprof DIR]
#                [-rows 2,3,6] [-app-password-per-user n/duration]
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	mkdir -p /tmp/caddy-mfa-redis
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
		--dir /tmp/caddy-mfa-redis --logfile /tmp/caddy-mfa-redis/redis.log
	sleep 0.5
fi

mkdir -p bin
go build -o bin/caddy-bench ./cmd/caddy
go run ./bench/loadtest -caddy bin/caddy-bench "$@"
