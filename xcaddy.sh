#!/usr/bin/env bash
# Builds ./caddy with this checkout of caddy-mfa plugged in, the ordinary way
# (xcaddy with a local replace). `./xcaddy.sh run` then runs the demo in
# Caddyfile.example on http://localhost:8080 (user demo, password
# demo-password), on 127.0.0.1 only; `PORT=9090 ./xcaddy.sh run` takes another
# port. The demo keeps its state in .demo-data: delete it to start over.
set -euo pipefail
cd "$(dirname "$0")"

CADDY_VERSION="${CADDY_VERSION:-v2.11.9}"
XCADDY_VERSION="${XCADDY_VERSION:-v0.4.5}"
# xcaddy runs `go get` on the plugin; with a bare module path that asks the
# module proxy for its latest version. This placeholder version is never
# fetched: the replace points at this checkout.
MFA_PSEUDO_VERSION="v0.0.0-00010101000000-000000000000"

if ! command -v go >/dev/null 2>&1; then
	echo "xcaddy.sh: Go is required (https://go.dev/dl/)" >&2
	exit 1
fi
xcaddy="$(command -v xcaddy || true)"
if [ -z "$xcaddy" ]; then
	echo "xcaddy.sh: installing xcaddy $XCADDY_VERSION into ./bin" >&2
	GOBIN="$PWD/bin" go install "github.com/caddyserver/xcaddy/cmd/xcaddy@$XCADDY_VERSION"
	xcaddy="$PWD/bin/xcaddy"
fi

echo "xcaddy.sh: building caddy $CADDY_VERSION with github.com/caddy-mfa/caddy-mfa=. into ./caddy" >&2
"$xcaddy" build "$CADDY_VERSION" --with "github.com/caddy-mfa/caddy-mfa@$MFA_PSEUDO_VERSION=." --output ./caddy
./caddy list-modules | grep -qx 'http.handlers.mfa' || { echo "xcaddy.sh: the built caddy lacks the mfa module" >&2; exit 1; }

if [ "${1:-}" = run ]; then
	PORT="${PORT:-8080}"
	export PORT
	echo "xcaddy.sh: open http://localhost:${PORT} and sign in as demo / demo-password" >&2
	echo "xcaddy.sh: (guest / demo-password is outside staff and sees the no-access page;" >&2
	echo "xcaddy.sh:  listening on 127.0.0.1:${PORT} only; to start over, stop Caddy and delete .demo-data)" >&2
	exec ./caddy run --config Caddyfile.example --adapter caddyfile
fi
