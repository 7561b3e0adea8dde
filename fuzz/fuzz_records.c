/*-------------------------------------------------------------------------
 *
 * fuzz_records.c
 *	  libFuzzer target: the record walker of walrecord.c.
 *
 * The input is the first pages of a segment; the rest of a 1 MiB segment
 * (the smallest WAL segment size) is zeros.  The walker reads page headers
 * only for their flags, so it gets the input without the page checks the
 * restore path runs first: it must never crash or read outside the
 * segment, and what it reports for a segment it accepts must lie inside
 * the segment.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/xlog_internal.h"
#include "walrecord.h"

#define FUZZ_SEGMENT_SIZE	(1024 * 1024)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *segment = NULL;
	WalRecordSummary summary;
	XLogPageHeaderData first;
	char		problem[256];

	if (size < sizeof(XLogPageHeaderData) || size > FUZZ_SEGMENT_SIZE)
		return 0;
	/* a buffer of exactly the segment's size, so that overreads are seen */
	if (segment == NULL)
		segment = malloc(FUZZ_SEGMENT_SIZE);
	memcpy(segment, data, size);
	memset(segment + size, 0, FUZZ_SEGMENT_SIZE - size);
	memcpy(&first, segment, sizeof(first));

	if (check_segment_records(segment, FUZZ_SEGMENT_SIZE, &summary,
							  problem, sizeof(problem)) &&
		(summary.end < first.xlp_pageaddr ||
		 summary.end - first.xlp_pageaddr > FUZZ_SEGMENT_SIZE ||
		 (summary.continues && summary.switched)))
		__builtin_trap();
	return 0;
}
