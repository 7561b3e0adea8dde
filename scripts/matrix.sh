#!/bin/bash
# Build pg_standby and pg_standby_archive against another PostgreSQL major
# version than the host's, and run every test ("make installcheck": the
# pg_regress files and the TAP tests), inside a Debian root that has that
# version from Debian's own packages:
#   17  Debian stable (13, trixie)
#   18  Debian testing
# The host's own version (15 on Debian 12) is what scripts/test.sh tests.
#
# Usage: sudo bash scripts/matrix.sh VERSION [MAKE_VARIABLE=VALUE]...
#   e.g. sudo bash scripts/matrix.sh 18 REGRESS= PROVE_TESTS=t/040_archive_module.pl
#   (variables for "make installcheck": REGRESS= skips the pg_regress files,
#   PROVE_TESTS selects TAP tests)
#
# Needs root and the network the first time: the root comes from
# scripts/roots.sh, which says how it is built and cached.  Each run
# unpacks a fresh root, copies the tree into it, builds and tests it there
# as the "postgres" user, and removes the root; after a failure the test
# logs are kept in the cache directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

version=${1:-}
case $version in
	17 | 18) ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
esac
shift
for arg in "$@"; do
	case $arg in
		[A-Za-z_]*=*) ;;
		*) echo "matrix: not a make variable assignment: \"$arg\"" >&2; exit 2 ;;
	esac
done
make_args=
[ $# -eq 0 ] || make_args=$(printf ' %q' "$@")

say() { echo "matrix: PostgreSQL $version: $*"; }
die() { echo "matrix: PostgreSQL $version: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot and mounts need it)"
. "$top/scripts/roots.sh"

bindir=/usr/lib/postgresql/$version/bin
# Where the tree is built inside the root: the postgres user's home.
builddir=/var/lib/postgresql/pg_standby

start=$(date +%s)
new_root
copy_tree_into_root "$top" "$builddir"
say "root ready in $(elapsed "$start")"

in_root() { in_root_as "$builddir" postgres "$@"; }

# Keep what explains a failure after the root is gone.
keep_logs() {
	local logs=$cache/logs-$version f
	rm -rf "$logs"
	mkdir -p "$logs"
	# pg_regress: regression.diffs and log/; the TAP tests: tmp_check/log/
	[ -f "$root$builddir/regression.diffs" ] && cp "$root$builddir/regression.diffs" "$logs/"
	[ -d "$root$builddir/log" ] && cp -r "$root$builddir/log" "$logs/regress"
	[ -d "$root$builddir/tmp_check/log" ] && cp -r "$root$builddir/tmp_check/log" "$logs/tap"
	for f in "$root$builddir"/regression.diffs "$root$builddir"/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "=== ${f#"$root"} (last 40 lines)"; tail -40 "$f"; }
	done
	echo "matrix: PostgreSQL $version: the test logs are in $logs" >&2
}

found=$(in_root pg_config --version)
case $found in
	"PostgreSQL $version."*) say "testing with $found, $bindir/pg_config" ;;
	*) die "the root has \"$found\", not PostgreSQL $version" ;;
esac

start=$(date +%s)
in_root make -s USE_PGXS=1 PG_CONFIG="$bindir/pg_config" clean >/dev/null
in_root make -s USE_PGXS=1 PG_CONFIG="$bindir/pg_config" COPT=-Werror ||
	die "the build with -Werror failed"
say "built in $(elapsed "$start")"

start=$(date +%s)
in_root "make -s USE_PGXS=1 PG_CONFIG=$bindir/pg_config installcheck PROVE_FLAGS=--timer$make_args" ||
	{ keep_logs; die "tests failed"; }
rm -rf "$cache/logs-$version"
say "every test passed in $(elapsed "$start")"
