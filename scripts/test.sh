#!/bin/bash
# Build pg_standby with warnings as errors and run every test ("make
# installcheck": the pg_regress files in sql/ and the TAP tests in t/).
#
# Usage: bash scripts/test.sh [--sanitize] [MAKE_VARIABLE=VALUE]...
#   --sanitize  build with AddressSanitizer and UndefinedBehaviorSanitizer,
#               run the same tests, and fail if any sanitizer reported
#   e.g. bash scripts/test.sh REGRESS= PROVE_TESTS=t/002_direct_restore.pl
#   (variables for "make installcheck": REGRESS= skips the pg_regress files,
#   PROVE_TESTS selects TAP tests)
#
# The tests start PostgreSQL servers, which refuse to run as root.  Run as
# root, this script installs what is missing, then builds and tests a copy
# of the tree owned by the unprivileged "postgres" user.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

copt="-Werror"
purpose=test
if [ "${1:-}" = --sanitize ]; then
	copt="$copt -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
	purpose=sanitize
	shift
fi
for arg in "$@"; do
	case $arg in
		[A-Za-z_]*=*) ;;
		*) echo "test: not a make variable assignment: \"$arg\"" >&2; exit 2 ;;
	esac
done

bash "$top/scripts/install-deps.sh"
build_dir=$(unprivileged_copy "$top" "$purpose")

# Sanitizer reports go to files: pg_standby's stderr is a server log.
reports=$build_dir/sanitizer-reports
run_unprivileged "$build_dir" mkdir -p "$reports"
if [ "$purpose" = sanitize ]; then
	export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1"
fi

show_logs() {
	for f in "$build_dir"/regression.diffs "$build_dir"/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "=== $f (last 40 lines)"; tail -40 "$f"; }
	done
	return 0
}

# The tests of a really full pg_wal (t/063_full_pg_wal.pl) need a small
# file system, which only root can mount: mounted here, before the tests
# run unprivileged, and unmounted when this script ends.  Not root, or no
# mount allowed (a container): those tests are skipped and say so.
small_fs=$build_dir/small_fs
if [ "$(id -u)" = 0 ] && mkdir -p "$small_fs" &&
	mount -t tmpfs -o "size=48m,mode=0700,uid=$(id -u "$PG_STANDBY_USER")" \
		pg_standby_small_fs "$small_fs"; then
	trap 'umount "$small_fs"' EXIT
	export PG_STANDBY_SMALL_FS=$small_fs
else
	echo "test: no small file system mounted (needs root): full pg_wal tests will be skipped"
fi

run_unprivileged "$build_dir" make -s USE_PGXS=1 COPT="$copt"
# A sanitizer that finds an error ends the program with status 1, which a
# test sees as a failure: its report explains it.
show_reports() {
	[ -n "$(ls -A "$reports")" ] || return 1
	echo "test: sanitizer reports:"
	cat "$reports"/*
}
run_unprivileged "$build_dir" make -s USE_PGXS=1 installcheck PROVE_FLAGS="--timer" "$@" ||
	{ status=$?; show_logs; show_reports || true; exit $status; }

if show_reports; then
	exit 1
fi
