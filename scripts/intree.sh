#!/bin/bash
# Build and test pg_standby as a contrib module inside PostgreSQL 17's
# source tree, in the Debian stable root (13, trixie), both ways
# PostgreSQL builds:
#   meson   configure with meson (zlib, lz4 and zstd enabled, every other
#           optional feature off), build with ninja, "meson test --suite
#           setup --suite pg_standby" (the pg_regress files and the TAP
#           tests, registered by meson.build)
#   make    ./configure --with-lz4 --with-zstd (in a build directory of
#           its own), make, then "make check" in contrib/pg_standby
#
# Usage: sudo bash scripts/intree.sh [meson|make]...   (default: both)
#
# The source is Debian's: "apt-get source postgresql-17" in the root, from
# the mirror the root was built from (a deb-src line for it; no other
# network), kept as a tarball in the roots' cache and fetched again after
# 7 days like the roots (scripts/roots.sh).  Our tree is copied into
# contrib/pg_standby and added to contrib/meson.build and contrib/Makefile.
# Builds and tests run as the "postgres" user, without network.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

ways=()
for arg in "$@"; do
	case $arg in
		meson | make) ways+=("$arg") ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
	esac
done
[ ${#ways[@]} -gt 0 ] || ways=(meson make)

version=17
say() { echo "intree: PostgreSQL $version: $*"; }
die() { echo "intree: PostgreSQL $version: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot and mounts need it)"
. "$top/scripts/common.sh"
. "$top/scripts/roots.sh"

source_tarball=$cache/postgresql-$version-source.tar
# The source tree inside the root, and meson's and make's build directories
# in it.
home=/var/lib/postgresql
srcdir=$home/postgresql-$version

# Fetch and unpack Debian's source package in the root (as root: apt
# needs it) and keep the unpacked tree as a tarball.
fetch_source() {
	local mirror suite start
	start=$(date +%s)
	mirror=$(root_mirror)
	suite=$(root_suite "$version")
	echo "deb-src $mirror $suite main" >"$root/etc/apt/sources.list.d/pg_standby-src.list"
	in_root_as /root root "mkdir -p /root/src && cd /root/src &&
		apt-get -o Acquire::Check-Valid-Until=false update -q &&
		apt-get source -q postgresql-$version" >"$cache/source-$version.log" 2>&1 ||
		{ tail -20 "$cache/source-$version.log" >&2; return 1; }
	(cd "$root/root/src" && tar -cf "$source_tarball.tmp" --transform="s,^postgresql-$version-[^/]*,postgresql-$version," \
		postgresql-$version-*/) || return 1
	mv "$source_tarball.tmp" "$source_tarball"
	rm -rf "$root/root/src" "$root/etc/apt/sources.list.d/pg_standby-src.list"
	say "source fetched in $(elapsed "$start")"
}

start=$(date +%s)
new_root
exec 8>"$cache/postgresql-$version-source.lock"
flock 8
if [ ! -s "$source_tarball" ] || [ -n "$(find "$source_tarball" -mmin +$((max_age * 24 * 60)))" ]; then
	fetch_source || [ -s "$source_tarball" ] || die "could not fetch the source of PostgreSQL $version"
fi
flock -u 8
tar -xf "$source_tarball" -C "$root$home"
copy_tree_into_root "$top" "$srcdir/contrib/pg_standby"
# contrib lists its subdirectories in alphabetical order in both files;
# where exactly ours goes does not matter to either.
sed -i "/^subdir('pg_stat_statements')/i subdir('pg_standby')" "$root$srcdir/contrib/meson.build"
sed -i 's/^\(\t\tpg_stat_statements\)/\t\tpg_standby\t\\\n\1/' "$root$srcdir/contrib/Makefile"
grep -q "^subdir('pg_standby')" "$root$srcdir/contrib/meson.build" &&
	grep -q "^		pg_standby	" "$root$srcdir/contrib/Makefile" ||
	die "could not add pg_standby to contrib/meson.build and contrib/Makefile"
chroot "$root" chown -R postgres:postgres "$srcdir"
say "source tree ready in $(elapsed "$start")"

root_offline=1
in_tree() { in_root_as "$srcdir" postgres "$@"; }
jobs=$(nproc)

# Keep what explains a failure after the root is gone.
keep_logs() {
	local logs=$cache/intree-logs-$1
	rm -rf "$logs"
	mkdir -p "$logs"
	cp -r "$root$srcdir/$2" "$logs/" 2>/dev/null || true
	echo "intree: the logs are in $logs" >&2
}

for way in "${ways[@]}"; do
	case $way in
		meson)
			start=$(date +%s)
			in_tree "meson setup build-meson --auto-features=disabled \
				-Dzlib=enabled -Dlz4=enabled -Dzstd=enabled -Dtap_tests=enabled \
				-Ddocs=disabled -Dllvm=disabled >build-meson.log 2>&1" ||
				{ tail -30 "$root$srcdir/build-meson.log"; die "meson setup failed"; }
			grep -E "^ +(zlib|lz4|zstd) +:" "$root$srcdir/build-meson/meson-logs/meson-log.txt" | sort -u || true
			say "meson: configured in $(elapsed "$start")"
			start=$(date +%s)
			in_tree "ninja -C build-meson -j $jobs >>build-meson.log 2>&1" ||
				{ tail -30 "$root$srcdir/build-meson.log"; die "ninja failed"; }
			say "meson: built in $(elapsed "$start")"
			start=$(date +%s)
			in_tree "meson test -C build-meson -q --print-errorlogs --num-processes $jobs \
				--suite setup --suite pg_standby" ||
				{ keep_logs meson build-meson/testrun/pg_standby; die "meson test failed"; }
			say "meson: meson test --suite pg_standby passed in $(elapsed "$start")"
			;;
		make)
			start=$(date +%s)
			in_tree "mkdir -p build-make && cd build-make &&
				../configure --with-lz4 --with-zstd --without-readline --without-icu \
				--enable-tap-tests >../build-make.log 2>&1" ||
				{ tail -30 "$root$srcdir/build-make.log"; die "configure failed"; }
			say "make: configured in $(elapsed "$start")"
			start=$(date +%s)
			in_tree "make -C build-make -s -j $jobs >>build-make.log 2>&1" ||
				{ tail -30 "$root$srcdir/build-make.log"; die "make failed"; }
			say "make: built in $(elapsed "$start")"
			start=$(date +%s)
			in_tree "make -C build-make/contrib/pg_standby -s check PROVE_FLAGS=--timer" ||
				{ keep_logs make build-make/contrib/pg_standby; die "make check failed"; }
			say "make: make check in contrib/pg_standby passed in $(elapsed "$start")"
			;;
	esac
done
