#!/bin/bash
# Build the Debian packages of pg_standby for a PostgreSQL major version
# in a Debian root that has it, check them with lintian, install them in a
# fresh root, run the tests against the installed files there, then purge
# them and check that nothing of theirs is left:
#   15  Debian 12 (bookworm)
#   17  Debian stable (13, trixie)
#   18  Debian testing
#
# Usage: sudo bash scripts/package.sh VERSION... [MAKE_VARIABLE=VALUE]...
#   e.g. sudo bash scripts/package.sh 15 17 18
#        sudo bash scripts/package.sh 17 REGRESS= PROVE_TESTS=t/001_command_line.pl
#   (variables for the installed-package tests, debian/tests/installcheck)
#
# The packages are built from the tracked files of the tree (as a clean
# checkout has them, with their contents in the working tree) with
# "dpkg-buildpackage -us -uc" and no network; the .deb files are left in
# $PG_STANDBY_PACKAGE_DIR (default /var/tmp/pg_standby-packages).  The
# roots come from scripts/roots.sh, which says how they are built and
# cached; each step prints how long it took.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

versions=()
test_args=()
for arg in "$@"; do
	case $arg in
		15 | 17 | 18) versions+=("$arg") ;;
		-h | --help) usage; exit 0 ;;
		[A-Za-z_]*=*) test_args+=("$arg") ;;
		*) usage >&2; exit 2 ;;
	esac
done
[ ${#versions[@]} -gt 0 ] || { usage >&2; exit 2; }

version=
say() { echo "package: PostgreSQL $version: $*"; }
die() { echo "package: PostgreSQL $version: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot and mounts need it)"
. "$top/scripts/common.sh"
. "$top/scripts/roots.sh"

out=${PG_STANDBY_PACKAGE_DIR:-/var/tmp/pg_standby-packages}
# Where the source is built and tested inside a root.
srcdir=/var/lib/postgresql/pg-standby
# Nothing in a root reaches the network: the mirror was needed only to
# build its tarball.
root_offline=1

# The tree's tracked files, as build_packages took them, at $srcdir in
# the root, owned by postgres.
unpack_source() {
	mkdir -p "$root$srcdir"
	tar -xf "$out/source-$version.tar" -C "$root$srcdir"
	chroot "$root" chown -R postgres:postgres "$(dirname "$srcdir")"
}

# Build the packages in a fresh root and copy them to $out/$version.
build_packages() {
	local start
	start=$(date +%s)
	new_root
	# The same snapshot is built here and tested in test_packages.
	git -C "$top" ls-files -z | (cd "$top" && tar --null -T - -cf "$out/source-$version.tar")
	unpack_source
	say "build root ready in $(elapsed "$start")"

	# debian/control names the binary packages of the versions supported
	# where it was last updated; here it must name this root's.
	start=$(date +%s)
	# -Werror: a warning with this major's headers fails here, as in
	# scripts/test.sh (pg_buildext passes CFLAGS to the build as COPT).
	in_root_as "$srcdir" postgres \
		"pg_buildext updatecontrol >/dev/null && DEB_CFLAGS_APPEND=-Werror dpkg-buildpackage -us -uc" \
		>"$out/build-$version.log" 2>&1 ||
		{ tail -40 "$out/build-$version.log"; die "dpkg-buildpackage failed (log: $out/build-$version.log)"; }
	say "packages built in $(elapsed "$start") (log: $out/build-$version.log)"

	start=$(date +%s)
	# Every warning is fixed or overridden with a reason
	# (debian/source/lintian-overrides, debian/*.lintian-overrides).
	in_root_as "$srcdir" postgres \
		"lintian --fail-on error,warning --display-info ../pg-standby_*.changes" ||
		die "lintian found errors or warnings"
	say "lintian passed in $(elapsed "$start")"

	rm -rf "$out/$version"
	mkdir -p "$out/$version"
	cp "$root$(dirname "$srcdir")"/*.deb "$out/$version/"
	remove_root "$root"
	ls "$out/$version"
}

# Install the packages in a fresh root, run the tests against them,
# purge them and check that nothing of theirs is left.
test_packages() {
	local start package list left args
	start=$(date +%s)
	new_root
	mkdir -p "$root/tmp/debs"
	cp "$out/$version"/*.deb "$root/tmp/debs/"
	package=postgresql-$version-pg-standby
	in_root_as / root "dpkg -i /tmp/debs/${package}_*.deb" >/dev/null ||
		die "dpkg -i $package failed"
	list=$(in_root_as / root "dpkg -L $package")
	for f in /usr/lib/postgresql/$version/bin/pg_standby \
		/usr/lib/postgresql/$version/lib/pg_standby_archive.so \
		/usr/share/postgresql/$version/man/man1/pg_standby.1.gz \
		/usr/share/doc/$package/README.pg_standby.gz; do
		grep -qx "$f" <<<"$list" || die "$package does not install $f"
	done
	say "installed in a fresh root in $(elapsed "$start"): $(grep -c . <<<"$list") paths"

	# The source tree the packages were built from, for the tests, as
	# autopkgtest has it; nothing in it is built.
	start=$(date +%s)
	unpack_source
	args=
	[ ${#test_args[@]} -eq 0 ] || args=$(printf ' %q' "${test_args[@]}")
	in_root_as "$srcdir" root "debian/tests/installcheck$args" ||
		die "the tests against the installed package failed"
	say "tests against the installed package passed in $(elapsed "$start")"

	start=$(date +%s)
	in_root_as / root "apt-get remove --purge -y -q $package" >/dev/null ||
		die "apt-get remove --purge $package failed"
	# What is still there and no other package owns (directories such as
	# /usr/lib/postgresql/NN/bin are the server's too) was left behind.
	grep -vx /. <<<"$list" >"$root/tmp/$package.list"
	left=$(in_root_as / root "while read -r f; do
			[ -e \"\$f\" ] || continue
			dpkg -S \"\$f\" >/dev/null 2>&1 || echo \"\$f\"
		done </tmp/$package.list")
	[ -z "$left" ] || die "left behind after apt-get remove --purge: $left"
	say "removed, nothing left behind, in $(elapsed "$start")"
	remove_root "$root"
}

mkdir -p "$out"
for version in "${versions[@]}"; do
	build_packages
	test_packages
done
