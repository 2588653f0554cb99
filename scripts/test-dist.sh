#!/usr/bin/env bash
# Installs the amd64 Debian package into this machine with dpkg -i and
# checks it: files and modes, the bgdns user, systemd-analyze verify of the
# unit and its hardening, that every BGDNS_* variable of /etc/default/bgdns
# is a flag of `bgdns serve`, the stamped version of the installed binary,
# and that the installed node starts as the bgdns user from the installed
# configuration and serves; then removes and purges it and checks what is
# left. Needs root (CI is root on a fresh Debian machine), systemd-analyze
# (the systemd package) and curl; it runs without a running systemd.
#
#   make test-dist        (builds the package first)
#   scripts/test-dist.sh dist/bgdns_..._amd64.deb
set -euo pipefail

cd "$(dirname "$0")/.."
fail() { echo "test-dist: FAIL: $*" >&2; exit 1; }
ok() { echo "test-dist: ok: $*"; }

[ "$(id -u)" -eq 0 ] || fail "needs root: it installs the package into this machine (sudo make test-dist)"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing: apt-get install systemd (scripts/install-test-deps.sh)"

deb=${1:-$(ls -t dist/bgdns_*_amd64.deb 2>/dev/null | head -1)}
[ -f "$deb" ] || fail "no dist/bgdns_*_amd64.deb: run make dist DIST_ARCHES=amd64 first"
want_version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}

if dpkg-query -W -f='${Status}' bgdns 2>/dev/null | grep -q "install ok installed"; then
	fail "a bgdns package is already installed here; this test installs and purges its own"
fi

# The package's metadata.
[ "$(dpkg-deb -f "$deb" Package)" = bgdns ] || fail "Package is not bgdns"
[ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "Architecture is not amd64"
dpkg-deb -f "$deb" Version | grep -Eq '^[0-9][A-Za-z0-9.+~]*-1$' || fail "Version $(dpkg-deb -f "$deb" Version) is not a Debian version"
ok "metadata: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $(dpkg-deb -f "$deb" Architecture)"

cleanup() {
	if dpkg-query -W bgdns >/dev/null 2>&1; then
		dpkg --purge bgdns >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

dpkg -i "$deb" || fail "dpkg -i $deb"
ok "dpkg -i $deb"

# mode owner group path
check() {
	local want="$1 $2:$3" path=$4 got
	[ -e "$path" ] || fail "$path is not installed"
	got=$(stat -c '%a %U:%G' "$path")
	[ "$got" = "$want" ] || fail "$path is $got, want $want"
	ok "$path $got"
}
getent passwd bgdns >/dev/null || fail "no bgdns user after install"
[ "$(getent passwd bgdns | cut -d: -f7)" = /usr/sbin/nologin ] || fail "the bgdns user has a login shell"
ok "user $(getent passwd bgdns)"
check 755 root root /usr/bin/bgdns
check 644 root root /lib/systemd/system/bgdns.service
check 640 root root /etc/default/bgdns
check 750 root bgdns /etc/bgdns
check 750 root bgdns /etc/bgdns/tls
check 640 root bgdns /etc/bgdns/bgdns.yaml
check 644 root root /usr/lib/sysusers.d/bgdns.conf
check 644 root root /usr/share/doc/bgdns/README.md
check 644 root root /usr/share/doc/bgdns/PACKAGING.md
conffiles=$(dpkg-query -W -f='${Conffiles}' bgdns)
for f in /etc/default/bgdns /etc/bgdns/bgdns.yaml; do
	grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile"
done
ok "conffiles: /etc/default/bgdns /etc/bgdns/bgdns.yaml"
file -b /usr/bin/bgdns 2>/dev/null | grep -q "statically linked" && ok "static binary" || true

# The binary is the one stamped by the build.
got_version=$(/usr/bin/bgdns version 2>/dev/null | awk '$1 == "VERSION" { print $2; exit }') ||
	fail "bgdns version failed"
[ -n "$got_version" ] || fail "bgdns version printed no VERSION row: $(/usr/bin/bgdns version 2>&1 | head -3)"
[ "$got_version" = "$want_version" ] || fail "installed bgdns version is $got_version, want $want_version"
ok "bgdns version: $got_version"

# The node starts as the bgdns user from the installed configuration: the
# shipped /etc/bgdns/bgdns.yaml parses and is readable by the group, and a
# data directory owned by bgdns (what StateDirectory= makes) is enough.
# Loopback ports, so no TLS is needed; systemd itself is not running here.
data=$(mktemp -d)
chown bgdns:bgdns "$data"
chmod 0700 "$data"
base=$((20000 + RANDOM % 10000))
log=$(mktemp)
BGDNS_NODE_ID=pkgtest BGDNS_DATA_DIR="$data" BGDNS_BOOTSTRAP=true \
	BGDNS_DNS_ADDR=127.0.0.1:$base BGDNS_HTTP_ADDR=127.0.0.1:$((base + 1)) BGDNS_RAFT_ADDR=127.0.0.1:$((base + 2)) \
	setpriv --reuid=bgdns --regid=bgdns --init-groups --no-new-privs \
	/usr/bin/bgdns serve --config /etc/bgdns/bgdns.yaml >"$log" 2>&1 &
node=$!
ready=""
for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$((base + 1))/readyz" 2>/dev/null | grep -q '"ready"'; then
		ready=yes
		break
	fi
	kill -0 "$node" 2>/dev/null || break
	sleep 0.2
done
api_doc=$(curl -fsS "http://127.0.0.1:$((base + 1))/v1/openapi.json" 2>/dev/null | grep -o "\"openapi\":\"3\.1[.0-9]*\"" || true)
kill "$node" 2>/dev/null || true
wait "$node" 2>/dev/null || true
owner=$(find "$data" -mindepth 1 ! -user bgdns -printf '%p %u\n' | head -3)
[ -n "$ready" ] || { cat "$log" >&2; fail "the installed node did not become ready as the bgdns user"; }
[ -z "$owner" ] || fail "files in the data directory not owned by bgdns: $owner"
grep -q '"openapi":"3.1' <<<"$api_doc" || fail "the installed node does not serve /v1/openapi.json: $api_doc"
rm -rf "$data" "$log"
ok "the installed node starts as bgdns from /etc/bgdns/bgdns.yaml and serves"

# Every BGDNS_* variable the environment file (set or commented), the unit
# and the Containerfile name is a flag of bgdns serve, and so is every flag
# on the unit's ExecStart.
help=$(/usr/bin/bgdns serve --help)
vars=$( {
	grep -oE '^#?BGDNS_[A-Z_]+=' /etc/default/bgdns
	grep -oE 'BGDNS_[A-Z_]+=' /lib/systemd/system/bgdns.service deploy/container/Containerfile | cut -d: -f2
} | tr -d '#=' | sort -u)
[ -n "$vars" ] || fail "no BGDNS_ variables in /etc/default/bgdns"
for v in $vars; do
	flag=$(tr 'A-Z_' 'a-z-' <<<"${v#BGDNS_}")
	grep -qE -- "--$flag[ =]" <<<"$help" || fail "$v (--$flag) is not a flag of bgdns serve"
done
for flag in $(grep -E '^ExecStart=' /lib/systemd/system/bgdns.service | grep -oE -- '--[a-z-]+'); do
	grep -qE -- "$flag[ =]" <<<"$help" || fail "ExecStart flag $flag is not a flag of bgdns serve"
done
ok "every variable and ExecStart flag is a flag of bgdns serve ($(wc -w <<<"$vars") variables)"
# The config file ships with comments only and parses as YAML with known
# keys (bgdns serve --config reads it before it needs anything else).
if grep -vE '^\s*(#|$)' /etc/bgdns/bgdns.yaml; then
	fail "/etc/bgdns/bgdns.yaml ships with settings; it should hold comments only"
fi

# systemd's own check of the unit (syntax, the binary exists, the user and
# directives are known), then the hardening it must keep.
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify /lib/systemd/system/bgdns.service 2>&1) || {
	echo "$out" >&2
	fail "systemd-analyze verify bgdns.service"
}
if grep -i "bgdns.service" <<<"$out"; then
	fail "systemd-analyze verify reports on bgdns.service"
fi
ok "systemd-analyze verify bgdns.service"
unit=/lib/systemd/system/bgdns.service
for want in "User=bgdns" "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
	"StateDirectory=bgdns" "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_SYS_NICE" \
	"CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYS_NICE" "SystemCallFilter=@system-service" \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "EnvironmentFile=-/etc/default/bgdns"; do
	grep -qxF "$want" "$unit" || fail "$unit lacks $want"
done
if grep -E '^ExecStart=.*--(api-token|join-token|tls-key)' "$unit"; then
	fail "a secret on the unit's command line"
fi
ok "unit hardening"
# systemd's exposure score of the hardening (lower is better; 10 is
# unhardened). Needs no running service with --offline.
score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
	sed -nE 's/.*Overall exposure level for [^:]*: ([0-9]+(\.[0-9]+)?).*/\1/p') || true
