/*-------------------------------------------------------------------------
 *
 * walfile.c
 *	  WAL file names, and the checks a segment must pass before the server
 *	  may see it.
 *
 * In archive recovery, a file that is not the WAL the server asked for --
 * half written, renamed from another segment, from another cluster --
 * makes the server see the end of WAL and promote.  So every segment is
 * checked from its own page headers, never trusted by its name and size.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "access/xlog_internal.h"
#include "pg_standby.h"
#include "walfile.h"

/* Length of "TTTTTTTTXXXXXXXXYYYYYYYY.OOOOOOOO.backup" */
#define BACKUP_HISTORY_FNAME_LEN	(XLOG_FNAME_LEN + 1 + 8 + strlen(".backup"))

/*
 * WAL page magic of each server major version this build knows.  The
 * server writes its own magic into every page; a file with another magic
 * comes from another major version and cannot be replayed.
 */
typedef struct PageMagic
{
	int			major;
	uint16		magic;
} PageMagic;

static const PageMagic known_page_magic[] =
{
	{15, 0xD110},
	{16, 0xD113},
	{17, 0xD116},
	{18, 0xD118},
};

/*
 * Classify a requested file name.  Only names the server itself asks for
 * are accepted, so that nothing else (a path, "..", garbage) can lead us
 * to read or write outside the places we were given.
 */
WalFileKind
classify_wal_file_name(const char *name)
{
	size_t		len = strlen(name);

	if (IsXLogFileName(name))
		return WALFILE_SEGMENT;
	if (IsTLHistoryFileName(name))
		return WALFILE_TIMELINE_HISTORY;

	/*
	 * IsBackupHistoryFileName() only looks at both ends of the name, so check
	 * the middle too: a dot, eight hex digits, ".backup".
	 */
	if (IsBackupHistoryFileName(name) &&
		len == BACKUP_HISTORY_FNAME_LEN &&
		name[XLOG_FNAME_LEN] == '.' &&
		strspn(name + XLOG_FNAME_LEN + 1, "0123456789ABCDEF") == 8)
		return WALFILE_BACKUP_HISTORY;

	return WALFILE_INVALID;
}

/*
 * Split a segment file name into its timeline and start address parts.
 * The segment number is kept as the name has it (the segment size is not
 * known until the file's header is read).
 */
bool
parse_segment_name(const char *name, TimeLineID *tli, uint32 *log,
				   uint32 *seg)
{
	if (!IsXLogFileName(name))
		return false;
	return sscanf(name, "%08X%08X%08X", tli, log, seg) == 3;
}

/* Page magic for a server major version, or 0 if this build does not know it. */
uint16
page_magic_for_major(int major)
{
	for (int i = 0; i < lengthof(known_page_magic); i++)
	{
		if (known_page_magic[i].major == major)
			return known_page_magic[i].magic;
	}
	return 0;
}

static bool
page_magic_is_known(uint16 magic)
{
	for (int i = 0; i < lengthof(known_page_magic); i++)
	{
		if (known_page_magic[i].magic == magic)
			return true;
	}
	return false;
}

static bool
page_is_all_zero(const char *page)
{
	static const char zero_page[XLOG_BLCKSZ];

	return memcmp(page, zero_page, XLOG_BLCKSZ) == 0;
}

/*
 * Check the first page of a segment: its long header must name the
 * segment we expect, of the cluster we serve.  On success, *seg_size is
 * the segment size the header declares.
 */
