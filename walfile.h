/*-------------------------------------------------------------------------
 *
 * walfile.h
 *	  WAL file names, and the checks a file must pass before the server
 *	  may see it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALFILE_H
#define WALFILE_H

#include "access/xlogdefs.h"

/* What the requested file name says the file is. */
typedef enum WalFileKind
{
	WALFILE_SEGMENT,			/* TTTTTTTTXXXXXXXXYYYYYYYY */
	WALFILE_TIMELINE_HISTORY,	/* TTTTTTTT.history */
	WALFILE_BACKUP_HISTORY,		/* TTTTTTTTXXXXXXXXYYYYYYYY.OOOOOOOO.backup */
	WALFILE_INVALID				/* anything else: never touched */
} WalFileKind;

/*
 * What a segment must match, learned from the request and the data
 * directory before the first byte is read.
 */
typedef struct SegmentExpectation
{
	const char *name;			/* requested segment file name */
	TimeLineID	tli;			/* timeline from the name */
	uint32		log;			/* high 32 bits of the start address */
	uint32		seg;			/* segment number within "log" */
	uint16		page_magic;		/* XLOG_PAGE_MAGIC; 0 = any we know */
	uint64		sysid;			/* system identifier; 0 = not known */
} SegmentExpectation;

extern WalFileKind classify_wal_file_name(const char *name);
extern bool parse_segment_name(const char *name, TimeLineID *tli,
							   uint32 *log, uint32 *seg);
extern uint16 page_magic_for_major(int major);
extern bool check_first_page(const SegmentExpectation *expect,
							 const char *page, size_t len,
							 uint32 *seg_size, char *problem,
							 size_t problem_size);
extern bool check_segment_contents(const SegmentExpectation *expect,
								   const char *data, size_t len,
								   char *problem, size_t problem_size);
extern bool check_history_contents(WalFileKind kind, TimeLineID file_tli,
								   const char *data, size_t len,
								   char *problem, size_t problem_size);

#endif							/* WALFILE_H */
