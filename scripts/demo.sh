#!/bin/bash
# The classic warm standby, done the PostgreSQL 15 way, in about a minute:
# a primary that archives every WAL segment, a base backup taken by hand
# (pg_backup_start, copy, pg_backup_stop), a standby in archive recovery
# whose restore_command is pg_standby, a few rounds of writes replayed
# segment by segment, then failover with a trigger file.
#
# Usage: bash scripts/demo.sh [--keep]
#
# Everything lives in a temporary directory and is removed at the end, also
# on failure or interrupt; with --keep both servers are left running.
# Servers refuse to run as root: started as root, this script installs what
# is missing, then runs itself as the "postgres" user on a copy of the tree.
set -euo pipefail

PRIMARY_PORT=5441
STANDBY_PORT=5442				# the port of the classic documentation's example
ROWS_PER_ROUND=1000
ROUNDS=3
TIMEOUT=30						# seconds any single wait may take

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

usage() {
	cat <<EOF
Usage: bash scripts/demo.sh [--keep]

Builds pg_standby, then runs a warm standby on this machine: a primary that
archives its WAL, a standby restoring it with pg_standby, and a failover.

  --keep    leave both servers running at the end, and say how to use them
  --help    show this help
EOF
}

keep=false
for arg in "$@"; do
	case $arg in
		--keep) keep=true ;;
		-h | --help) usage; exit 0 ;;
		*) echo "demo: unknown argument \"$arg\"" >&2; usage >&2; exit 2 ;;
	esac
done

# ---------------------------------------------------------------------------
# Output: numbered steps, the commands and SQL they run, and their results.
# Everything shown goes to fd 3, so that $(...) captures only results.
exec 3>&1
step_no=0
step_title=

step() {
	step_no=$((step_no + 1))
	step_title=$1
	printf '\n%2d. %s\n' "$step_no" "$1" >&3
}

