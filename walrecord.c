/*-------------------------------------------------------------------------
 *
 * walrecord.c
 *	  Walk every WAL record of a segment and check it as the server's WAL
 *	  reader would: header, length, prev-link, continuation across pages
 *	  and CRC-32C.
 *
 * In archive recovery the server takes the first record it cannot read for
 * the end of WAL, ends recovery and promotes: a segment with sound page
 * headers but a damaged record (bit rot, a bad copy) would silently cut
 * recovery short.  So the records are checked before the segment is
 * handed over, by the rules of xlogreader.c (ValidXLogRecordHeader,
 * ValidXLogRecord and the continuation logic of XLogDecodeNextRecord).
 *
 * The WAL in a segment ends at a record header that is all zeros, after an
 * XLOG_SWITCH record, or at a page that is all zeros (a .partial file cut
 * where streaming stopped).  Everything after the end, apart from page
 * headers, must be zeros: anything else is damage, not the end of WAL.
 * The first bytes of a segment may be the tail of a record begun in the
 * previous one, and the last record may continue into the next: both are
 * checked as far as this segment holds them, without their CRC.
 *
 * The page headers themselves are checked by walfile.c before this runs;
 * here they are only read for their flags and xlp_rem_len, so any input is
 * safe to walk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/rmgr.h"
#include "access/xlog_internal.h"
#include "access/xlogrecord.h"
#include "catalog/pg_control.h"
#include "pg_standby.h"
#include "port/pg_crc32c.h"
#include "walrecord.h"

/*
 * The server never writes a record longer than this (XLogRecordMaxSize in
 * PostgreSQL 16 and later; 15 reads up to MaxAllocSize).
 */
#define MAX_RECORD_SIZE		(1020 * 1024 * 1024)

/* The record being assembled, which may span pages. */
typedef struct RecordWalk
{
	const char *segment;
	uint32		seg_size;
	XLogRecPtr	seg_start;		/* address of the segment's first byte */
	XLogRecPtr	prev;			/* start of the previous record, or 0 */

	bool		in_record;		/* a record continues on the next page */
	bool		tail_only;		/* ... and began in the previous segment */
	XLogRecPtr	start;			/* where the current record began */
	uint32		total;			/* its xl_tot_len */
	uint32		got;			/* bytes of it seen so far */
	char		header[SizeOfXLogRecord];	/* its header, once seen */
	pg_crc32c	crc;			/* CRC of its data so far */

	/* the segment arrives while it is walked: see check_records_as_written */
	WaitForBytes wait_for;
	void	   *wait_arg;

	WalRecordSummary *summary;
	char	   *problem;
	size_t		problem_size;
} RecordWalk;

#define PROBLEM(walk, ...) set_problem((walk)->problem, (walk)->problem_size, __VA_ARGS__)

/*
 * Are these bytes all zero?  One pass over them, a 64-byte block at a time,
 * rather than memcmp() against zeros, which reads twice as much: after an
 * XLOG_SWITCH most of a segment is zeros.
 */
static bool
is_zero(const char *data, size_t len)
{
	while (len >= 64)
	{
		uint64		block[8];
		uint64		any = 0;

		memcpy(block, data, sizeof(block));
		for (int i = 0; i < 8; i++)
			any |= block[i];
		if (any != 0)
			return false;
		data += 64;
		len -= 64;
	}
	while (len > 0)
	{
		if (*data++ != 0)
			return false;
		len--;
	}
	return true;
}

/*
 * Are the bytes of the segment up to offset "end" there to be read?  They
 * are, unless the segment arrives while it is walked; if they never come
 * the walk stops, and whoever brings them says why.
 */
static bool
bytes_arrived(RecordWalk *walk, uint32 end)
{
	if (walk->wait_for == NULL || walk->wait_for(walk->wait_arg, end))
		return true;
	PROBLEM(walk, "The segment ended at fewer than %u bytes while being checked.",
			end);
	return false;
}

/*
 * The WAL ended at offset "from": every page after it must be zeros apart
 * from its header (the server gives the pages after an XLOG_SWITCH a
 * header; a .partial file has nothing there at all).
 */
