# Helpers shared by the benchmark scripts in bench/.  Sourced, not run.
#
# The benchmarks start PostgreSQL 15 servers, which refuse to run as root.
# Started as root, a script installs what is missing, builds pg_standby in
# a copy of the tree owned by "postgres" (scripts/common.sh) and runs
# itself again there as that user.
#
# Every size and count can be changed through the environment; QUICK=1
# makes them tiny, to try the scripts out (its numbers mean nothing).

bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$bench_top/scripts/common.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
export PATH="$PG_BIN:$PATH"

# Parameters: NAME=default, or the QUICK=1 value.
bench_param() {
	local name=$1 full=$2 quick=$3
	if [ -z "${!name:-}" ]; then
		if [ -n "${QUICK:-}" ]; then
			printf -v "$name" '%s' "$quick"
		else
			printf -v "$name" '%s' "$full"
		fi
	fi
	export "$name"
}
bench_param BENCH_DIR /tmp/pg_standby-bench-work /tmp/pg_standby-bench-work
bench_param BENCH_SCALE 60 2			# pgbench -i scale of the fixture's workload
bench_param BENCH_SEGMENTS 64 4			# archived segments in the backlog (at least)
bench_param BENCH_REPS_RESTORE 30 3		# 01 and 06: restores per method
bench_param BENCH_REPS_ARRIVAL 30 3		# 02: arrivals
bench_param BENCH_REPS_POLL 10 2		# 02: arrivals found by polling (-s 1)
bench_param BENCH_REPS_LAG 8 2			# 03: commits per configuration
bench_param BENCH_LAG_SPREAD 5 1		# 03: random pause before each commit, 0..N s
bench_param BENCH_REPS_FAILOVER 3 1		# 04: failovers per method and size
bench_param BENCH_LARGE_MB 250 16		# 04: table loaded before the "large" failovers
bench_param BENCH_FAILOVER_SPREAD 5 1	# 04: random pause before the trigger, 0..N s
bench_param BENCH_REPS_CATCHUP 3 1		# 05: replays per method

# Variables passed on when the script runs itself again as postgres.
bench_env() {
	env | grep -E '^(QUICK|PG_BIN|BENCH_[A-Z0-9_]*)=' || true
}

# Run the calling script as the unprivileged user, in a built copy of the
# tree.  Returns only in that copy, as that user, with $PG_STANDBY set.
bench_init() {
	local script=$1
	shift
	if [ "$(id -u)" = 0 ]; then
		bash "$bench_top/scripts/install-deps.sh"
		bench_install_deps
		local copy
		copy=$(unprivileged_copy "$bench_top" bench)
		run_unprivileged "$copy" make -s USE_PGXS=1 >/dev/null
		# shellcheck disable=SC2046
		exec runuser -u "$PG_STANDBY_USER" -- env PATH="$PATH" $(bench_env) \
			BENCH_BUILT=1 bash "$copy/bench/$(basename "$script")" "$@"
	fi
	if [ -z "${BENCH_BUILT:-}" ]; then
		bench_install_deps
		(cd "$bench_top" && make -s USE_PGXS=1 >/dev/null)
		export BENCH_BUILT=1
	fi
	PG_STANDBY=$bench_top/pg_standby
	export PG_STANDBY
	mkdir -p "$BENCH_DIR"
	SOCK=$BENCH_DIR/sock
	mkdir -p "$SOCK"
	export SOCK
	trap stop_bench_servers EXIT
}

# pgBackRest for the comparisons, DBD::Pg for the timing scripts.
bench_install_deps() {
	local missing=() p
	for p in pgbackrest libdbd-pg-perl; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "bench: missing packages: ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
}

bench_perl() {
	perl -I"$bench_top/bench/perl" "$bench_top/bench/perl/$1" "${@:2}"
}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------- servers

# psql against the server listening on port $1.
sql() {
	local port=$1
	shift
	psql -X -q -A -t -h "$SOCK" -p "$port" -d postgres -v ON_ERROR_STOP=1 "$@"
}

