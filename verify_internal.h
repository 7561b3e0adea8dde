/*-------------------------------------------------------------------------
 *
 * verify_internal.h
 *	  What the files of pg_standby --verify share: the archive as read,
 *	  and the findings about it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VERIFY_INTERNAL_H
#define VERIFY_INTERNAL_H

#include "access/xlogdefs.h"
#include "archive_format.h"
#include "restore.h"
#include "port/pg_crc32c.h"
#include "walrecord.h"

/* What one segment file turned out to be. */
typedef struct SegmentFile
{
	char	   *file;			/* name in the archive */
	TimeLineID	tli;			/* from the name */
	uint32		log;
	uint32		seg;
	XLogSegNo	segno;			/* once the segment size is known */
	const ArchiveFormat *format;
	bool		partial;
	bool		valid;			/* passed every check */
	uint32		seg_size;		/* from its first page header */
	char	   *problem;		/* why not */
	uint64		sysid;
	WalRecordSummary summary;
	XLogRecPtr	own_tli_from;	/* first page written on timeline "tli" */
	pg_crc32c	crc;			/* of the contents, when compared */
	bool		crc_known;
} SegmentFile;

/* A timeline history file: timeline entries[i].tli ended at entries[i].end. */
typedef struct HistoryEntry
{
	TimeLineID	tli;
	XLogRecPtr	end;
} HistoryEntry;

typedef struct HistoryFile
{
	char	   *file;
	TimeLineID	tli;
	int			nentries;
	HistoryEntry *entries;
} HistoryFile;

/* A finding of the report. */
typedef struct Finding
{
	const char *kind;
	char	   *file;			/* may be NULL */
	char	   *message;
	bool		problem;		/* false: information */
} Finding;

/* Options and results of one run. */
typedef struct Verify
{
	const char *archive_dir;
	const char *from;
	bool		json;
	uint64		sysid;			/* 0 until known */
	const char *sysid_source;

	SegmentFile *segments;
	int			nsegments;
	HistoryFile *histories;
	int			nhistories;
	char	  **backups;
	int			nbackups;
	int			nother;
	uint32		seg_size;

	Finding    *findings;
	int			nfindings;
	int			nproblems;

	/* --from */
	bool		from_checked;
	bool		reaches_end;
	TimeLineID	from_tli;
	XLogRecPtr	from_lsn;
	char	   *from_answer;
} Verify;

/* verify.c */
extern void add_finding(Verify *v, const char *kind, const char *file,
						bool problem, const char *fmt,...) pg_attribute_printf(5, 6);
extern char *read_text_file(const char *path, size_t *len, char *problem,
							size_t problem_size);
extern bool same_segment(const SegmentFile *a, const SegmentFile *b);

/* verify_check.c */
#define MAX_VERIFY_JOBS		64	/* --jobs: each holds up to two segments */

extern void check_segments(Verify *v, int jobs);

/* verify_judge.c */
extern bool next_segment_range(const Verify *v, int *pos, TimeLineID *tli,
							   XLogSegNo *first, XLogSegNo *last);
extern void judge_segments(Verify *v);
extern void judge_gaps(Verify *v);
extern void judge_histories(Verify *v);
extern void judge_backups(Verify *v);
extern void judge_from(Verify *v);

/* verify_report.c */
extern int	verify_exit_status(const Verify *v);
extern void print_report(const Verify *v);

#endif							/* VERIFY_INTERNAL_H */