bool
check_first_page(const SegmentExpectation *expect, const char *page,
				 size_t len, uint32 *seg_size, char *problem,
				 size_t problem_size)
{
	XLogLongPageHeaderData hdr;
	XLogRecPtr	start;

	if (len < SizeOfXLogLongPHD)
	{
		set_problem(problem, problem_size, "The file is shorter than a WAL page header.");
		return false;
	}
	memcpy(&hdr, page, sizeof(hdr));

	if (expect->page_magic != 0 && hdr.std.xlp_magic != expect->page_magic)
	{
		set_problem(problem, problem_size, "The page magic number is 0x%04X, but this server's is 0x%04X.",
					hdr.std.xlp_magic, expect->page_magic);
		return false;
	}
	if (!page_magic_is_known(hdr.std.xlp_magic))
	{
		set_problem(problem, problem_size, "The page magic number 0x%04X is not that of any known PostgreSQL version.",
					hdr.std.xlp_magic);
		return false;
	}
	if ((hdr.std.xlp_info & XLP_LONG_HEADER) == 0 ||
		(hdr.std.xlp_info & ~XLP_ALL_FLAGS) != 0)
	{
		set_problem(problem, problem_size, "The first page has invalid info bits 0x%04X.",
					hdr.std.xlp_info);
		return false;
	}
	if (!IsValidWalSegSize(hdr.xlp_seg_size))
	{
		set_problem(problem, problem_size, "The page header declares invalid segment size %u.", hdr.xlp_seg_size);
		return false;
	}
	if (hdr.xlp_xlog_blcksz != XLOG_BLCKSZ)
	{
		set_problem(problem, problem_size, "The page header declares WAL block size %u, but this server's is %u.",
					hdr.xlp_xlog_blcksz, (unsigned) XLOG_BLCKSZ);
		return false;
	}
	if (expect->seg >= XLogSegmentsPerXLogId(hdr.xlp_seg_size))
	{
		set_problem(problem, problem_size, "The file name is not that of a segment for segment size %u.",
					hdr.xlp_seg_size);
		return false;
	}
	start = ((uint64) expect->log << 32) +
		(uint64) expect->seg * hdr.xlp_seg_size;
	if (hdr.std.xlp_pageaddr != start)
	{
		set_problem(problem, problem_size, "The page address is %X/%X, but the file name says %X/%X.",
					LSN_FORMAT_ARGS(hdr.std.xlp_pageaddr), LSN_FORMAT_ARGS(start));
		return false;
	}
	if (hdr.std.xlp_tli == 0 || hdr.std.xlp_tli > expect->tli)
	{
		set_problem(problem, problem_size, "The page's timeline %u is newer than the file name's timeline %u.",
					hdr.std.xlp_tli, expect->tli);
		return false;
	}
	if (expect->sysid != 0 && hdr.xlp_sysid != expect->sysid)
	{
		set_problem(problem, problem_size, "The WAL file's system identifier is %llu, but this server's is %llu.",
					(unsigned long long) hdr.xlp_sysid,
					(unsigned long long) expect->sysid);
		return false;
	}

	*seg_size = hdr.xlp_seg_size;
	return true;
}

/*
 * Check the page at "offset" of a segment whose first page passed: either
 * the next page of the same segment, or zeros up to the end.  Segments end
 * in zeros after a WAL switch, and .partial files where streaming stopped.
 * *zero_seen and *last_tli carry what the pages before this one showed.
 */
static bool
check_next_page(const SegmentExpectation *expect, uint32 seg_size,
				uint16 page_magic, const char *page, size_t offset,
				bool *zero_seen, TimeLineID *last_tli,
				char *problem, size_t problem_size)
{
	XLogPageHeaderData hdr;
	XLogRecPtr	expected_addr;

	if (page_is_all_zero(page))
	{
		*zero_seen = true;
		return true;
	}
	if (*zero_seen)
	{
		set_problem(problem, problem_size, "Data follows an all-zero page at offset %zu.", offset);
		return false;
	}

	/* the page may be anywhere in the caller's buffer: copy, not cast */
	memcpy(&hdr, page, sizeof(hdr));
	expected_addr = ((uint64) expect->log << 32) +
		(uint64) expect->seg * seg_size + offset;
	if (hdr.xlp_magic != page_magic ||
		hdr.xlp_pageaddr != expected_addr ||
		(hdr.xlp_info & (XLP_LONG_HEADER | ~XLP_ALL_FLAGS)) != 0 ||
		hdr.xlp_tli < *last_tli || hdr.xlp_tli > expect->tli)
	{
		set_problem(problem, problem_size, "The page header at offset %zu is not that of the next page of this segment.",
					offset);
		return false;
	}
	*last_tli = hdr.xlp_tli;
	return true;
}

