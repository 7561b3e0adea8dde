#!/bin/bash
# Benchmark 7: archiving throughput.  A primary has a backlog of
# BENCH_ARCHIVE_SEGMENTS segments waiting in pg_wal (archive_mode = on,
# archiving not configured: no archive_command, or an archive library
# whose directory is not set, so each is marked .ready and nothing
# archives it); the archive_command or directory is then set and the
# configuration reloaded; the time from the reload until
# pg_stat_archiver.archived_count has grown by that many segments.
# pg_standby_archive with each compression vs archive_command with cp
# (neither durable nor atomic), rsync -a (the classic procedure), a
# durable shell sequence (cp to a temporary name, sync, mv, sync the
# directory), PostgreSQL's basic_archive module and pgbackrest
# archive-push without compression and with gz.  One more row, with no
# server: the same segments copied durably by one process, each written
# whole, then fsynced, renamed, and the directory fsynced.
#
# The backlog comes from pgbench -i, pgbench transactions and updates of
# pgbench_accounts, with the tables dropped at the end so that the data
# directory is small.  Each repetition of each method starts a fresh
# primary: a copy of the saved data directory, into whose pg_wal the saved
# segments are hard-linked (they are only read, and made read-only in case
# something tried to write them), with a fresh, empty archive directory;
# everything is flushed to disk (sync) before the server starts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_param BENCH_ARCHIVE_SEGMENTS 64 4	# segments in the backlog
bench_param BENCH_ARCHIVE_SCALE 10 1	# pgbench -i scale of its workload
bench_param BENCH_REPS_ARCHIVE 3 1		# repetitions per method

# rsync, for the classic archive_command.
if ! command -v rsync >/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench: rsync is missing; run as root to install it" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rsync >/dev/null
fi
bench_init "$0" "$@"

work=$BENCH_DIR/07
port=54671
nseg=$BENCH_ARCHIVE_SEGMENTS
template=$work/template		# the primary, stopped, without its backlog
segments=$work/segments		# the backlog: each one .ready in the template
data=$work/data
arch=$work/archive
basic_archive=$(pg_config --pkglibdir)/basic_archive.so
if [ ! -f "$basic_archive" ]; then
	echo "bench: $basic_archive is missing (PostgreSQL's contrib module basic_archive)" >&2
	exit 1
