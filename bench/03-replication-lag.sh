#!/bin/bash
# Benchmark 3: replication lag end to end through the archive.  A primary
# archives with an atomic cp (copy, rename); a standby in standby mode
# restores from the archive.  Commit a row, pg_switch_wal(), time until the
# row is visible on the standby.  pg_standby with default settings (and
# with recovery_prefetch = off) vs PostgreSQL's own standby mode with
# restore_command = 'cp ...' and wal_retrieve_retry_interval 5 s (the
# default) and 1 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"

work=$BENCH_DIR/03
primary_port=54611
standby_port=54612
pg_stop "$work/standby" immediate
pg_stop "$work/primary" immediate
rm -rf "$work"
mkdir -p "$work/archive"
arch=$work/archive
new_primary "$work/primary" $primary_port "$(atomic_cp_archive_command "$arch")"
pg_start "$work/primary"
sql $primary_port -c "CREATE TABLE lag (id int PRIMARY KEY, at timestamptz DEFAULT now())"
pg_basebackup -h "$SOCK" -p $primary_port -D "$work/base" -X none -c fast --no-sync
samples=$work/samples

run_config() {
	local label=$1 restore_command=$2
	shift 2
	log "03: $label"
	new_standby "$work/base" "$work/standby" $standby_port standby "$restore_command" "$@"
	pg_start "$work/standby"
	bench_perl lag.pl --samples "$samples" --label "$label" --reps "$BENCH_REPS_LAG" \
		--spread "$BENCH_LAG_SPREAD" --socket "$SOCK" --primary $primary_port --standby $standby_port
	pg_stop "$work/standby"
}

run_config "pg_standby (defaults)" "$PG_STANDBY $arch %f %p"
run_config "pg_standby, recovery_prefetch = off" "$PG_STANDBY $arch %f %p" "recovery_prefetch = off"
run_config "cp, wal_retrieve_retry_interval = 5s (default)" "cp $arch/%f %p"
run_config "cp, wal_retrieve_retry_interval = 1s" "cp $arch/%f %p" "wal_retrieve_retry_interval = 1s"
pg_stop "$work/primary"

echo
echo "### 3. Replication lag through the archive (commit → visible on the standby)"
echo
echo "Standby mode (standby.signal), no streaming; the primary archives with an atomic cp."
echo "$BENCH_REPS_LAG commits per configuration, each after a random pause of 0–$BENCH_LAG_SPREAD s;"
echo "time from INSERT (autocommit) + pg_switch_wal() on the primary to the row being visible on the standby (polled every 1 ms)."
echo
bench_perl report.pl --baseline "cp, wal_retrieve_retry_interval = 5s (default)" "$samples"
