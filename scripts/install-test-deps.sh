#!/usr/bin/env bash
# Installs the Debian packages the DNS interop tests run against:
# dig (dnsutils), kdig (knot-dnsutils), NSD, unbound and Knot; and
# Prometheus (prometheus and promtool), which the metrics tests scrape with.
# systemd, whose systemd-analyze checks the packaged unit in make test-dist
# (it needs no running systemd). Chromium, which the status page tests
# drive headless.
# iptables, which the fault suite's network faults use.
# Idempotent: packages already present are left as they are.
#
# The daemons are only run by the tests, as child processes with their own
# configuration in a temporary directory; when this script installs them it
# keeps the package scripts from starting the system services.
set -euo pipefail

PKGS=(dnsutils knot-dnsutils nsd unbound knot curl prometheus systemd chromium iptables)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-test-deps: all of ${PKGS[*]} are installed"
	exit 0
fi

# Keep postinst scripts from starting nsd/unbound/knot on port 53 (and
# prometheus on 9090).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	created_policy=1
fi
cleanup() {
	if [ "$created_policy" -eq 1 ]; then
		$SUDO rm -f "$policy"
	fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing ${missing[*]}"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"

for tool in dig kdig nsd unbound knotd prometheus promtool systemd-analyze chromium iptables; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
		echo "install-test-deps: $tool missing after install" >&2
		exit 1
	}
done
echo "install-test-deps: done"
