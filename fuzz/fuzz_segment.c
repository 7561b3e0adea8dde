/*-------------------------------------------------------------------------
 *
 * fuzz_segment.c
 *	  libFuzzer target: checking the contents of WAL and history files.
 *
 * The input is a flag byte followed by the first pages of a segment (the
 * rest of the segment, up to the size its first page declares, is zeros).
 * The flag byte's high bit says whether the system identifier is known.
 * The checker must never crash, and a file it accepts must have the size
 * its header declares.  The same bytes are also checked as a timeline
 * history and a backup history file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/xlog_internal.h"
#include "walfile.h"

/* Larger declared segments are checked only as given, to stay fast. */
#define MAX_PADDED_SEGMENT_SIZE	(16 * 1024 * 1024)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SegmentExpectation expect = {
		.name = "000000010000000000000003",
		.tli = 1,.log = 0,.seg = 3,
		.page_magic = 0xD110,
	};

	/* zeros but for the input, which is copied in and zeroed after use */
	static char padded[MAX_PADDED_SEGMENT_SIZE];
	char		problem[256];
	const char *segment;
	size_t		segment_size;
	uint32		seg_size = 0;

	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		expect.sysid = UINT64CONST(7000000000000000001);
	data++;
	size--;

	check_history_contents(WALFILE_TIMELINE_HISTORY, expect.tli,
						   (const char *) data, size, problem,
						   sizeof(problem));
	check_history_contents(WALFILE_BACKUP_HISTORY, 0, (const char *) data,
						   size, problem, sizeof(problem));

	segment = (const char *) data;
	segment_size = size;
	if (check_first_page(&expect, segment, size, &seg_size, problem,
						 sizeof(problem)) &&
		size < seg_size && seg_size <= MAX_PADDED_SEGMENT_SIZE)
	{
		memcpy(padded, data, size);
		segment = padded;
		segment_size = seg_size;
	}
	if (check_segment_contents(&expect, segment, segment_size, problem,
							   sizeof(problem)) &&
		segment_size != seg_size)
		__builtin_trap();
	if (segment == padded)
		memset(padded, 0, size);
	return 0;
}
