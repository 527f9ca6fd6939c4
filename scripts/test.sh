#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need
# (Debian's chromium and a Japanese font for the browser tests, redis-server for the Redis
# stores, started if none runs, slapd and ldap-utils for the LDAP tests, nginx for the
# verify endpoint's test), checks formatting and vet, then
# runs every test with the race detector. CI runs this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Japanese glyphs for the screenshots of the page audit (e2e/pages_audit_test.go).
fc-list :lang=ja 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# A real OpenLDAP server for the LDAP directory tests (internal/slapdtest).
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)
# A real nginx for the verify endpoint's auth_request test (e2e/verify_test.go),
# which starts its own on a free port.
[ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "test.sh: please install: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
		exit 1
	fi
	echo "test.sh: installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	# Debian starts the nginx it installs on port 80: the tests need none.
	if [[ " ${missing[*]} " == *" nginx "* ]]; then
		service nginx stop >/dev/null 2>&1 || pkill -x nginx || true
	fi
fi

# The store and limiter tests use the shared Redis on 127.0.0.1:6379 (each
# under its own key prefix); start one if none answers. Tests that stop Redis
# start their own redis-server on a free port.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	echo "test.sh: starting redis-server on 127.0.0.1:6379" >&2
	mkdir -p /tmp/caddy-mfa-redis
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
		--dir /tmp/caddy-mfa-redis --logfile /tmp/caddy-mfa-redis/redis.log
	for _ in $(seq 50); do
		redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "test.sh: redis-server did not start" >&2; exit 1; }
fi

unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
	echo "test.sh: gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
# Artefacts (the page audit's screenshots) are kept in test-artifacts/,
# which git ignores; each run starts it afresh.
artifacts="$PWD/test-artifacts"
rm -rf "$artifacts" && mkdir -p "$artifacts"
go test -race -count=1 -timeout 15m -artifacts -outputdir "$artifacts" "$@" ./...
