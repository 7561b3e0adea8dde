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
 * The same segment is walked again as if it were being copied in
 * (check_records_as_written): bytes not yet asked for are 0xAA, and the
 * walk must come to the same verdict, problem and summary, which it does
 * only if it never reads a byte before asking for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/xlog_internal.h"
#include "walrecord.h"

#define FUZZ_SEGMENT_SIZE	(1024 * 1024)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The segment as it arrives: the whole one, and how much has arrived. */
typedef struct Arriving
{
	const char *whole;
	char	   *arrived;
	uint32		so_far;
} Arriving;

static bool
arrive(void *arg, uint32 end)
{
	Arriving   *a = arg;

	if (end > FUZZ_SEGMENT_SIZE)
		__builtin_trap();
	if (end > a->so_far)
	{
		memcpy(a->arrived + a->so_far, a->whole + a->so_far, end - a->so_far);
		a->so_far = end;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *segment = NULL;
	static char *arriving = NULL;
	Arriving	a;
	WalRecordSummary summary;
	WalRecordSummary summary2;
	XLogPageHeaderData first;
	char		problem[256];
	char		problem2[256];
	bool		valid;

	if (size < sizeof(XLogPageHeaderData) || size > FUZZ_SEGMENT_SIZE)
		return 0;
	/* a buffer of exactly the segment's size, so that overreads are seen */
	if (segment == NULL)
	{
		segment = malloc(FUZZ_SEGMENT_SIZE);
		arriving = malloc(FUZZ_SEGMENT_SIZE);
	}
	memcpy(segment, data, size);
	memset(segment + size, 0, FUZZ_SEGMENT_SIZE - size);
	memcpy(&first, segment, sizeof(first));

	problem[0] = problem2[0] = '\0';
	valid = check_segment_records(segment, FUZZ_SEGMENT_SIZE, &summary,
								  problem, sizeof(problem));
	if (valid &&
		(summary.end < first.xlp_pageaddr ||
		 summary.end - first.xlp_pageaddr > FUZZ_SEGMENT_SIZE ||
		 (summary.continues && summary.switched)))
		__builtin_trap();

	memset(arriving, 0xAA, FUZZ_SEGMENT_SIZE);
	a.whole = segment;
	a.arrived = arriving;
	a.so_far = 0;
	if (check_records_as_written(arriving, FUZZ_SEGMENT_SIZE, arrive, &a,
								 &summary2, problem2,
								 sizeof(problem2)) != valid ||
		strcmp(problem, problem2) != 0 ||
		(valid && memcmp(&summary, &summary2, sizeof(summary)) != 0))
		__builtin_trap();
	return 0;
}
