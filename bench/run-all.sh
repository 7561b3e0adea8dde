#!/bin/bash
# Run every benchmark in bench/ ("make USE_PGXS=1 bench"); never part of
# the tests.  Prints the machine, the parameters and each benchmark's
# table, as Markdown; a copy goes to $BENCH_DIR/results.md.
#
# Usage: bash bench/run-all.sh          (about 15 minutes on 2 cores)
#        QUICK=1 bash bench/run-all.sh  (tiny counts: to try the scripts)
# Every count and size is an environment variable: see bench/lib.sh.
# Started as root, it installs what is missing (pgbackrest, DBD::Pg, ...)
# and runs as user postgres in a copy of the tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Benchmark 7 compares with rsync; it can install it only while root.
if [ "$(id -u)" = 0 ] && ! command -v rsync >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rsync >/dev/null
fi
bench_init "$0" "$@"

stop_bench_servers
[ -n "${BENCH_REUSE:-}" ] || rm -rf "${BENCH_DIR:?}"/*
mkdir -p "$SOCK"
results=$BENCH_DIR/results.md
start=$(date +%s)

{
	echo "## Machine and run"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- /tmp: $(findmnt -n -o FSTYPE,SOURCE --target /tmp | tr -s ' ') ($(df -h --output=size /tmp | tail -1 | tr -d ' ') total)"
	echo "- kernel: $(uname -sr)"
	echo "- PostgreSQL: $(postgres --version); pgBackRest: $(pgbackrest version | sed 's/pgBackRest //')"
	echo "- load before: $(uptime | sed 's/.*load average/load average/')"
	echo "- parameters: QUICK=${QUICK:-} $(env | grep -E '^BENCH_(SCALE|SEGMENTS|REPS|LAG|LARGE|FAILOVER|ARCHIVE)' | sort | tr '\n' ' ')"
} | tee "$results"

for script in 01-restore-cost 02-arrival-latency 03-replication-lag 04-failover \
	05-catch-up 06-compressed 07-archive-throughput 08-server-settings 10-verify; do
	bash "$bench_top/bench/$script.sh" | tee -a "$results"
done

{
	echo
	echo "- load after: $(uptime | sed 's/.*load average/load average/')"
	echo "- total time: $(($(date +%s) - start)) s"
} | tee -a "$results"