static bool
check_rest_is_zero(RecordWalk *walk, uint32 from)
{
	uint32		offset = from;

	while (offset < walk->seg_size)
	{
		uint32		page_end = offset - offset % XLOG_BLCKSZ + XLOG_BLCKSZ;
		const char *page = walk->segment + (page_end - XLOG_BLCKSZ);
		uint32		first = offset;

		if (!bytes_arrived(walk, page_end))
			return false;
		if (offset % XLOG_BLCKSZ == 0)
		{
			XLogPageHeaderData hdr;

			memcpy(&hdr, page, sizeof(hdr));
			first = offset + (hdr.xlp_magic == 0 && hdr.xlp_info == 0 ?
							  0 : XLogPageHeaderSize(&hdr));
		}
		if (!is_zero(walk->segment + first, page_end - first))
		{
			PROBLEM(walk, "There is data after the end of WAL at %X/%X.",
					LSN_FORMAT_ARGS(walk->seg_start + offset));
			return false;
		}
		offset = page_end;
	}
	return true;
}

/*
 * The rules of ValidXLogRecordHeader().  The prev-link of the first record
 * that begins in the segment points into an earlier segment; after that,
 * each points to the record before it.
 */
static bool
check_record_header(RecordWalk *walk)
{
	XLogRecord	rec;

	memcpy(&rec, walk->header, SizeOfXLogRecord);
	if (!RmgrIdIsValid(rec.xl_rmid))
	{
		PROBLEM(walk, "The record at %X/%X has invalid resource manager ID %u.",
				LSN_FORMAT_ARGS(walk->start), rec.xl_rmid);
		return false;
	}
	if (walk->prev != InvalidXLogRecPtr && rec.xl_prev != walk->prev)
	{
		PROBLEM(walk, "The record at %X/%X has prev-link %X/%X, but the record before it is at %X/%X.",
				LSN_FORMAT_ARGS(walk->start), LSN_FORMAT_ARGS(rec.xl_prev),
				LSN_FORMAT_ARGS(walk->prev));
		return false;
	}
	if (walk->prev == InvalidXLogRecPtr && rec.xl_prev >= walk->seg_start)
	{
		PROBLEM(walk, "The record at %X/%X has prev-link %X/%X, but the first record that begins in a segment must link into an earlier segment.",
				LSN_FORMAT_ARGS(walk->start), LSN_FORMAT_ARGS(rec.xl_prev));
		return false;
	}
	return true;
}

/* Take the next "len" bytes of the current record. */
static bool
take_record_bytes(RecordWalk *walk, const char *data, uint32 len)
{
	if (walk->got < SizeOfXLogRecord && !walk->tail_only)
	{
		uint32		n = Min(len, SizeOfXLogRecord - walk->got);

		memcpy(walk->header + walk->got, data, n);
		walk->got += n;
		data += n;
		len -= n;
		if (walk->got == SizeOfXLogRecord && !check_record_header(walk))
			return false;
	}
	if (!walk->tail_only)
		COMP_CRC32C(walk->crc, data, len);
	walk->got += len;
	return true;
}

/*
 * The record is complete, its last byte just before offset "end": the rules
 * of ValidXLogRecord(), the CRC over the data and then the header up to
 * xl_crc.  The next record begins at the MAXALIGNed end, which is also
 * where the WAL ends if none follows.
 */
static bool
finish_record(RecordWalk *walk, uint32 end)
{
	XLogRecord	rec;

	walk->in_record = false;
	if (walk->tail_only)
	{
		walk->tail_only = false;
		return true;
	}
	memcpy(&rec, walk->header, SizeOfXLogRecord);
	COMP_CRC32C(walk->crc, walk->header, offsetof(XLogRecord, xl_crc));
	FIN_CRC32C(walk->crc);
	if (!EQ_CRC32C(walk->crc, rec.xl_crc))
	{
		PROBLEM(walk, "The record at %X/%X has an incorrect resource manager data checksum.",
				LSN_FORMAT_ARGS(walk->start));
		return false;
	}
	walk->prev = walk->start;
	walk->summary->records++;
	walk->summary->end = walk->seg_start + MAXALIGN(end);
	if (rec.xl_rmid == RM_XLOG_ID &&
		(rec.xl_info & ~XLR_INFO_MASK) == XLOG_SWITCH)
		walk->summary->switched = true;
	return true;
}

