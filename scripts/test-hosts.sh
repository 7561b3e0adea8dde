#!/bin/bash
# The tests across hosts (t/hosts/): network namespaces joined by a bridge,
# sshd, sshfs, rsync over ssh and servers in them.  Making namespaces needs
# root, so these tests are not part of "make installcheck" (which runs as
# the unprivileged user): run as root, this script builds pg_standby as that
# user and runs them with "make installcheck-hosts", as root; the servers in
# them run as that user.  Not root, or no namespaces: every test file says
# why it skips.
#
# Usage: bash scripts/test-hosts.sh [TEST_FILE]...   (default: all of t/hosts)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

if [ "$(id -u)" = 0 ]; then
	bash "$top/scripts/install-deps.sh"
fi
build_dir=$(unprivileged_copy "$top" hosts)
run_unprivileged "$build_dir" make -s USE_PGXS=1 COPT=-Werror

cd "$build_dir"
if [ $# -gt 0 ]; then
	make -s USE_PGXS=1 installcheck-hosts HOSTS_TESTS="$*"
else
	make -s USE_PGXS=1 installcheck-hosts
fi