fi
pg_stop "$data" immediate
pg_stop "$template" immediate
rm -rf "$work"
mkdir -p "$work" "$segments"
segno() { echo $(((16#${1:8:8} << 8) + 16#${1:16:8})); }	# 16 MiB segments

# ---------------------------------------------------------------- backlog

log "07: backlog of $nseg segments (pgbench -i -s $BENCH_ARCHIVE_SCALE, pgbench, updates), archiving paused"
new_primary "$template" $port ""
pg_start "$template"
first=$(sql $port -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
pgbench -h "$SOCK" -p $port -i -q -s "$BENCH_ARCHIVE_SCALE" postgres >/dev/null 2>&1
pgbench -h "$SOCK" -p $port -n -c 2 -j 2 -T 3 postgres >/dev/null 2>&1
# Updates of 20000 accounts at a time until the last segment of the
# backlog is being written, then the tables are dropped and that segment
# is completed.
accounts=$((BENCH_ARCHIVE_SCALE * 100000))
from=1
while [ "$(segno "$(sql $port -c "SELECT pg_walfile_name(pg_current_wal_lsn())")")" -lt \
	$(($(segno "$first") + nseg - 1)) ]; do
	sql $port -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN $from AND $((from + 19999))"
	from=$(((from + 20000) % accounts))
done
pgbench -h "$SOCK" -p $port -i -I d postgres >/dev/null 2>&1
sql $port -c "SELECT pg_switch_wal()" >/dev/null
pg_stop "$template"
# Every segment marked .ready (the workload may have gone one past the
# backlog; the timing counts only the first $nseg).
ready=$(ls "$template/pg_wal/archive_status" | sed -n 's/\.ready$//p')
for s in $ready; do
	mv "$template/pg_wal/$s" "$segments/$s"
done
chmod 0400 "$segments"/*
nready=$(echo "$ready" | wc -w)
last=$(echo "$ready" | sort | sed -n "${nseg}p")
if [ "$nready" -lt "$nseg" ] || [ "$(echo "$ready" | sort | head -1)" != "$first" ] ||
	[ "$(($(segno "$last") - $(segno "$first")))" -ne $((nseg - 1)) ]; then
	echo "bench: expected $nseg .ready segments from $first, found: $ready" >&2
	exit 1
fi
log "07: $nready segments .ready, $first … $(echo "$ready" | sort | tail -1)"

# ---------------------------------------------------------------- methods

for c in none gz; do
	pgbackrest_config "$work/pgbackrest-$c.conf" "$arch" $c "$data" $port
done
# Each method in two parts: what the primary starts with (an archive
# library is loaded at start, but archives nothing while its directory is
# not set), and what the reload adds (the directory, or the
# archive_command).  Changing archive_library itself at a reload would make
# PostgreSQL 15's archiver exit, and the postmaster starts a new one only
# at its next periodic wake-up, up to a minute later.
psa="archive_library = '$bench_top/pg_standby_archive'"	# by its path in the build
cp_label="archive_command cp (neither durable nor atomic)"
# A durable copy with no server and no program started per segment
# (bench/perl/archive.pl --copy-from).
reference="reference: write, then fsync, rename, fsync dir, in one process (no server)"
declare -A at_start=(
	["pg_standby_archive, compression = none"]="$psa"$'\n'"pg_standby_archive.compression = none"
	["pg_standby_archive, compression = gzip"]="$psa"$'\n'"pg_standby_archive.compression = gzip"
	["pg_standby_archive, compression = lz4"]="$psa"$'\n'"pg_standby_archive.compression = lz4"
	["pg_standby_archive, compression = zstd"]="$psa"$'\n'"pg_standby_archive.compression = zstd"
	["basic_archive"]="archive_library = 'basic_archive'"
)
declare -A at_reload=(
	["pg_standby_archive, compression = none"]="pg_standby_archive.directory = '$arch'"
	["pg_standby_archive, compression = gzip"]="pg_standby_archive.directory = '$arch'"
	["pg_standby_archive, compression = lz4"]="pg_standby_archive.directory = '$arch'"
	["pg_standby_archive, compression = zstd"]="pg_standby_archive.directory = '$arch'"
	["$cp_label"]="archive_command = 'cp %p $arch/%f'"
	["archive_command rsync -a"]="archive_command = 'rsync -a %p $arch/%f'"
	["archive_command cp .tmp, sync, mv, sync dir (durable shell)"]="archive_command = 'cp %p $arch/%f.tmp && sync $arch/%f.tmp && mv $arch/%f.tmp $arch/%f && sync $arch'"
	["basic_archive"]="basic_archive.archive_directory = '$arch'"
	["pgbackrest archive-push, compress-type=none"]="archive_command = 'pgbackrest --config=$work/pgbackrest-none.conf --stanza=bench archive-push %p'"
	["pgbackrest archive-push, compress-type=gz"]="archive_command = 'pgbackrest --config=$work/pgbackrest-gz.conf --stanza=bench archive-push %p'"
)
methods=("pg_standby_archive, compression = none" "pg_standby_archive, compression = gzip"
	"pg_standby_archive, compression = lz4" "pg_standby_archive, compression = zstd"
	"$cp_label" "archive_command rsync -a"
	"archive_command cp .tmp, sync, mv, sync dir (durable shell)" "basic_archive"
	"pgbackrest archive-push, compress-type=none" "pgbackrest archive-push, compress-type=gz"
	"$reference")

samples=$work/samples
sizes=$work/sizes
load_before=$(uptime | sed 's/.*load average: //')
for ((rep = 1; rep <= BENCH_REPS_ARCHIVE; rep++)); do
	while read -r method; do
		log "07: $method, $rep of $BENCH_REPS_ARCHIVE"
		rm -rf "$data" "$data.log" "$arch"
		mkdir "$arch"
		if [ "$method" = "$reference" ]; then
			sync
			bench_perl archive.pl --samples "$samples" --label "$method" --segments "$nseg" \
				--copy-from "$segments" --copy-to "$arch"
		else
			cp -a "$template" "$data"
			ln "$segments"/* "$data/pg_wal/"
			if [ -n "${at_start[$method]:-}" ]; then
				{
					echo "# bench/07-archive-throughput.sh: $method, at start"
					echo "${at_start[$method]}"
				} >>"$data/postgresql.conf"
			fi
			sync
			pg_start "$data"
			case $method in
				pgbackrest*compress-type=none) pgbackrest --config="$work/pgbackrest-none.conf" --stanza=bench stanza-create ;;
				pgbackrest*compress-type=gz) pgbackrest --config="$work/pgbackrest-gz.conf" --stanza=bench stanza-create ;;
			esac
			{
				echo "# bench/07-archive-throughput.sh: $method, at the reload"
				echo "${at_reload[$method]}"
			} >>"$data/postgresql.conf"
			bench_perl archive.pl --samples "$samples" --label "$method" --socket "$SOCK" \
				--port $port --segments "$nseg" --log "$data.log"
			pg_stop "$data" immediate
		fi
		stored=$(find "$arch" -type f -name '0*' | wc -l)
		if [ "$stored" -lt "$nseg" ]; then
			echo "bench: $method: $stored files in $arch, expected at least $nseg" >&2
			exit 1
		fi
		# Bytes of the first $nseg segments as archived (pgBackRest adds a
		# checksum to each name; everything else stores NAME[.EXT]).
		find "$arch" -type f -name '0*' -printf '%f %s\n' | sort | head -n "$nseg" |
			awk -v m="$method" '{ s += $2 } END { printf "%s\t%.4f\n", m, s / 1048576 }' >>"$sizes"
	done < <(printf '%s\n' "${methods[@]}" | shuf)
done
rm -rf "$data" "$arch"
load_after=$(uptime | sed 's/.*load average: //')

# Report in a fixed order.
order() {
	local file=$1 method
	for method in "${methods[@]}"; do
		awk -F '\t' -v m="$method" '$1 == m' "$file"
	done
}
order "$samples" >"$samples.ordered"
order "$sizes" >"$sizes.ordered"
echo
echo "### 7. Archiving throughput: a backlog of $nseg segments"
echo
echo "$nseg segments of 16 MiB ($first … $last) from pgbench -i -s $BENCH_ARCHIVE_SCALE, 3 s of pgbench and updates, waiting"
echo "in pg_wal (.ready) while archive_mode = on and archiving was not configured (archive_command empty, or the archive"
echo "library loaded at start without its directory); then archive_command or the directory is set and the configuration"
echo "reloaded; time from pg_reload_conf() to pg_stat_archiver.archived_count + $nseg (polled every 10 ms)."
echo "$BENCH_REPS_ARCHIVE runs per method in random order, each on a fresh copy of the primary with an empty archive directory"
echo "on the same file system ($(findmnt -n -o FSTYPE --target "$work")), everything flushed (sync) before the server starts;"
echo "rate = $nseg / time.  ARCH is that directory; pg_standby_archive is loaded by absolute path from the build."
echo "The reference row has no server: one process copies the same segments into a fresh directory, each written whole to"
echo "a temporary name (no writeback requested before), then fsynced, renamed, and the directory fsynced."
echo "Load average before: $load_before; after: $load_after."
echo
bench_perl report.pl --unit 'segments/s' --baseline "$cp_label" "$samples.ordered"
echo
echo "Size of the $nseg segments as archived (the files' sizes, in the last column their ratio to cp's):"
echo
bench_perl report.pl --unit MiB --baseline "$cp_label" "$sizes.ordered"