/*
 * Begin the record at "offset", whose first bytes are on this page (records
 * are MAXALIGNed, so xl_tot_len always is).  Returns false on damage;
 * *ended is set if the WAL ends here instead.
 */
static bool
begin_record(RecordWalk *walk, uint32 offset, bool *ended)
{
	uint32		total;

	memcpy(&total, walk->segment + offset, sizeof(total));
	if (total == 0)
	{
		*ended = true;
		return check_rest_is_zero(walk, offset);
	}
	walk->start = walk->seg_start + offset;
	if (total < SizeOfXLogRecord || total > MAX_RECORD_SIZE)
	{
		PROBLEM(walk, "The record at %X/%X has invalid length %u.",
				LSN_FORMAT_ARGS(walk->start), total);
		return false;
	}
	walk->in_record = true;
	walk->tail_only = false;
	walk->total = total;
	walk->got = 0;
	INIT_CRC32C(walk->crc);
	return true;
}

/*
 * A page where the current record continues: it must say so, with the
 * number of bytes still to come (XLP_FIRST_IS_CONTRECORD, xlp_rem_len).
 * Returns the offset after the continuation data, or 0 on damage; *ended
 * is set if the WAL ends before the record does.
 */
static uint32
continue_record(RecordWalk *walk, uint32 page_offset,
				const XLogPageHeaderData *hdr, bool *ended)
{
	const char *page = walk->segment + page_offset;
	uint32		header_size = XLogPageHeaderSize(hdr);
	uint32		remaining = walk->total - walk->got;
	uint32		len;

	if (!(hdr->xlp_info & XLP_FIRST_IS_CONTRECORD))
	{
		/*
		 * A record cut by a crash is followed by a page that says so; the WAL
		 * goes on there (XLOG_OVERWRITE_CONTRECORD).  Zeros: the WAL ends
		 * with an incomplete record.
		 */
		if (hdr->xlp_info & XLP_FIRST_IS_OVERWRITE_CONTRECORD)
		{
			walk->in_record = false;
			return page_offset + header_size;
		}
		if (is_zero(page, XLOG_BLCKSZ))
		{
			walk->in_record = false;
			*ended = true;
			return check_rest_is_zero(walk, page_offset) ? page_offset : 0;
		}
		PROBLEM(walk, "The page at %X/%X has no contrecord flag, but a record continues onto it.",
				LSN_FORMAT_ARGS(walk->seg_start + page_offset));
		return 0;
	}
	if (hdr->xlp_rem_len == 0 || hdr->xlp_rem_len != remaining)
	{
		PROBLEM(walk, "The page at %X/%X has contrecord length %u, but %u bytes of the record remain.",
				LSN_FORMAT_ARGS(walk->seg_start + page_offset),
				hdr->xlp_rem_len, remaining);
		return 0;
	}
	len = Min(remaining, XLOG_BLCKSZ - header_size);
	if (!take_record_bytes(walk, page + header_size, len))
		return 0;
	if (walk->got == walk->total &&
		!finish_record(walk, page_offset + header_size + len))
		return 0;
	return page_offset + header_size + len;
}

/*
 * Check the records on the page at "page_offset".  Returns false on damage;
 * *ended is set once the WAL has ended.
 */
