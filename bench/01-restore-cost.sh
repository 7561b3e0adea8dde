#!/bin/bash
# Benchmark 1: the cost of restoring one segment that is already in the
# archive (16 MiB, page cache warm, the output removed before each run),
# as the server runs restore_command: in a data directory, to
# pg_wal/RECOVERYXLOG.  pg_standby vs cp run directly, cp through "sh -c"
# (what the server does with restore_command = 'cp ...') and pgBackRest's
# archive-get from a local repository without compression.  One more row:
# pg_standby with inotify made unavailable (bench/noinotify.c), to show
# what setting up inotify costs a restore that never waits.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"
fixture

work=$BENCH_DIR/01
rm -rf "$work"
mkdir -p "$work"
# A standby-like working directory: the base backup (global/pg_control,
# PG_VERSION), in archive recovery.
cp -a "$FIXTURE/base" "$work/data"
touch "$work/data/recovery.signal"
echo "recovery_prefetch = off" >>"$work/data/postgresql.conf"

# A segment from the middle of the workload.
segment=$(ls "$FIXTURE/archive" | grep -E '^[0-9A-F]{24}$' | sed -n "$((BENCH_SEGMENTS / 2 + 1))p")
arch=$FIXTURE/archive
conf=$FIXTURE/pgbackrest-none.conf
samples=$work/samples
log "01: restore cost of $segment, $BENCH_REPS_RESTORE runs per method"

bench_perl measure.pl --samples "$samples" --reps "$BENCH_REPS_RESTORE" \
	--cwd "$work/data" --out pg_wal/RECOVERYXLOG \
	-m "pg_standby" "$PG_STANDBY" "$arch" "$segment" pg_wal/RECOVERYXLOG ';;' \
	-m "pg_standby, inotify unavailable (LD_PRELOAD shim)" -e LD_PRELOAD="$(noinotify_shim)" \
	"$PG_STANDBY" "$arch" "$segment" pg_wal/RECOVERYXLOG ';;' \
	-m "cp" /bin/cp "$arch/$segment" pg_wal/RECOVERYXLOG ';;' \
	-m "sh -c 'cp …'" /bin/sh -c "cp $arch/$segment pg_wal/RECOVERYXLOG" ';;' \
	-m "pgbackrest archive-get" /usr/bin/pgbackrest --config="$conf" --stanza=bench \
	--pg1-path="$work/data" archive-get "$segment" pg_wal/RECOVERYXLOG ';;'

echo
echo "### 1. Restore cost of one present 16 MiB segment"
echo
echo "Segment $segment of the pgbench workload, restored to pg_wal/RECOVERYXLOG in a"
echo "copy of the base backup (archive recovery); $BENCH_REPS_RESTORE runs per method, round-robin in random order, page cache warm;"
echo "wall-clock time from fork() to the end of waitpid()."
echo
bench_perl report.pl --baseline cp "$samples"
