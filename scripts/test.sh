#!/bin/bash
# Build pg_standby with warnings as errors and run every test ("make
# installcheck": the pg_regress files in sql/ and the TAP tests in t/).
#
# The tests start PostgreSQL servers, which refuse to run as root.  Run as
# root, this script installs what is missing, then builds and tests a copy
# of the tree owned by the unprivileged "postgres" user.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

bash "$top/scripts/install-deps.sh"
build_dir=$(unprivileged_copy "$top" test)

run_unprivileged "$build_dir" make -s USE_PGXS=1 COPT=-Werror
run_unprivileged "$build_dir" make -s USE_PGXS=1 installcheck PROVE_FLAGS="--timer" || {
	status=$?
	for f in "$build_dir"/regression.diffs "$build_dir"/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "=== $f (last 40 lines)"; tail -40 "$f"; }
	done
	exit $status
}
