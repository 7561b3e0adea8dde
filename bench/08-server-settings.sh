#!/bin/bash
# Benchmark 8: what asking the server for a setting ("postgres -C", see
# serverconf.c) costs on the waiting path.  pg_standby asks only when a
# segment is absent and it is about to wait: in standby mode for
# primary_conninfo, and for recovery_prefetch.  A running server's data
# directory (postmaster.opts written by its postmaster), a segment absent
# from an empty archive:
#   - postgres -C recovery_prefetch, run directly: the price of one question;
#   - pg_standby as another caller than the server (no question asked,
#     answers 1 at once): the baseline, a process that decides and exits;
#   - pg_standby in standby mode with primary_conninfo set: one question,
#     then it answers 1 at once so that the server streams.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"

work=$BENCH_DIR/08
port=54608
rm -rf "$work"
mkdir -p "$work/archive"
new_primary "$work/data" $port "true"
echo "primary_conninfo = 'host=$SOCK port=1'" >>"$work/data/postgresql.conf"
pg_start "$work/data"
# pg_standby reads the mode from the signal file; the running server read
# its own at start, so this one does not change it.
touch "$work/data/standby.signal"

segment=000000010000000100000001
samples=$work/samples
postgres=$(command -v postgres)
log "08: the cost of asking the server, $BENCH_REPS_RESTORE runs per method"
bench_perl measure.pl --samples "$samples" --reps "$BENCH_REPS_RESTORE" \
	--cwd "$work/data" --out pg_wal/RECOVERYXLOG \
	-m "pg_standby, no question (not the server's restore path)" -x 1 \
	"$PG_STANDBY" "$work/archive" "$segment" pg_wal/OTHER ';;' \
	-m "postgres -C recovery_prefetch" -x 0 -o "$work/setting.out" "$postgres" -D . -C recovery_prefetch ';;' \
	-m "pg_standby, standby mode, asks primary_conninfo" -x 1 \
	"$PG_STANDBY" "$work/archive" "$segment" pg_wal/RECOVERYXLOG ';;'
rm -f "$work/data/standby.signal"
pg_stop "$work/data"

echo
echo "### 8. The cost of asking the server for a setting"
echo
echo "A running PostgreSQL 15 server's data directory; segment $segment absent"
echo "from the archive; $BENCH_REPS_RESTORE runs per method, round-robin in random order;"
echo "wall-clock time from fork() to the end of waitpid()."
echo
bench_perl report.pl "$samples"
