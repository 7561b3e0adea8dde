#!/bin/bash
# Benchmark 6: compressed archives.  The cost of restoring one compressed
# segment per format (gzip, lz4, zstd), by pg_standby (NAME.gz, NAME.lz4,
# NAME.zst in the archive) vs the matching command-line decompressor
# writing to a file, vs pgBackRest archive-get from a repository with the
# same compression; and the archive size per format for the backlog of
# the fixture's workload.  All compressed with the tools' default levels
# (gzip -6, lz4 -1, zstd -3; pgBackRest's defaults are the same).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"
fixture

work=$BENCH_DIR/06
rm -rf "$work"
mkdir -p "$work"
cp -a "$FIXTURE/base" "$work/data"
touch "$work/data/recovery.signal"
echo "recovery_prefetch = off" >>"$work/data/postgresql.conf"
segment=$(ls "$FIXTURE/archive" | grep -E '^[0-9A-F]{24}$' | sed -n "$((BENCH_SEGMENTS / 2 + 1))p")
src=$FIXTURE/archive/$segment

declare -A ext=([gzip]=gz [lz4]=lz4 [zstd]=zst)
for format in gzip lz4 zstd; do
	e=${ext[$format]}
	mkdir -p "$work/archive-$e"
	"$format" -q -c "$src" >"$work/archive-$e/$segment.$e"
	conf=$FIXTURE/pgbackrest-$e.conf
	# A segment pushed twice with the same contents is accepted again.
	pgbackrest --config="$conf" --stanza=bench archive-push "$src"
done

log "06: restore cost of compressed $segment, $BENCH_REPS_RESTORE runs per method"
out=pg_wal/RECOVERYXLOG
for format in gzip lz4 zstd; do
	e=${ext[$format]}
	bench_perl measure.pl --samples "$work/samples-$e" --reps "$BENCH_REPS_RESTORE" \
		--cwd "$work/data" --out $out \
		-m "pg_standby ($segment.$e)" "$PG_STANDBY" "$work/archive-$e" "$segment" $out ';;' \
		-m "$format -dc > file" -o $out "/usr/bin/$format" -d -c -q "$work/archive-$e/$segment.$e" ';;' \
		-m "pgbackrest archive-get (compress-type=$e)" /usr/bin/pgbackrest \
		--config="$FIXTURE/pgbackrest-$e.conf" --stanza=bench --pg1-path="$work/data" \
		archive-get "$segment" $out ';;'
done

log "06: archive size per format, $FIXTURE_START_SEGMENT … $FIXTURE_END_SEGMENT"
sizes=$work/sizes
ls "$FIXTURE/archive" | grep -E '^[0-9A-F]{24}$' |
	awk -v a="$FIXTURE_START_SEGMENT" -v b="$FIXTURE_END_SEGMENT" '$0 >= a && $0 <= b' >"$work/backlog"
nseg=$(wc -l <"$work/backlog")
size_of() {	# FORMAT: total compressed bytes of the backlog
	local format=$1
	if [ "$format" = none ]; then
		sed "s|^|$FIXTURE/archive/|" "$work/backlog" | xargs cat | wc -c
	else
		sed "s|^|$FIXTURE/archive/|" "$work/backlog" |
			xargs -P 2 -n 4 sh -c 'for f; do '"$format"' -q -c "$f" | wc -c; done' sh |
			awk '{ s += $1 } END { print s }'
	fi
}
plain=$(size_of none)

echo
echo "### 6. Compressed archives"
echo
echo "Restore cost of segment $segment (from the middle of the workload), $BENCH_REPS_RESTORE runs per method,"
echo "round-robin in random order, page cache warm, to pg_wal/RECOVERYXLOG in a copy of the base backup."
echo "Compressed sizes of this segment: gzip $(stat -c %s "$work/archive-gz/$segment.gz"), lz4 $(stat -c %s "$work/archive-lz4/$segment.lz4"), zstd $(stat -c %s "$work/archive-zst/$segment.zst") bytes (of 16777216)."
for format in gzip lz4 zstd; do
	e=${ext[$format]}
	echo
	echo "#### $format"
	echo
	bench_perl report.pl --baseline "$format -dc > file" "$work/samples-$e"
done
echo
echo "#### Archive size per format ($nseg segments, $FIXTURE_START_SEGMENT … $FIXTURE_END_SEGMENT)"
echo
echo "| format | level | bytes | MiB | ratio to plain | compress time (s, 2 jobs) |"
echo "|---|---|---:|---:|---:|---:|"
echo "| plain | – | $plain | $((plain / 1048576)) | 1.000 | – |"
for format in gzip lz4 zstd; do
	start=$(date +%s.%N)
	bytes=$(size_of $format)
	secs=$(awk "BEGIN { print $(date +%s.%N) - $start }")
	level=$(case $format in gzip) echo 6 ;; lz4) echo 1 ;; zstd) echo 3 ;; esac)
	printf '| %s | %s (default) | %s | %s | %.3f | %.1f |\n' "$format" "$level" "$bytes" \
		"$((bytes / 1048576))" "$(awk "BEGIN { print $bytes / $plain }")" "$secs"
done
