#!/bin/bash
# Benchmark 2: arrival latency.  pg_standby -s 5 waits for a segment in a
# standby-like working directory, with %p = pg_wal/RECOVERYXLOG as the
# server passes it; a real segment is renamed into the archive; the time
# from the rename to pg_standby's exit (the segment restored and checked).
# For comparison: pg_standby -s 1 with inotify made unavailable
# (bench/noinotify.c), which finds the segment by polling alone; and the
# average that polling every 1 s or 5 s gives, computed, not measured.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"
fixture

work=$BENCH_DIR/02
rm -rf "$work"
mkdir -p "$work/archive" "$work/stage"
cp -a "$FIXTURE/base" "$work/data"
touch "$work/data/recovery.signal"
echo "recovery_prefetch = off" >>"$work/data/postgresql.conf"
segment=$(ls "$FIXTURE/archive" | grep -E '^[0-9A-F]{24}$' | sed -n "$((BENCH_SEGMENTS / 2 + 1))p")
cp "$FIXTURE/archive/$segment" "$work/stage/$segment"
samples=$work/samples
log "02: arrival latency, $BENCH_REPS_ARRIVAL arrivals of $segment"

waiting="pg_standby -s 5, waiting, segment renamed into the archive"
present="pg_standby, segment already in the archive (restore cost)"
bench_perl arrival.pl --samples "$samples" --reps "$BENCH_REPS_ARRIVAL" \
	--label "$waiting" --present-label "$present" \
	--cwd "$work/data" --archive "$work/archive" --stage "$work/stage" \
	--segment "$segment" --log "$work/pg_standby.log" -- "$PG_STANDBY" -s 5
log "02: $BENCH_REPS_POLL arrivals found by polling (-s 1, inotify unavailable), each 0-1 s after the wait began"
bench_perl arrival.pl --samples "$samples" --reps "$BENCH_REPS_POLL" \
	--label "pg_standby -s 1, inotify unavailable (polling)" \
	--cwd "$work/data" --archive "$work/archive" --stage "$work/stage" \
	--segment "$segment" --log "$work/pg_standby.log" --no-inotify "$(noinotify_shim)" \
	--spread 1 -- "$PG_STANDBY" -s 1

# Polling every S seconds finds a segment S/2 after its arrival on
# average (median), plus the restore itself.
restore=$(perl -I"$bench_top/bench/perl" -MBench -e '
	my ($l, $v) = read_samples($ARGV[0]);
	printf "%.3f", summary(@{ $v->{$ARGV[1]} })->{median};' "$samples" "$present")
echo
echo "### 2. Arrival latency (pg_standby -s 5 waiting, segment renamed into the archive)"
echo
echo "Segment $segment; time from rename() into the archive to pg_standby's exit 0 (restored and checked)."
echo "\"segment already in the archive\": fork() to exit, for comparison.  The polling rows at the end are computed:"
echo "half the interval on average, plus the measured restore cost."
echo
bench_perl report.pl --baseline "$present" \
	--computed "polling every 1 s (classic -s 1)|$(awk "BEGIN { print 500 + $restore }")|computed, not measured: uniform 0–1000 + restore" \
	--computed "polling every 5 s (classic -s 5)|$(awk "BEGIN { print 2500 + $restore }")|computed, not measured: uniform 0–5000 + restore" \
	"$samples"
if [ -s "$work/pg_standby.log" ]; then
	echo
	echo "pg_standby's messages:"
	sort "$work/pg_standby.log" | uniq -c | sed 's/^/    /' | head -20
fi
