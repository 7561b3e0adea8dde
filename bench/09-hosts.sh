#!/bin/bash
# Benchmark 9: lag across two hosts per topology, beside PostgreSQL's own
# standby mode with cp over the same sshfs mount and beside streaming
# replication over the same link, and catch-up after a 20 s outage (see
# bench/perl/hosts.pl).  The hosts are network namespaces, so it needs
# root; not part of run-all.sh, which runs as the unprivileged user.
# About 5 minutes.  BENCH_HOSTS_SAMPLES (default 15), BENCH_HOSTS_OUTAGE
# (seconds, default 20).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"
if [ "$(id -u)" != 0 ]; then
	echo "09: skipped: the hosts are network namespaces, which need root"
	exit 0
fi
bash "$top/scripts/install-deps.sh"
build_dir=$(unprivileged_copy "$top" bench-hosts)
run_unprivileged "$build_dir" make -s USE_PGXS=1
# the program and module just built, as scripts/test-hosts.sh gives them
TESTDIR=$build_dir PG_BINDIR=$(pg_config --bindir) PG_STANDBY_HOSTS_TIMEOUT=1200 \
	PG_STANDBY_PROGRAM=$build_dir/pg_standby \
	PG_STANDBY_MODULE=$build_dir/pg_standby_archive \
	perl "$build_dir/bench/perl/hosts.pl"
