#!/bin/bash
# Benchmark 5: catch-up.  A fresh standby from the fixture's base backup
# replays the archived backlog of the pgbench workload (at least
# BENCH_SEGMENTS segments of 16 MiB); time from "pg_ctl start" until it
# has replayed all of it.  Standby mode, default settings; restore_command
# pg_standby vs cp vs pgBackRest archive-get (repository without
# compression).  One more row: pg_standby with inotify made unavailable
# (bench/noinotify.c), to show what setting up inotify costs each restore.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"
fixture

work=$BENCH_DIR/05
port=54632
pg_stop "$work/standby" immediate
rm -rf "$work"
mkdir -p "$work"
samples=$work/samples
arch=$FIXTURE/archive
data=$work/standby
segno() { echo $(((16#${1:8:8} << 8) + 16#${1:16:8})); }	# 16 MiB segments
nseg=$(($(segno "$FIXTURE_END_SEGMENT") - $(segno "$FIXTURE_START_SEGMENT") + 1))
declare -A restore=(
	[pg_standby]="$PG_STANDBY $arch %f %p"
	[pg_standby, inotify unavailable (LD_PRELOAD shim)]="LD_PRELOAD=$(noinotify_shim) $PG_STANDBY $arch %f %p"
	[cp]="cp $arch/%f %p"
	[pgbackrest archive-get]="pgbackrest --config=$FIXTURE/pgbackrest-none.conf --stanza=bench --pg1-path=$data archive-get %f \"%p\""
)
methods=("pg_standby" "pg_standby, inotify unavailable (LD_PRELOAD shim)" "cp" "pgbackrest archive-get")

# Warm the page cache with the archive, as it is for the later rounds.
cat "$arch"/0* >/dev/null
for ((rep = 1; rep <= BENCH_REPS_CATCHUP; rep++)); do
	while read -r method; do
		log "05: $method, $rep of $BENCH_REPS_CATCHUP ($nseg segments)"
		new_standby "$FIXTURE/base" "$data" $port standby "${restore[$method]}"
		bench_perl catchup.pl --samples "$samples" --label "$method" --socket "$SOCK" \
			--port $port --datadir "$data" --target-lsn "$FIXTURE_TARGET_LSN"
		pg_stop "$data" immediate
		rm -rf "$data"
	done < <(printf '%s\n' "${methods[@]}" | shuf)
done

# Report in a fixed order.
ordered=$work/samples.ordered
: >"$ordered"
for method in "${methods[@]}"; do
	awk -F '\t' -v m="$method" '$1 == m' "$samples" >>"$ordered"
done
echo
echo "### 5. Catch-up: replay of an archived backlog by a fresh standby"
echo
echo "$nseg segments ($FIXTURE_START_SEGMENT … $FIXTURE_END_SEGMENT, $((nseg * 16)) MiB) from pgbench -i -s $BENCH_SCALE and updates;"
echo "standby mode, default settings, from the base backup taken before the workload; time from pg_ctl start to"
echo "pg_last_wal_replay_lsn() ≥ $FIXTURE_TARGET_LSN.  $BENCH_REPS_CATCHUP replays per method, in random order."
echo
bench_perl report.pl --baseline cp "$ordered"
