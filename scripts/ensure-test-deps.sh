#!/usr/bin/env bash
# Makes sure the tools `make test` runs against are installed: as root it
# installs what is missing (scripts/install-test-deps.sh); otherwise it
# stops, naming what is missing and the command that installs it. It never
# lets the tests run without them (they would only skip).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

need=(dig curl dd prometheus promtool chromium iptables)
missing=()
for tool in "${need[@]}"; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "ensure-test-deps: ${missing[*]} missing; installing the test dependencies"
	exec bash scripts/install-test-deps.sh
fi
echo "ensure-test-deps: the tests need ${missing[*]}, which are not installed." >&2
echo "ensure-test-deps: install them with:  sudo bash scripts/install-test-deps.sh" >&2
exit 1
