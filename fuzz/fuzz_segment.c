/*-------------------------------------------------------------------------
 *
 * fuzz_segment.c
 *	  libFuzzer target: checking the contents of WAL and history files.
 *
 * The input is a flag byte followed by the first pages of a segment (the
 * rest of the segment is fed as zeros).  The flag byte chooses the chunk
 * size in which the checker is fed and whether the system identifier is
 * known.  The checker must never crash, and a file it accepts must have
 * the size its header declares.  The same bytes are also checked as a
 * timeline history and a backup history file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/xlog_internal.h"
#include "pg_standby.h"

/* Larger declared segments are fed only up to here, to stay fast. */
#define MAX_FED_SEGMENT_SIZE	(16 * 1024 * 1024)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
feed_in_chunks(SegmentChecker *checker, const char *data, size_t size,
			   size_t chunk)
{
	while (size > 0)
	{
		size_t		n = Min(size, chunk);

		if (!segment_checker_feed(checker, data, n))
			return false;
		data += n;
		size -= n;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char zeros[64 * 1024];
	SegmentExpectation expect = {
		.name = "000000010000000000000003",
		.tli = 1,.log = 0,.seg = 3,
		.page_magic = 0xD110,
	};
	SegmentChecker checker;
	char		problem[256];
	size_t		chunk;
	bool		ok;

	if (size < 1)
		return 0;
	chunk = 1 + (data[0] & 0x7F) * 97;
	if (data[0] & 0x80)
		expect.sysid = UINT64CONST(7000000000000000001);
	data++;
	size--;

	check_history_contents(WALFILE_TIMELINE_HISTORY, (const char *) data,
						   size, problem, sizeof(problem));
	check_history_contents(WALFILE_BACKUP_HISTORY, (const char *) data,
						   size, problem, sizeof(problem));

	segment_checker_init(&checker, &expect);
	ok = feed_in_chunks(&checker, (const char *) data, size, chunk);
	while (ok && checker.seg_size != 0 &&
		   checker.seg_size <= MAX_FED_SEGMENT_SIZE &&
		   checker.bytes + checker.page_fill < checker.seg_size)
	{
		size_t		missing = checker.seg_size -
			(checker.bytes + checker.page_fill);

		ok = segment_checker_feed(&checker, zeros,
								  Min(missing, sizeof(zeros)));
	}
	if (ok && segment_checker_finish(&checker) &&
		checker.bytes != checker.seg_size)
		__builtin_trap();
	return 0;
}