static bool
walk_page(RecordWalk *walk, uint32 page_offset, bool *ended)
{
	const char *page = walk->segment + page_offset;
	uint32		page_end = page_offset + XLOG_BLCKSZ;
	XLogPageHeaderData hdr;
	uint32		offset;

	memcpy(&hdr, page, sizeof(hdr));
	if (walk->in_record)
	{
		offset = continue_record(walk, page_offset, &hdr, ended);
		if (offset == 0)
			return false;
		if (*ended || walk->in_record)
			return true;
		offset = MAXALIGN(offset);
	}
	else if (page_offset == 0 && (hdr.xlp_info & XLP_FIRST_IS_CONTRECORD))
	{
		/* the tail of a record begun in the previous segment */
		walk->in_record = true;
		walk->tail_only = true;
		walk->total = hdr.xlp_rem_len;
		walk->got = 0;
		offset = continue_record(walk, page_offset, &hdr, ended);
		if (offset == 0)
			return false;
		if (walk->in_record)
			return true;
		offset = MAXALIGN(offset);
	}
	else if (is_zero(page, XLOG_BLCKSZ))
	{
		*ended = true;
		return check_rest_is_zero(walk, page_offset);
	}
	else
	{
		if (hdr.xlp_info & XLP_FIRST_IS_CONTRECORD)
		{
			PROBLEM(walk, "The page at %X/%X has a contrecord flag, but no record continues onto it.",
					LSN_FORMAT_ARGS(walk->seg_start + page_offset));
			return false;
		}
		offset = page_offset + XLogPageHeaderSize(&hdr);
	}

	while (offset < page_end)
	{
		uint32		len;

		if (walk->summary->switched)
		{
			*ended = true;
			return check_rest_is_zero(walk, offset);
		}
		if (!begin_record(walk, offset, ended))
			return false;
		if (*ended)
			return true;
		len = Min(walk->total, page_end - offset);
		if (!take_record_bytes(walk, walk->segment + offset, len))
			return false;
		offset += len;
		if (walk->got < walk->total)
			return true;		/* continues on the next page */
		if (!finish_record(walk, offset))
			return false;
		offset = MAXALIGN(offset);
	}
	return true;
}

/*
 * Check every record of a whole segment, "seg_size" bytes in memory whose
 * page headers have been checked.  On success, *summary says where its WAL
 * ends; on failure, "problem" says which record at which LSN is wrong.
 */
bool
check_segment_records(const char *segment, uint32 seg_size,
					  WalRecordSummary *summary,
					  char *problem, size_t problem_size)
{
	return check_records_as_written(segment, seg_size, NULL, NULL, summary,
									problem, problem_size);
}

/*
 * The same, for a segment still being written into "segment" while it is
 * walked: before the walk reads a page, wait_for(wait_arg, END) must
 * return true once the bytes up to END are there, or false if they will
 * never be.  Every read of the walk is within the page it is on, or, where
 * the WAL has ended, the pages after it in order; its page headers are
 * checked afterwards, so none is trusted here beyond its flags and
 * xlp_rem_len, as ever.
 */
bool
check_records_as_written(const char *segment, uint32 seg_size,
						 WaitForBytes wait_for, void *wait_arg,
						 WalRecordSummary *summary,
						 char *problem, size_t problem_size)
{
	RecordWalk	walk;
	XLogPageHeaderData first;
	bool		ended = false;

	memset(summary, 0, sizeof(*summary));
	memset(&walk, 0, sizeof(walk));
	walk.segment = segment;
	walk.wait_for = wait_for;
	walk.wait_arg = wait_arg;
	walk.seg_size = seg_size - seg_size % XLOG_BLCKSZ;
	walk.summary = summary;
	walk.problem = problem;
	walk.problem_size = problem_size;
	if (!bytes_arrived(&walk, XLOG_BLCKSZ))
		return false;
	memcpy(&first, segment, sizeof(first));
	walk.seg_start = first.xlp_pageaddr;
	summary->end = walk.seg_start;

	for (uint32 page_offset = 0; page_offset < walk.seg_size && !ended;
		 page_offset += XLOG_BLCKSZ)
	{
		if (!bytes_arrived(&walk, page_offset + XLOG_BLCKSZ) ||
			!walk_page(&walk, page_offset, &ended))
			return false;
	}
	if (walk.in_record && !ended)
	{
		summary->continues = true;
		summary->end = walk.seg_start + walk.seg_size;
	}
	return true;
}
