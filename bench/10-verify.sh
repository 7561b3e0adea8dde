#!/bin/bash
# Benchmark 10: pg_standby --verify over a whole archive.  BENCH_SEGMENTS
# segments of the fixture's pgbench workload (64: 1 GiB), plain and in each
# compression (gzip -6, lz4 -1, zstd -3: the tools' defaults), verified by
# pg_standby --verify; beside it, in the same rounds, pg_waldump over the
# same plain segments with -q (it still reads, checks and decodes every
# record, and prints nothing: its fastest invocation that reads the whole
# WAL) and, for each compression, the decompressor alone writing every
# segment to /dev/null, the floor for any check of compressed segments.
# Page cache warm; peak memory (maximum RSS) of one run of each
# pg_standby --verify.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$0" "$@"
bench_param BENCH_REPS_VERIFY 5 1
fixture

work=$BENCH_DIR/09
rm -rf "$work"
mkdir -p "$work/plain"
ls "$FIXTURE/archive" | grep -E '^[0-9A-F]{24}$' |
	awk -v a="$FIXTURE_START_SEGMENT" '$0 >= a' | head -n "$BENCH_SEGMENTS" >"$work/backlog"
first=$(head -1 "$work/backlog")
last=$(tail -1 "$work/backlog")
nseg=$(wc -l <"$work/backlog")
while read -r s; do
	ln "$FIXTURE/archive/$s" "$work/plain/$s"
done <"$work/backlog"

declare -A ext=([gzip]=gz [lz4]=lz4 [zstd]=zst)
log "09: compressing $nseg segments with gzip, lz4 and zstd"
for format in gzip lz4 zstd; do
	e=${ext[$format]}
	mkdir "$work/$e"
	xargs -P 2 -I{} sh -c "$format -q -c '$work/plain/{}' >'$work/$e/{}.$e'" <"$work/backlog"
done

log "09: verify $nseg segments ($first … $last), $BENCH_REPS_VERIFY runs per method"
report=$work/report
methods=(-m "pg_standby --verify (plain)" -x 0 -o "$report" "$PG_STANDBY" --verify="$work/plain" ';;'
	-m "pg_waldump -q (plain)" -x 0 "$PG_BIN/pg_waldump" -q -p "$work/plain" "$first" "$last" ';;')
for format in gzip lz4 zstd; do
	e=${ext[$format]}
	methods+=(-m "pg_standby --verify ($format)" -x 0 -o "$report" "$PG_STANDBY" --verify="$work/$e" ';;'
		-m "$format -dc > /dev/null (every segment)" -x 0 /bin/sh -c \
		'for f in "$1"/*; do "$2" -d -c -q "$f"; done >/dev/null' sh "$work/$e" "$format" ';;')
done
bench_perl measure.pl --samples "$work/samples" --reps "$BENCH_REPS_VERIFY" --warmup 1 \
	--out "$report" "${methods[@]}"

peak_rss() {	# DIR: maximum resident set size of pg_standby --verify, in MiB
	/usr/bin/time -f %M "$PG_STANDBY" --verify="$1" 2>&1 >/dev/null | tail -1 |
		awk '{ printf "%.1f", $1 / 1024 }'
}

echo
echo "### 10. Verifying an archive"
echo
echo "$nseg segments ($first … $last, $((nseg * 16)) MiB) of the fixture's pgbench workload; $BENCH_REPS_VERIFY runs per method"
echo "after one warm-up round, round-robin in random order, page cache warm; wall-clock time of the whole run."
echo "pg_waldump -q reads, checks and decodes every record and prints nothing."
echo
bench_perl report.pl --baseline "pg_waldump -q (plain)" "$work/samples"
echo
echo "Peak memory (maximum RSS) of pg_standby --verify: plain $(peak_rss "$work/plain") MiB,"
echo "gzip $(peak_rss "$work/gz") MiB, lz4 $(peak_rss "$work/lz4") MiB, zstd $(peak_rss "$work/zst") MiB."
