#!/bin/bash
# Benchmark 4: failover time, from the trigger to the first successful
# INSERT on the new primary.  pg_standby's smart and fast triggers, in
# archive recovery (recovery.signal) and in standby mode (standby.signal),
# vs PostgreSQL's standby mode with restore_command = 'cp ...', promoted
# by "pg_ctl promote" and by promote_trigger_file.  Each failover uses a
# fresh standby from the same base backup, which has replayed either a
# little WAL ("small") or a table load of BENCH_LARGE_MB ("large") without
# a restartpoint, so that the end-of-recovery checkpoint of archive
# recovery has that much to write and sync.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"

work=$BENCH_DIR/04
primary_port=54621
standby_port=54622
pg_stop "$work/standby" immediate
pg_stop "$work/primary" immediate
rm -rf "$work"
mkdir -p "$work/archive"
new_primary "$work/primary" $primary_port "$(atomic_cp_archive_command "$work/archive")"
pg_start "$work/primary"
sql $primary_port -c "CREATE TABLE t (id int)" -c "CREATE TABLE big (id int, filler text)"
pg_basebackup -h "$SOCK" -p $primary_port -D "$work/base" -X none -c fast --no-sync

log "04: WAL for the small and the large case (table load of $BENCH_LARGE_MB MB)"
sql $primary_port -c "INSERT INTO t SELECT generate_series(1, 1000)"
small_lsn=$(switch_and_archive $primary_port)
cp -al "$work/archive" "$work/archive-small"
sql $primary_port -c "INSERT INTO big SELECT g, repeat('x', 1000) FROM generate_series(1, $BENCH_LARGE_MB * 1000) g"
large_lsn=$(switch_and_archive $primary_port)
large_size=$(sql $primary_port -c "SELECT pg_size_pretty(pg_table_size('big'))")
large_wal=$(sql $primary_port -c "SELECT pg_size_pretty('$large_lsn'::pg_lsn - '$small_lsn'::pg_lsn)")
pg_stop "$work/primary"

samples=$work/samples
methods=(pgs-smart-archive pgs-fast-archive pgs-smart-standby pgs-fast-standby pg_ctl-promote promote_trigger_file)
declare -A label=(
	[pgs-smart-archive]="pg_standby smart (touch), archive recovery"
	[pgs-fast-archive]="pg_standby fast (echo fast >), archive recovery"
	[pgs-smart-standby]="pg_standby smart (touch), standby mode"
	[pgs-fast-standby]="pg_standby fast (echo fast >), standby mode"
	[pg_ctl-promote]="pg_ctl promote, standby mode, cp"
	[promote_trigger_file]="promote_trigger_file, standby mode, cp"
)

trial() {
	local method=$1 size=$2 data=$work/standby trig=$work/trigger
	local arch=$work/archive-$size target=$small_lsn
	[ "$size" = large ] && { arch=$work/archive; target=$large_lsn; }
	rm -f "$trig"
	local mode=standby restore="cp $arch/%f %p" trigger extra=() wait=()
	case $method in
		pgs-smart-archive | pgs-fast-archive)
			mode=archive
			restore="$PG_STANDBY -t $trig $arch %f %p"
			extra=("recovery_prefetch = off")
			wait=(--pg-standby) ;;
		pgs-smart-standby | pgs-fast-standby)
			restore="$PG_STANDBY -t $trig $arch %f %p"
			wait=(--pg-standby) ;;
		promote_trigger_file)
			extra=("promote_trigger_file = '$trig'") ;;
	esac
	case $method in
		*-smart-* | promote_trigger_file) trigger=touch:$trig ;;
		*-fast-*) trigger=fast:$trig ;;
		pg_ctl-promote) trigger=promote ;;
	esac
	new_standby "$work/base" "$data" $standby_port $mode "$restore" \
		"shared_buffers = 512MB" "${extra[@]}"
	pg_start "$data"
	bench_perl failover.pl --samples "$samples" --label "${label[$method]}, $size" \
		--socket "$SOCK" --port $standby_port --datadir "$data" --target-lsn "$target" \
		--spread "$BENCH_FAILOVER_SPREAD" --trigger "$trigger" "${wait[@]}"
	pg_stop "$data" immediate
	mv "$data.log" "$work/log-$method-$size-$(date +%s%N).log"
	rm -rf "$data"
}

for size in small large; do
	for ((rep = 1; rep <= BENCH_REPS_FAILOVER; rep++)); do
		for method in $(printf '%s\n' "${methods[@]}" | shuf); do
			log "04: $method, $size, $rep of $BENCH_REPS_FAILOVER"
			trial "$method" "$size"
		done
	done
done

# Report the sizes in order: small, then large, methods in the order above.
ordered=$work/samples.ordered
: >"$ordered"
for size in small large; do
	for method in "${methods[@]}"; do
		awk -F '\t' -v m="${label[$method]}, $size" '$1 == m' "$samples" >>"$ordered"
	done
done
echo
echo "### 4. Failover time (trigger → first successful INSERT)"
echo
echo "$BENCH_REPS_FAILOVER failovers per method and size, each on a fresh standby (shared_buffers = 512MB) from one base backup;"
echo "small: 1000 rows replayed; large: also a table load of $large_size ($large_wal of WAL) replayed, no restartpoint since."
echo "Trigger after the standby has caught up (and pg_standby waits), plus a random pause of 0–$BENCH_FAILOVER_SPREAD s."
echo "pg_standby in archive recovery with recovery_prefetch = off (as its README requires), in standby mode with the defaults."
echo
bench_perl report.pl --baseline "${label[pg_ctl-promote]}, small" "$ordered"
