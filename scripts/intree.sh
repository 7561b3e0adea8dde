#!/bin/bash
# Build and test pg_standby as a contrib module inside PostgreSQL 17's
# source tree, in the Debian stable root (13, trixie), both ways
# PostgreSQL builds, building the server once:
#   meson   configure with meson (zlib, lz4 and zstd enabled, every other
#           optional feature off, no optimization), build with ninja,
#           "meson test --suite setup --suite pg_standby" (the pg_regress
#           files and the TAP tests, registered by meson.build, on the
#           temporary installation of the whole tree)
#   make    ./configure with the same options in a build directory of its
#           own; of the tree, only the generated headers, src/port,
#           src/common and src/fe_utils, then "make" in contrib/pg_standby;
#           "make installcheck" there (the pg_regress files and three TAP
#           tests) against the server meson built, installed in the
#           prefix both are configured with: building the server a
#           second time with make would double the time and test nothing
#           of ours.
#
# Usage: sudo bash scripts/intree.sh
#
# Each step prints how long it took, and the processor time the builds
# used.  The source is Debian's: "apt-get source postgresql-17" in the
# root, from the mirror the root was built from (a deb-src line for it; no
# other network), kept as a tarball in the roots' cache, fetched again
# when it is missing or older than 7 days like the roots (scripts/roots.sh).  Our tree is copied into contrib/pg_standby
# and added to contrib/meson.build and contrib/Makefile.  Builds and tests
# run as the "postgres" user, without network.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

case ${1:-} in
	"") ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
esac

version=17
say() { echo "intree: PostgreSQL $version: $*"; }
die() { echo "intree: PostgreSQL $version: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot and mounts need it)"
. "$top/scripts/common.sh"
. "$top/scripts/roots.sh"

source_tarball=$cache/postgresql-$version-source.tar
# The source tree inside the root; meson's and make's build directories
# are beside it, in postgres's home: configure mirrors every directory of
# the source tree into its build directory, which took minutes when
# meson's build directory, with its test data, was inside it.
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
	say "source fetched: $(elapsed "$start")"
}

start=$(date +%s)
new_root
say "root unpacked: $(elapsed "$start")"
start=$(date +%s)
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
say "source tree ready: $(elapsed "$start")"

root_offline=1
in_tree() { in_root_as "$home" postgres "$@"; }
jobs=$(nproc)

# Keep what explains a failure after the root is gone.
keep_logs() {
	local logs=$cache/intree-logs-$1
	rm -rf "$logs"
	mkdir -p "$logs"
	cp -r "$root$home/$2" "$logs/" 2>/dev/null || true
	echo "intree: the logs are in $logs" >&2
}

# Run step $1 (its name) as the shell command $2, as postgres in its home
# (where the source tree and both build directories are), its output in
# the log $3; on failure show the log's end and stop.  Besides the
# time it took, print the processor time it used: on a machine that
# others load too, that divided by the number of cores is what the
# step would take alone.
step() {
	local start cpu
	start=$(date +%s)
	# "times": the shell's own processor time, then that of the processes
	# it waited for, as user and system time, "1m2.345s 0m6.789s"
	in_tree "($2) >>$3 2>&1; status=\$?; times >step-cpu; exit \$status" ||
		{ tail -30 "$root$home/$3" >&2; die "$1 failed (log: $3)"; }
	cpu=$(awk 'NR == 2 {
			for (i = 1; i <= NF; i++) { sub(/s$/, "", $i); split($i, t, "m"); cpu += t[1] * 60 + t[2] }
			printf "%d", cpu
		}' "$root$home/step-cpu")
	say "$1: $(elapsed "$start") (processor time: $cpu s)"
}

# Both builds install into this prefix ("pgsql" in it keeps both from
# adding "postgresql" to the library and data directories), and both
# have the same features: zlib, lz4 and zstd, which pg_standby uses, and
# nothing else that can be left out.  No optimization: the build is what
# takes time, and the tests wait for servers far more than they compute.
prefix=$home/pgsql-$version

step "meson: meson setup" "meson setup build-meson postgresql-$version --prefix=$prefix --libdir=lib \
	--buildtype=plain --auto-features=disabled -Dssl=none \
	-Dzlib=enabled -Dlz4=enabled -Dzstd=enabled -Dtap_tests=enabled" build-meson.log
grep -E "^ +(zlib|lz4|zstd|icu|readline|ssl|llvm) +: (YES|NO)" "$root$home/build-meson.log" || true
step "meson: ninja" "ninja -C build-meson -j $jobs" build-meson.log
start=$(date +%s)
in_tree "meson test -C build-meson -q --print-errorlogs --num-processes $jobs \
	--suite setup --suite pg_standby" ||
	{ keep_logs meson build-meson/testrun/pg_standby; die "meson test failed"; }
say "meson: meson test --suite setup --suite pg_standby: $(elapsed "$start")"

step "make: configure" "mkdir -p build-make && cd build-make && ../postgresql-$version/configure --prefix=$prefix \
	--without-icu --without-readline --with-lz4 --with-zstd --enable-tap-tests CFLAGS=-O0" \
	build-make.log
grep -E "^(with_zlib|LIBS) " "$root$home/build-make/src/Makefile.global" || true
# What contrib/pg_standby needs of the tree, which contrib's makefiles
# expect built already: the generated headers, then the libraries
# pg_standby links.
step "make: generated headers, src/port, src/common, src/fe_utils" \
	"make -C build-make/src/backend generated-headers &&
	for dir in src/port src/common src/fe_utils; do make -C build-make/\$dir -j $jobs || exit; done" \
	build-make.log
step "make: make in contrib/pg_standby" "make -C build-make/contrib/pg_standby -j $jobs" build-make.log
step "meson install (the server for make installcheck)" \
	"meson install -C build-meson --no-rebuild --quiet" build-meson.log
# The make build's own risks are its flags and links, not the code the
# meson run has just tested: so the pg_regress files (the module, and
# pg_standby as restore_command), the command line, and the TAP tests
# that fail unless pg_standby (t/050) and pg_standby_archive (t/041) were
# built with gzip, lz4 and zstd; not every TAP test a second time.
start=$(date +%s)
in_tree "make -C build-make/contrib/pg_standby -j $jobs installcheck PROVE_FLAGS=--timer \
	PROVE_TESTS='t/001_command_line.pl t/041_archive_forms.pl t/050_compressed_archive.pl'" ||
	{ keep_logs make build-make/contrib/pg_standby; die "make installcheck failed"; }
say "make: make installcheck in contrib/pg_standby: $(elapsed "$start")"
