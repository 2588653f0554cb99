#!/usr/bin/env bash
# Release artefacts in dist/: a static bgdns binary per architecture
# (CGO_ENABLED=0, -trimpath, the version stamped), a Debian package per
# architecture built with dpkg-deb, and SHA256SUMS over all of them.
#
#   scripts/dist.sh                  # linux/amd64 and linux/arm64
#   DIST_ARCHES=amd64 scripts/dist.sh
#   scripts/dist.sh --deb-version v1.2.3-4-gabc   # prints 1.2.3+4.gabc-1
#
# VERSION, COMMIT and LDFLAGS come from the Makefile (make dist); run on its
# own, the script computes the same ones.
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
DIST=${DIST:-dist}
DIST_ARCHES=${DIST_ARCHES:-amd64 arm64}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
LDFLAGS=${LDFLAGS:-"-X github.com/bgdns/bgdns/buildinfo.version=$VERSION -X github.com/bgdns/bgdns/buildinfo.commit=$COMMIT"}
MAINTAINER=${MAINTAINER:-"bgdns maintainers <maintainers@bgdns.invalid>"}
# Release binaries carry no symbol table or DWARF (-s -w): a third smaller;
# panics still name functions and lines.
LDFLAGS="$LDFLAGS -s -w"

# debVersion maps a git describe version to a Debian one: v1.2.3 is 1.2.3,
# v1.2.3-4-gabc (4 commits past the tag) is 1.2.3+4.gabc, a pre-release
# v2.0.0-rc.1 is 2.0.0~rc.1 (before 2.0.0), an untagged 892d2dd is
# 0~git892d2dd, and -dirty becomes +dirty. The Debian revision is 1.
debVersion() {
	local v=${1#v} dirty=""
	case $v in
	*-dirty) v=${v%-dirty} dirty="+dirty" ;;
	esac
	# An untagged build is a bare commit hash (which may start with a digit).
	if [[ $v =~ ^[0-9a-f]{7,40}$ ]] || [[ ! $v =~ ^[0-9] ]]; then
		v="0~git$v"
	fi
	v=$(printf '%s' "$v" | sed -E 's/-([0-9]+)-g([0-9a-f]+)$/+\1.g\2/; s/-/~/g; s/[^A-Za-z0-9.+~]/./g')
	printf '%s%s-1' "$v" "$dirty"
}

# scripts/dist.sh --deb-version V prints the Debian version of V (tests).
if [ "${1:-}" = --deb-version ]; then
	debVersion "$2"
	echo
	exit 0
fi

for tool in "$GO" dpkg-deb sha256sum; do
	command -v "$tool" >/dev/null || { echo "dist: $tool is needed" >&2; exit 1; }
done

mkdir -p "$DIST"
rm -f "$DIST"/bgdns-linux-* "$DIST"/bgdns_*.deb "$DIST/SHA256SUMS"
debver=$(debVersion "$VERSION")
artefacts=()

for arch in $DIST_ARCHES; do
	bin="$DIST/bgdns-linux-$arch"
	echo "dist: building $bin ($VERSION)"
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$bin" ./cmd/bgdns
	artefacts+=("$(basename "$bin")")

	deb="bgdns_${debver}_$arch.deb"
	root=$(mktemp -d)
	chmod 0755 "$root"
	trap 'rm -rf "$root"' EXIT
	install -D -m 0755 "$bin" "$root/usr/bin/bgdns"
	install -D -m 0644 deploy/systemd/bgdns.service "$root/lib/systemd/system/bgdns.service"
	install -D -m 0640 deploy/etc/default.bgdns "$root/etc/default/bgdns"
	install -d -m 0750 "$root/etc/bgdns" "$root/etc/bgdns/tls"
	install -m 0640 deploy/etc/bgdns.yaml "$root/etc/bgdns/bgdns.yaml"
	install -D -m 0644 deploy/etc/sysusers.bgdns.conf "$root/usr/lib/sysusers.d/bgdns.conf"
	install -d -m 0755 "$root/usr/share/doc/bgdns"
	for doc in README.md docs/API.md docs/CLI.md docs/SECURITY.md docs/PACKAGING.md; do
		[ -f "$doc" ] && install -m 0644 "$doc" "$root/usr/share/doc/bgdns/"
	done
	install -d -m 0755 "$root/DEBIAN"
	for s in postinst prerm postrm; do
		install -m 0755 "deploy/debian/$s" "$root/DEBIAN/$s"
	done
	install -m 0644 deploy/debian/conffiles "$root/DEBIAN/conffiles"
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
		-e "s/@MAINTAINER@/$MAINTAINER/" deploy/debian/control.in >"$root/DEBIAN/control"
	(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
	chmod 0644 "$root/DEBIAN/md5sums"
	dpkg-deb --root-owner-group -Zxz --build "$root" "$DIST/$deb" >/dev/null
	rm -rf "$root"
	trap - EXIT
	echo "dist: built $DIST/$deb"
	artefacts+=("$deb")
done

(cd "$DIST" && sha256sum "${artefacts[@]}" >SHA256SUMS)
echo "dist: $DIST/SHA256SUMS"
cat "$DIST/SHA256SUMS"