# Paths are shown relative to $DEMO, the temporary directory, to stay short.
shorten() {
	local text=$1
	[ -n "${demo:-}" ] && text=${text//$demo/\$DEMO}
	printf '%s' "$text"
}

say() { printf '    %s\n' "$(shorten "$*")" >&3; }
result() { printf '    -> %s\n' "$(shorten "$*")" >&3; }

# Show a command, then run it.
run() {
	say "\$ $*"
	"$@"
}

die() {
	echo "demo: error: $*" >&2
	exit 1
}

now_ms() { date +%s%3N; }

# Milliseconds since $1, as seconds with one decimal.
seconds_since() {
	local ms=$(($(now_ms) - $1))
	printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
}

# Run a command until it succeeds, for at most $1 seconds.
poll() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------
# Started as root: install, copy the tree for the unprivileged user, and
# run this script again as that user on the copy.
if [ "$(id -u)" = 0 ]; then
	bash "$top/scripts/install-deps.sh"
	build_dir=$(unprivileged_copy "$top" demo)
	keep_build=false
	trap '$keep_build || rm -rf "$build_dir"' EXIT
	echo "demo: running as user \"$PG_STANDBY_USER\" on a copy of the tree in $build_dir"
	status=0
	run_unprivileged "$build_dir" env PG_STANDBY_DEMO_FROM_ROOT=1 \
		bash scripts/demo.sh "$@" || status=$?
	# with --keep the standby's restore_command still names the copy
	[ $status = 0 ] && $keep && keep_build=true
	exit $status
fi

# ---------------------------------------------------------------------------
# From here on we are the unprivileged user.

# Connection settings from the environment would send psql elsewhere.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGDATA

# A normal user cannot install packages: only ask install-deps (which
# then says what is missing) when something needed for building is absent.
check_build_deps() {
	if command -v pg_config >/dev/null && [ -f "$(pg_config --pgxs)" ] &&
		command -v make >/dev/null && command -v cc >/dev/null; then
		return
	fi
	bash "$top/scripts/install-deps.sh"
}

build() {
	step "Build pg_standby"
	check_build_deps
	local major
	major=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	[ "$major" -ge 15 ] 2>/dev/null ||
		die "PostgreSQL 15 or later is needed (pg_config says \"$(pg_config --version)\")"
	(cd "$top" && run make -s USE_PGXS=1)
	pg_standby=$top/pg_standby
	archive_module=$top/pg_standby_archive
	[ -x "$pg_standby" ] || die "the build did not produce $pg_standby"
	# initdb, pg_ctl, psql: Debian keeps them off PATH
	PATH=$(pg_config --bindir):$PATH
	result "$("$pg_standby" --version), server binaries in $(pg_config --bindir)"
}

# The demo directory, with both data directories, the archive, the trigger
# file, the server logs and the servers' Unix sockets.  Servers listen on
# no TCP address, so their ports can never clash with another cluster's.
make_demo_dir() {
	local parent=${TMPDIR:-/tmp}
	# a Unix socket path must fit in 107 bytes
	[ ${#parent} -le 60 ] || parent=/tmp
	demo=$(mktemp -d "$parent/warm-standby.XXXXXX")
	archive=$demo/archive
	trigger=$demo/trigger.$STANDBY_PORT
	primary=$demo/primary
	standby=$demo/standby
	mkdir "$archive"
	echo "demo: DEMO=$demo" >&3
}

# Run SQL on one of the servers; print the result, unaligned, no headers.
query() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 -h "$demo" -p "$1" -d postgres -c "$2"
}

# The same, showing the SQL first.
sql() {
	local name=$1 port=$2
	say "$name=# $3"
	query "$port" "$3"
}

start_server() {
	local datadir=$1 name=$2
	run pg_ctl -D "$datadir" -l "$demo/$name.log" -w -t "$TIMEOUT" -s start
}

# ---------------------------------------------------------------------------
create_primary() {
	step "Create the primary (port $PRIMARY_PORT) and archive every WAL segment"
	say "\$ initdb -D $primary"
	initdb -D "$primary" --auth=trust --no-locale --encoding=UTF8 --no-sync \
		>"$demo/initdb.log" 2>&1 || { cat "$demo/initdb.log" >&2; die "initdb failed"; }

	# The primary archives with pg_standby_archive, pg_standby's own archive
	# module: each segment goes to a temporary name, is flushed to disk and
	# renamed into place, so pg_standby never sees a half-written segment
	# under its real name, and an archived segment is never overwritten.
	# It is loaded from the build directory here; "make install" puts it
	# where archive_library = 'pg_standby_archive' finds it.
	cat >>"$primary/postgresql.conf" <<EOF

# --- warm standby demo: the primary ---
listen_addresses = ''			# Unix socket only, in the demo directory
port = $PRIMARY_PORT
unix_socket_directories = '$demo'
wal_level = replica
archive_mode = on
archive_library = '$archive_module'
pg_standby_archive.directory = '$archive'
# The classic procedure ships a segment at least once a minute even when
# the primary is quiet (archive_timeout = 60); the demo uses 5 seconds so
# that it finishes quickly.
archive_timeout = 5
EOF
	say "postgresql.conf: archive_mode = on"
	say "postgresql.conf: archive_library = '$archive_module'"
	say "postgresql.conf: pg_standby_archive.directory = '$archive'"
	say "postgresql.conf: archive_timeout = 5   (60 in the classic setup; shorter for the demo)"
	start_server "$primary" primary
	sql primary $PRIMARY_PORT "CREATE TABLE demo (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, round int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"
	sql primary $PRIMARY_PORT "INSERT INTO demo (round) SELECT 0 FROM generate_series(1, $ROWS_PER_ROUND)"
	expected_rows=$ROWS_PER_ROUND
}

# ---------------------------------------------------------------------------
# The base backup, by hand.  pg_backup_start and pg_backup_stop must run in
# the same session (PostgreSQL 15 dropped the exclusive backups of
# pg_start_backup), so psql runs as a coprocess that stays connected while
# the data directory is copied.
backup_session_open() {
	coproc BACKUP_PSQL {
		exec psql -X -A -t -q -v ON_ERROR_STOP=1 -h "$demo" -p $PRIMARY_PORT \
			-d postgres 2>>"$demo/backup-psql.log"
	}
	backup_in=${BACKUP_PSQL[1]}
	backup_out=${BACKUP_PSQL[0]}
	backup_pid=$BACKUP_PSQL_PID
}

backup_alive() {
	kill -0 "$backup_pid" 2>/dev/null || {
		cat "$demo/backup-psql.log" >&2
		die "the backup session ended early"
	}
}

# Send lines to the session (bash closes its fds when psql exits).
backup_write() {
	backup_alive
	printf '%s\n' "$@" >&"$backup_in"
}

backup_send() {
	say "primary=# $1"
	backup_write "$1"
}

# Read one result from the session, up to the delimiter $2 ("" = NUL).
backup_read() {
	backup_alive
	IFS= read -r -d "$2" -t "$TIMEOUT" "$1" <&"$backup_out" || {
		cat "$demo/backup-psql.log" >&2
		die "no answer from the backup session"
	}
}

backup_session_close() {
	exec {backup_in}>&-
	wait "$backup_pid" || die "the backup session failed"
	backup_pid=
}

# Copy the data directory as the classic "tar" step did, without what a
# standby must not have: the primary's postmaster.pid and postmaster.opts,
# and the contents of pg_wal (the standby gets WAL from the archive).
copy_data_directory() {
	local tar_status
	say "\$ tar -C $primary --exclude=./postmaster.pid --exclude=./postmaster.opts --exclude='./pg_wal/*' -cf - . | tar -C $standby -xf -"
	mkdir -m 700 "$standby"
	# tar exits 1 when a file changes while it is read: expected while the
	# primary runs, and exactly what the WAL replayed from the backup's start
	# repairs.
	tar -C "$primary" --exclude=./postmaster.pid --exclude=./postmaster.opts \
		--exclude='./pg_wal/*' --warning=no-file-changed \
		--warning=no-file-removed -cf - . | tar -C "$standby" -xf - &&
		tar_status=(0 0) || tar_status=("${PIPESTATUS[@]}")
	if [ "${tar_status[0]}" -gt 1 ] || [ "${tar_status[1]}" != 0 ]; then
		die "copying the data directory failed (tar exit statuses ${tar_status[*]})"
	fi
	mkdir -p "$standby/pg_wal/archive_status"
	result "copied $(du -sh "$standby" | cut -f1)"
}

base_backup() {
	local start_lsn labelfile spcmapfile
	step "Take a base backup of the primary: pg_backup_start, copy, pg_backup_stop"
	backup_session_open
	backup_send "SELECT pg_backup_start('demo', true);"
	backup_read start_lsn $'\n'
	result "backup started at WAL location $start_lsn (fast checkpoint done)"

	copy_data_directory

	# NUL separators: the label file is several lines long
	backup_write '\pset fieldsep_zero on' '\pset recordsep_zero on'
	backup_send "SELECT labelfile, spcmapfile FROM pg_backup_stop();"
	backup_read labelfile ''
	backup_read spcmapfile ''
	backup_session_close
	# pg_backup_stop returns only when the last segment the backup needs
	# has been archived (wait_for_archive defaults to true).
	printf '%s' "$labelfile" >"$standby/backup_label"
	[ -z "$spcmapfile" ] || printf '%s' "$spcmapfile" >"$standby/tablespace_map"
	say "wrote the returned labelfile to $standby/backup_label:"
	printf '%s' "$labelfile" | sed 's/^/        /' >&3
}

# ---------------------------------------------------------------------------
configure_standby() {
	step "Make the copy a standby (port $STANDBY_PORT) restoring with pg_standby"
	restore_command="restore_command = '$pg_standby -t $trigger $archive %f %p %r'"
	cat >>"$standby/postgresql.conf" <<EOF

# --- warm standby demo: the standby ---
port = $STANDBY_PORT
# The old primary keeps running in this demo: the promoted standby must not
# archive into its archive.  (In a real failover the old primary is gone
# and the new one archives for the next standby.)
archive_mode = off
hot_standby = on				# read-only queries while in recovery
# pg_standby requires this in archive recovery: the server's read-ahead
# would ask for the next segment before the current one is replayed, and
# while pg_standby waits for that one, the end of the current segment (rows
# already archived) would be held back.
recovery_prefetch = off
# Wait for each segment in the archive; fail over when the trigger file
# appears; %r lets pg_standby remove segments no longer needed.
$restore_command
EOF
	run touch "$standby/recovery.signal"
	say "postgresql.conf: hot_standby = on, recovery_prefetch = off (pg_standby needs it: read-ahead would hold replay back)"
	echo "    postgresql.conf: $restore_command" >&3
	start_server "$standby" standby
	result "standby replaying the archive, open for read-only queries: $(query $STANDBY_PORT \
		"SELECT 'in recovery = ' || pg_is_in_recovery() || ', ' || count(*) || ' rows' FROM demo")"
}

standby_has_rows() {
	[ "$(query $STANDBY_PORT "SELECT count(*) FROM demo" 2>/dev/null)" = "$1" ]
}

one_round() {
	local round=$1 segment start_ms
	step "Round $round: write on the primary, ship the segment, replay it on the standby"
	# Separate transactions: in one -c string the insert would commit only
	# after the switch, in the next segment.
	sql primary $PRIMARY_PORT "INSERT INTO demo (round) SELECT $round FROM generate_series(1, $ROWS_PER_ROUND)"
	expected_rows=$((expected_rows + ROWS_PER_ROUND))
	start_ms=$(now_ms)
	segment=$(sql primary $PRIMARY_PORT "SELECT pg_walfile_name(pg_switch_wal())")
	poll "$TIMEOUT" test -f "$archive/$segment" ||
		die "segment $segment was not archived within $TIMEOUT s (see $demo/primary.log)"
	result "archived $segment after $(seconds_since "$start_ms")"
	say "standby=# SELECT count(*) FROM demo   (until it shows $expected_rows rows, at most $TIMEOUT s)"
	poll "$TIMEOUT" standby_has_rows "$expected_rows" ||
		die "the standby shows $(query $STANDBY_PORT "SELECT count(*) FROM demo") rows, not $expected_rows, $TIMEOUT s after the switch"
	result "standby shows $expected_rows rows $(seconds_since "$start_ms") after the switch, replayed up to $(query $STANDBY_PORT "SELECT pg_last_wal_replay_lsn()")"
}

standby_promoted() {
	[ "$(query $STANDBY_PORT "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]
}

# Log lines of the standby's failover, without the timestamp and pid.
show_failover_log() {
	tail -n +"$1" "$demo/standby.log" |
		grep -E 'pg_standby|redo done|archive recovery complete|selected new timeline|ready to accept' |
		sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z0-9+-]+ \[[0-9]+\] //; s/^/        /' >&3 || true
}

fail_over() {
	local start_ms log_from
	step "Fail over: create the trigger file (empty = smart: replay every archived segment first)"
	log_from=$(($(wc -l <"$demo/standby.log") + 1))
	start_ms=$(now_ms)
	run touch "$trigger"
	say "standby=# SELECT pg_is_in_recovery()   (until false, at most $TIMEOUT s)"
	poll "$TIMEOUT" standby_promoted ||
		die "the standby was not promoted within $TIMEOUT s (see $demo/standby.log)"
	result "promoted after $(seconds_since "$start_ms"); the standby's log says:"
	show_failover_log "$log_from"
	# the trigger has done its job; a standby rebuilt here must not see it
	rm -f "$trigger"
}

check_new_primary() {
	local on_primary on_standby timeline walfile
	step "Check the promoted standby"
	on_primary=$(sql primary $PRIMARY_PORT "SELECT count(*) FROM demo")
	result "$on_primary rows on the old primary, all archived"
	[ "$on_primary" = "$expected_rows" ] ||
		die "the primary has $on_primary rows, expected $expected_rows"
	on_standby=$(sql standby $STANDBY_PORT "SELECT count(*) FROM demo")
	[ "$on_standby" = "$on_primary" ] ||
		die "the promoted standby has $on_standby rows, the primary $on_primary: rows were lost"
	result "$on_standby rows on the promoted standby: none lost"
	sql standby $STANDBY_PORT "INSERT INTO demo (round) VALUES ($((ROUNDS + 1)))"
	sql standby $STANDBY_PORT "CHECKPOINT"
	timeline=$(sql standby $STANDBY_PORT "SELECT timeline_id FROM pg_control_checkpoint()")
	walfile=$(sql standby $STANDBY_PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
	[ "$timeline" -ge 2 ] 2>/dev/null ||
		die "the promoted standby is on timeline \"$timeline\", expected a new one"
	result "it accepts writes, on timeline $timeline (WAL file $walfile)"
}

# ---------------------------------------------------------------------------
show_how_to_use() {
	local as=
	if [ -n "${PG_STANDBY_DEMO_FROM_ROOT:-}" ]; then
		as="runuser -u $(id -un) -- "
		command -v sudo >/dev/null && as="sudo -u $(id -un) "
	fi
	cat <<EOF

Both servers are still running (--keep):
  old primary:  ${as}$(pg_config --bindir)/psql -h $demo -p $PRIMARY_PORT -d postgres
  new primary:  ${as}$(pg_config --bindir)/psql -h $demo -p $STANDBY_PORT -d postgres
  server logs:  $demo/primary.log, $demo/standby.log
To stop them and remove everything:
  ${as}$(pg_config --bindir)/pg_ctl -D $standby stop
  ${as}$(pg_config --bindir)/pg_ctl -D $primary stop
EOF
	if [ -n "${PG_STANDBY_DEMO_FROM_ROOT:-}" ]; then
		echo "  rm -rf $demo $top"
	else
		echo "  rm -rf $demo"
	fi
}

stop_server() {
	[ -f "$1/postmaster.pid" ] || return 0
	pg_ctl -D "$1" -m fast -w -t "$TIMEOUT" -s stop ||
		pg_ctl -D "$1" -m immediate -w -s stop || true
}

# On any exit: stop what we started and remove the directory, unless --keep
# succeeded.  After a failure, the servers' last words come first.
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ -n "${backup_pid:-}" ]; then
		kill "$backup_pid" 2>/dev/null || true
	fi
	[ -n "${demo:-}" ] && [ -d "$demo" ] || exit $status
	if [ $status != 0 ]; then
		case $status in
			130 | 143) echo "demo: interrupted in step $step_no ($step_title)" >&2 ;;
			*) echo "demo: failed in step $step_no ($step_title)" >&2 ;;
		esac
		for log in "$demo"/primary.log "$demo"/standby.log; do
			[ -f "$log" ] || continue
			echo "=== last lines of $log" >&2
			tail -n 15 "$log" >&2
		done
	elif $keep; then
		show_how_to_use
		exit 0
	fi
	stop_server "$standby"
	stop_server "$primary"
	rm -rf "$demo"
	[ $status != 0 ] || echo "demo: servers stopped, $demo removed" >&3
	exit $status
}

main() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	build
	make_demo_dir
	create_primary
	base_backup
	configure_standby
	for round in $(seq 1 $ROUNDS); do
		one_round "$round"
	done
	fail_over
	check_new_primary
	echo >&3
	echo "demo: done in ${SECONDS} s: every archived row reached the standby, which is now a primary" >&3
}

main
