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
# Needs root (mmdebstrap, chroot, mounts) and the network the first time.
# The root is built with mmdebstrap from the Debian mirror the host's apt
# uses (or PG_STANDBY_MATRIX_MIRROR) and kept as a tarball in
# /var/tmp/pg_standby-matrix (PG_STANDBY_MATRIX_CACHE).  A tarball older
# than 7 days (PG_STANDBY_MATRIX_MAX_AGE) is rebuilt, so that the tests
# follow the point releases; if rebuilding fails, the old one is used.
# Each run unpacks a fresh root from the tarball, copies the tree into it,
# builds and tests it there as the "postgres" user, and removes the root;
# after a failure the test logs are kept in the cache directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

version=${1:-}
case $version in
	17) suite=stable ;;
	18) suite=testing ;;
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

cache=${PG_STANDBY_MATRIX_CACHE:-/var/tmp/pg_standby-matrix}
max_age=${PG_STANDBY_MATRIX_MAX_AGE:-7}
tarball=$cache/postgresql-$version.tar
bindir=/usr/lib/postgresql/$version/bin
# Where the tree is built inside the root: the postgres user's home.
builddir=/var/lib/postgresql/pg_standby
mkdir -p "$cache"

elapsed() { echo "$(($(date +%s) - $1)) s"; }

# Build the tarball of the root.  Only the Debian packages: the tree is
# copied in at each run.
build_root() {
	local mirror start aptopts=()
	mirror=${PG_STANDBY_MATRIX_MIRROR:-$(host_mirror)}
	[ -n "$mirror" ] || { echo "matrix: no Debian mirror found in the host's apt sources" >&2; return 1; }
	if ! command -v mmdebstrap >/dev/null; then
		echo "matrix: installing mmdebstrap"
		DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null ||
			return 1
	fi
	# testing's Release files may be older than their Valid-Until on a
	# snapshot mirror
	if [ "$suite" = testing ]; then
		aptopts=(--aptopt='Acquire::Check-Valid-Until "false"')
	fi
	start=$(date +%s)
	say "building a Debian $suite root with PostgreSQL $version from $mirror (log: $cache/mmdebstrap-$version.log)"
	# The same build and test dependencies as scripts/install-deps.sh, for
	# this version, and procps (ps, kill) for looking into a failed run.
	mmdebstrap --variant=apt --format=tar "${aptopts[@]}" \
		--include="postgresql-$version,postgresql-server-dev-$version,build-essential,libipc-run-perl,zlib1g-dev,liblz4-dev,libzstd-dev,gzip,lz4,zstd,procps" \
		"$suite" "$tarball.tmp" "deb $mirror $suite main" \
		>"$cache/mmdebstrap-$version.log" 2>&1 ||
		{ tail -20 "$cache/mmdebstrap-$version.log" >&2; rm -f "$tarball.tmp"; return 1; }
	mv "$tarball.tmp" "$tarball"
	say "root built in $(elapsed "$start")"
}

# One tarball per version; another run for the same version waits here
# while it is built.
exec 9>"$cache/postgresql-$version.lock"
flock 9
if [ ! -s "$tarball" ]; then
	build_root || die "could not build the Debian $suite root"
elif [ -n "$(find "$tarball" -mmin +$((max_age * 24 * 60)))" ]; then
	say "the root is older than $max_age days: rebuilding it"
	build_root || say "warning: rebuilding failed, using the old root"
fi
flock -u 9

# ---------------------------------------------------------------------------
# A fresh root for this run, removed at the end.
root=$(mktemp -d "$cache/root-$version.XXXXXX")
mounts=(proc sys dev dev/pts dev/shm)

# Processes still running inside the root: the tests' servers, if a test
# failed before stopping them.  Each run has its own root, so they are ours.
stop_processes() {
	local pids=() p link signal
	for p in /proc/[0-9]*; do
		link=$(readlink "$p/root" 2>/dev/null) || continue
		[ "$link" = "$root" ] && pids+=("${p#/proc/}")
	done
	[ ${#pids[@]} -eq 0 ] && return 0
	# TERM lets a server shut down and release its shared memory; what is
	# still there after 5 seconds is killed.
	for signal in TERM KILL; do
		kill -"$signal" "${pids[@]}" 2>/dev/null || true
		for _ in $(seq 50); do
			alive "${pids[@]}" || return 0
			sleep 0.1
		done
	done
}

# Is any of these processes still running (not gone, not a zombie)?
alive() {
	local p state
	for p in "$@"; do
		state=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		[ "${state%% *}" != Z ] && return 0
	done
	return 1
}

cleanup() {
	local status=$? i
	trap - EXIT INT TERM
	stop_processes
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		if mountpoint -q "$root/${mounts[i]}"; then
			umount -l "$root/${mounts[i]}" || true
		fi
	done
	# Never remove anything under a mount that is still there: that could
	# be the host's /dev.
	if grep -q " $root/" /proc/mounts; then
		echo "matrix: PostgreSQL $version: $root still has mounts: not removed" >&2
	else
		rm -rf --one-file-system "$root"
	fi
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
tar -xf "$tarball" -C "$root"
# As ../shared/tools/fresh-machine does; rslave keeps unmounting here from
# reaching the host's own mounts.
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mount --bind /dev "$root/dev"
mount --make-slave "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs shm "$root/dev/shm"

# The tree as it is (also what is not committed yet), without what a build
# against the host's version left behind.
mkdir -p "$root$builddir"
(cd "$top" && tar --exclude=./.git --exclude='*.o' --exclude='*.bc' \
	--exclude='*.so' --exclude=./pg_standby --exclude=./tmp_check \
	--exclude=./tmp_regress --exclude=./tmp_fuzz --exclude=./results \
	--exclude=./log --exclude=./regression.diffs --exclude=./regression.out \
	-cf - .) | tar -xf - -C "$root$builddir"
chroot "$root" chown -R postgres:postgres "$builddir"
say "root ready in $(elapsed "$start")"

# Run a command in the tree inside the root, as postgres, with this
# version's programs first on PATH.  In the background, so that a signal
# to this script is handled at once, not once the tests are over.
in_root() {
	chroot --userspec=postgres:postgres "$root" /usr/bin/env -i \
		HOME=/var/lib/postgresql LANG=C.UTF-8 TERM=dumb \
		PATH="$bindir:/usr/local/bin:/usr/bin:/bin" \
		/bin/bash -c "cd $builddir && $*" &
	wait $!
}

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