/*
 * Check a whole segment: its first page, its size, and every page header
 * that follows.
 */
bool
check_segment_contents(const SegmentExpectation *expect, const char *data,
					   size_t len, char *problem, size_t problem_size)
{
	XLogPageHeaderData first;
	uint32		seg_size;
	TimeLineID	last_tli;
	bool		zero_seen = false;

	if (!check_first_page(expect, data, len, &seg_size, problem, problem_size))
		return false;
	if (len != seg_size)
	{
		set_problem(problem, problem_size, "The file has %zu bytes, but the segment size is %u.", len, seg_size);
		return false;
	}
	memcpy(&first, data, sizeof(first));
	last_tli = first.xlp_tli;
	for (size_t offset = XLOG_BLCKSZ; offset < len; offset += XLOG_BLCKSZ)
	{
		if (!check_next_page(expect, seg_size, first.xlp_magic,
							 data + offset, offset, &zero_seen, &last_tli,
							 problem, problem_size))
			return false;
	}
	return true;
}

/*
 * Check a timeline history file as the server reads it, with
 * readTimeLineHistory() (timeline.c, the same in PostgreSQL 15 to 18):
 * lines as fgets() returns them into a buffer of MAXPGPATH bytes, each up
 * to its first zero byte; lines that are empty after leading white space,
 * or whose first other character is "#", are skipped; every other line
 * must scan as "%u\t%X/%X" (trailing text is a reason, ignored); the
 * timeline IDs must increase, and stay below the file's own timeline.  So
 * we accept every file the server accepts, and refuse, with the server's
 * reason, the files it would stop on (FATAL) after we handed them over.
 */
static bool
check_timeline_history(TimeLineID file_tli, const char *data, size_t len,
					   char *problem, size_t problem_size)
{
	const char *next = data;
	const char *end = data + len;
	TimeLineID	last_tli = 0;
	bool		have_entry = false;

	while (next < end)
	{
		char		line[MAXPGPATH];
		size_t		line_len = 0;
		const char *first;
		unsigned int tli,
					hi,
					lo;

		while (next < end && line_len < sizeof(line) - 1)
		{
			line[line_len++] = *next;
			if (*next++ == '\n')
				break;
		}
		line[line_len] = '\0';

		for (first = line; isspace((unsigned char) *first); first++)
			;
		if (*first == '\0' || *first == '#')
			continue;

		/* messages show the line without its newline */
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%u\t%X/%X", &tli, &hi, &lo) != 3)
		{
			set_problem(problem, problem_size, "Line \"%s\" is not a timeline history entry.", line);
			return false;
		}
		if (have_entry && tli <= last_tli)
		{
			set_problem(problem, problem_size, "Line \"%s\" is out of order: timeline IDs must be in increasing sequence.",
						line);
			return false;
		}
		have_entry = true;
		last_tli = tli;
	}
	if (have_entry && last_tli >= file_tli)
	{
		set_problem(problem, problem_size, "Timeline ID %u is not less than the file's own timeline %u.",
					last_tli, file_tli);
		return false;
	}
	return true;
}

/*
 * Check a timeline history or backup history file.  These are small text
 * files; a foreign one must not be handed over, since the server picks its
 * timeline from them.  "file_tli" is the timeline a timeline history file
 * is named after.
 */
bool
check_history_contents(WalFileKind kind, TimeLineID file_tli,
					   const char *data, size_t len,
					   char *problem, size_t problem_size)
{
	if (kind == WALFILE_TIMELINE_HISTORY)
		return check_timeline_history(file_tli, data, len, problem,
									  problem_size);

	if (memchr(data, '\0', len) != NULL)
	{
		set_problem(problem, problem_size, "The file contains a zero byte.");
		return false;
	}
	if (len < 20 || strncmp(data, "START WAL LOCATION: ", 20) != 0)
	{
		set_problem(problem, problem_size, "The file does not start with \"START WAL LOCATION\".");
		return false;
	}
	return true;
}