[ -n "$score" ] || fail "systemd-analyze security --offline gave no exposure level"
awk -v s="$score" 'BEGIN { exit !(s + 0 <= 3.0) }' || fail "systemd-analyze security rates the unit $score (want at most 3.0)"
ok "systemd-analyze security: exposure $score"

# Remove: the binary and unit go, the conffiles and /etc/bgdns stay.
dpkg -r bgdns >/dev/null || fail "dpkg -r bgdns"
[ ! -e /usr/bin/bgdns ] || fail "/usr/bin/bgdns is left after dpkg -r"
[ ! -e /lib/systemd/system/bgdns.service ] || fail "the unit is left after dpkg -r"
[ -e /etc/bgdns/bgdns.yaml ] || fail "dpkg -r removed the conffile /etc/bgdns/bgdns.yaml"
ok "dpkg -r: binary and unit removed, configuration kept"

# Purge: the configuration goes too.
dpkg --purge bgdns >/dev/null || fail "dpkg --purge bgdns"
for f in /etc/default/bgdns /etc/bgdns/bgdns.yaml /etc/bgdns /usr/lib/sysusers.d/bgdns.conf /usr/share/doc/bgdns; do
	[ ! -e "$f" ] || fail "$f is left after dpkg --purge"
done
! dpkg-query -W bgdns >/dev/null 2>&1 || [ "$(dpkg-query -W -f='${db:Status-Status}' bgdns 2>/dev/null)" = not-installed ] ||
	fail "dpkg still knows bgdns after purge"
ok "dpkg --purge: nothing of the package is left"
echo "test-dist: PASS"
