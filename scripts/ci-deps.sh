#!/usr/bin/env bash
# Installs what building and testing bgdns needs on a fresh Debian machine,
# other than the DNS tools (scripts/install-test-deps.sh installs those):
# make, git, a C toolchain (go test -race needs cgo) and CA certificates for
# the Go module proxy. Checks that Go is installed. Idempotent.
set -euo pipefail

export PATH="/usr/local/go/bin:$PATH"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

PKGS=(make git gcc libc6-dev ca-certificates)
missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "ci-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
	echo "ci-deps: all of ${PKGS[*]} are installed"
fi

if ! command -v go >/dev/null 2>&1; then
	echo "ci-deps: go not found (expected at /usr/local/go/bin; see go.mod for the version)" >&2
	exit 1
fi
echo "ci-deps: $(go version)"
