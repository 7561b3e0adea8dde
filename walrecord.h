/*-------------------------------------------------------------------------
 *
 * walrecord.h
 *	  Record-level check of a whole WAL segment.
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALRECORD_H
#define WALRECORD_H

#include "access/xlogdefs.h"

/* What the walk learned about a segment whose records are all valid. */
typedef struct WalRecordSummary
{
	uint32		records;		/* records that begin in the segment */
	XLogRecPtr	end;			/* where a record after the last complete one
								 * would begin, or the end of the segment when
								 * its last record continues */
	bool		switched;		/* the WAL ends with an XLOG_SWITCH record */
	bool		continues;		/* the last record continues into the next
								 * segment */
} WalRecordSummary;

/* Have the bytes up to "end" arrived?  false: they never will. */
typedef bool (*WaitForBytes) (void *arg, uint32 end);

extern bool check_segment_records(const char *segment, uint32 seg_size,
								  WalRecordSummary *summary,
								  char *problem, size_t problem_size);
extern bool check_records_as_written(const char *segment, uint32 seg_size,
									 WaitForBytes wait_for, void *wait_arg,
									 WalRecordSummary *summary,
									 char *problem, size_t problem_size);

#endif							/* WALRECORD_H */
