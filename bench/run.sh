#!/usr/bin/env bash
# The hot-path load benchmark: builds Caddy with the plugin, starts one
# upstream, and measures in one run, with wrk and the same settings, the
# upstream directly, plain Caddy reverse_proxy, and Caddy + mfa (embedded
# stores, and Redis) with a signed-in client. Prints req/s, p50 and p99 and
# each row's ratio to plain reverse_proxy. Every run is bounded in time and
# request count and targets only 127.0.0.1.
#
#   bench/run.sh [-duration 10s] [-connections 16] [-runs 2] [-redis URL|""]
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