# new_primary DATADIR PORT ARCHIVE_COMMAND: initdb and configure a primary
# that archives; not started.
new_primary() {
	local data=$1 port=$2 archive_command=$3
	rm -rf "$data"
	initdb -D "$data" -A trust -U postgres --no-sync >/dev/null
	cat >>"$data/postgresql.conf" <<CONF
# bench/lib.sh
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = $port
wal_level = replica
archive_mode = on
archive_command = '$archive_command'
max_wal_size = 4GB
checkpoint_timeout = 1h
log_line_prefix = '%m [%p] '
log_checkpoints = on
CONF
}

# The atomic archive_command the README recommends (copy, then rename).
atomic_cp_archive_command() {
	local archive=$1
	echo "test -f $archive/%f || { cp %p $archive/%f.tmp && mv $archive/%f.tmp $archive/%f; }"
}

pg_start() { pg_ctl -D "$1" -l "$1.log" -w -t 600 start >/dev/null; }
pg_stop() { pg_ctl -D "$1" -m "${2:-fast}" -w -t 600 stop >/dev/null 2>&1 || true; }

# new_standby TEMPLATE DATADIR PORT MODE RESTORE_COMMAND [CONF_LINE]...:
# a fresh copy of a base backup, set up to recover from the archive in
# MODE "standby" (standby.signal) or "archive" (recovery.signal); not
# started.  A standby never archives: a promoted one must not put its new
# timeline into the archive the next standby reads.
new_standby() {
	local template=$1 data=$2 port=$3 mode=$4 restore_command=$5
	shift 5
	rm -rf "$data" "$data.log"
	cp -a "$template" "$data"
	{
		echo "# bench/lib.sh: standby"
		echo "port = $port"
		echo "archive_mode = off"
		echo "restore_command = '$restore_command'"
		for line in "$@"; do
			echo "$line"
		done
	} >>"$data/postgresql.conf"
	if [ "$mode" = standby ]; then
		touch "$data/standby.signal"
	else
		touch "$data/recovery.signal"
	fi
}

# Wait until the archiver has archived segment $2 of the server on port $1.
wait_archived() {
	local port=$1 segment=$2 i
	for ((i = 0; i < 6000; i++)); do
		[ "$(sql "$port" -c "SELECT coalesce(last_archived_wal, '') >= '$segment' FROM pg_stat_archiver")" = t ] &&
			return 0
		sleep 0.05
	done
	echo "bench: segment $segment was never archived" >&2
	exit 1
}

# Switch to a new segment and wait for the old one to be archived; print
# the LSN just before the switch (all of it is in the archive then).
switch_and_archive() {
	local port=$1 lsn segment
	lsn=$(sql "$port" -c "SELECT pg_current_wal_lsn()")
	segment=$(sql "$port" -c "SELECT pg_walfile_name(pg_switch_wal())")
	wait_archived "$port" "$segment"
	echo "$lsn"
}

# pgBackRest configuration FILE with repository $2, compress-type $3, for
# the primary DATADIR $4 on port $5; everything under $BENCH_DIR/pgbackrest.
pgbackrest_config() {
	local file=$1 repo=$2 compress=$3 data=$4 port=$5
	local base=$BENCH_DIR/pgbackrest
	mkdir -p "$base/lock" "$base/log" "$base/spool" "$repo"
	cat >"$file" <<CONF
[global]
repo1-path=$repo
lock-path=$base/lock
log-path=$base/log
spool-path=$base/spool
compress-type=$compress
start-fast=y
log-level-console=warn
log-level-stderr=warn

[bench]
pg1-path=$data
pg1-socket-path=$SOCK
pg1-port=$port
CONF
}

# --------------------------------------------------------------- fixture
#
# Shared by 01, 02, 05 and 06: a primary that archives into a plain
# directory and into a pgBackRest repository (no compression), a base
# backup taken before a pgbench workload, and the archived backlog of that
# workload (at least BENCH_SEGMENTS segments).  Built once, reused while
# $BENCH_DIR/fixture/done exists.

FIXTURE=$BENCH_DIR/fixture
FIXTURE_PORT=54601

fixture() {
	if [ -f "$FIXTURE/done" ]; then
		. "$FIXTURE/done"
		return
	fi
	log "fixture: primary, pgBackRest stanzas, base backup, pgbench -i -s $BENCH_SCALE"
	rm -rf "$FIXTURE"
	mkdir -p "$FIXTURE/archive"
	local data=$FIXTURE/primary cmd
	local conf=$FIXTURE/pgbackrest-none.conf
	cmd="$(atomic_cp_archive_command "$FIXTURE/archive") && pgbackrest --config=$conf --stanza=bench archive-push %p"
	new_primary "$data" $FIXTURE_PORT "$cmd"
	pg_start "$data"
	local c
	for c in none gz lz4 zst; do
		pgbackrest_config "$FIXTURE/pgbackrest-$c.conf" "$FIXTURE/repo-$c" "$c" "$data" $FIXTURE_PORT
		pgbackrest --config="$FIXTURE/pgbackrest-$c.conf" --stanza=bench stanza-create
	done
	pgbackrest --config="$conf" --stanza=bench check

	pg_basebackup -h "$SOCK" -p $FIXTURE_PORT -D "$FIXTURE/base" -X none -c fast --no-sync
	local start_segment
	start_segment=$(sed -n 's/^START WAL LOCATION: .* (file \(.*\))$/\1/p' "$FIXTURE/base/backup_label")

	pgbench -h "$SOCK" -p $FIXTURE_PORT -i -q -s "$BENCH_SCALE" postgres >/dev/null 2>&1
	# Top up to the size asked for: a few seconds of pgbench transactions,
	# then updates of 50000 accounts at a time (full-page images, heap and
	# index records).
	local want start_bytes done_bytes
	start_bytes=$(((16#${start_segment:8:8} << 32) + (16#${start_segment:16:8} << 24)))
	want=$((start_bytes + BENCH_SEGMENTS * 16 * 1024 * 1024))
	pgbench -h "$SOCK" -p $FIXTURE_PORT -n -c 2 -j 2 -T 3 postgres >/dev/null 2>&1
	local accounts=$((BENCH_SCALE * 100000)) from=1
	while :; do
		done_bytes=$(sql $FIXTURE_PORT -c "SELECT (pg_current_wal_lsn() - '0/0')::bigint")
		[ "$done_bytes" -ge "$want" ] && break
		sql $FIXTURE_PORT -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN $from AND $((from + 49999))"
		from=$(((from + 50000) % accounts))
	done
	local target_lsn end_segment
	target_lsn=$(switch_and_archive $FIXTURE_PORT)
	end_segment=$(sql $FIXTURE_PORT -c "SELECT pg_walfile_name('$target_lsn')")
	pg_stop "$data"
	cat >"$FIXTURE/done" <<VARS
FIXTURE_START_SEGMENT=$start_segment
FIXTURE_END_SEGMENT=$end_segment
FIXTURE_TARGET_LSN=$target_lsn
VARS
	. "$FIXTURE/done"
}

# Stop every server left under $BENCH_DIR (by a run that was interrupted,
# or on the way out).
stop_bench_servers() {
	local pidfile
	for pidfile in "$BENCH_DIR"/*/postmaster.pid "$BENCH_DIR"/*/*/postmaster.pid; do
		[ -f "$pidfile" ] && pg_stop "$(dirname "$pidfile")" immediate
	done
	return 0
}

# Build the LD_PRELOAD shim that makes inotify unavailable; print its path.
noinotify_shim() {
	local so=$BENCH_DIR/noinotify.so
	[ -f "$so" ] || cc -O2 -shared -fPIC -o "$so" "$bench_top/bench/noinotify.c"
	echo "$so"
}
