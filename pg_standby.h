/*-------------------------------------------------------------------------
 *
 * pg_standby.h
 *	  Declarations shared by the source files of pg_standby.
 *
 * pg_standby is a restore_command for a warm standby: it waits for each
 * WAL segment the server asks for to appear in an archive directory,
 * checks it, and copies it into place; a trigger ends the wait so that the
 * server finishes recovery.  The server reads our exit status, so every
 * exit goes through the statuses defined here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_STANDBY_H
#define PG_STANDBY_H

#include <sys/types.h>

#include "access/xlogdefs.h"

/* PostgreSQL 18 replaced pg_attribute_noreturn() with pg_noreturn. */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * Exit statuses.  The server treats 0 as "restored", any other status up to
 * 125 as "not available" (in archive recovery that ends recovery and
 * promotes), and a status above 125 as a fatal error that stops it.
 */
#define EXIT_RESTORED			0	/* %p holds the requested file */
#define EXIT_NOT_AVAILABLE		1	/* absent history file, or failover */
#define EXIT_CONFIG_ERROR		254 /* unusable command line or setup */
#define EXIT_GAVE_UP			255 /* a present file could not be copied */

/* What the requested file name says the file is. */
typedef enum WalFileKind
{
	WALFILE_SEGMENT,			/* TTTTTTTTXXXXXXXXYYYYYYYY */
	WALFILE_TIMELINE_HISTORY,	/* TTTTTTTT.history */
	WALFILE_BACKUP_HISTORY,		/* TTTTTTTTXXXXXXXXYYYYYYYY.OOOOOOOO.backup */
	WALFILE_INVALID				/* anything else: never touched */
} WalFileKind;

/* How the server that runs us is recovering, from its signal files. */
typedef enum RecoveryMode
{
	RECOVERY_ARCHIVE,			/* recovery.signal: exit 1 ends recovery */
	RECOVERY_STANDBY,			/* standby.signal: exit 1 is retried */
	RECOVERY_NONE				/* not the server (pg_rewind, a test, ...) */
} RecoveryMode;

/* How a file is stored in the archive. */
typedef enum ArchiveCompression
{
	ARCHIVE_PLAIN,
	ARCHIVE_GZIP,
	ARCHIVE_LZ4,
	ARCHIVE_ZSTD
} ArchiveCompression;

typedef struct ArchiveFormat
{
	const char *suffix;			/* appended to the WAL file name */
	ArchiveCompression compression;
} ArchiveFormat;

/*
 * An empty trigger file changed this recently (seconds) may still be being
 * written: it is looked at again after this long before it counts.
 */
#define TRIGGER_SETTLE_TIME		0.02

/* A failover request, from the weakest to the strongest. */
typedef enum Failover
{
	FAILOVER_NONE,
	FAILOVER_UNDECIDED,			/* a trigger file is being written */
	FAILOVER_SMART,				/* restore what is there, then end */
	FAILOVER_FAST				/* end now */
} Failover;

/* Outcome of one attempt to restore a file. */
typedef enum RestoreResult
{
	RESTORE_DONE,				/* %p now holds the checked file */
	RESTORE_ABSENT,				/* no such file in the archive */
	RESTORE_INCOMPLETE,			/* present but still being written */
	RESTORE_INVALID,			/* present but not the file asked for */
	RESTORE_ARCHIVE_ERROR,		/* archive unreadable: transient */
	RESTORE_COPY_ERROR			/* reading or writing failed mid-copy */
} RestoreResult;

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

/*
 * Streaming checker for a segment's contents: fed the file's bytes in
 * order, in chunks of any size, it checks every page header as it passes.
 */
typedef struct SegmentChecker
{
	const SegmentExpectation *expect;
	uint32		seg_size;		/* from the first page's long header */
	uint64		bytes;			/* bytes fed so far */
	uint16		page_magic;		/* magic of the first page */
	bool		zero_seen;		/* an all-zero page has been seen */
	TimeLineID	last_tli;		/* page TLI of the previous page */
	uint32		page_fill;		/* bytes collected in "page" */
	char		page[XLOG_BLCKSZ];
	char		problem[256];	/* why the file was refused */
} SegmentChecker;

/* walfile.c */
extern WalFileKind classify_wal_file_name(const char *name);
extern bool parse_segment_name(const char *name, TimeLineID *tli,
							   uint32 *log, uint32 *seg);
extern uint16 page_magic_for_major(int major);
extern bool check_first_page(const SegmentExpectation *expect,
							 const char *page, size_t len,
							 uint32 *seg_size, char *problem,
							 size_t problem_size);
extern void segment_checker_init(SegmentChecker *checker,
								 const SegmentExpectation *expect);
extern bool segment_checker_feed(SegmentChecker *checker,
								 const char *data, size_t len);
extern bool segment_checker_finish(SegmentChecker *checker);
extern bool check_history_contents(WalFileKind kind, const char *data,
								   size_t len, char *problem,
								   size_t problem_size);

/* datadir.c */
extern RecoveryMode detect_recovery_mode(const char *restore_path);
extern int	read_server_major_version(void);
extern uint64 read_system_identifier(void);
extern bool request_promotion(void);
extern bool promotion_requested(void);
extern bool first_request_for_segment(const char *restore_path,
									  const char *segment);

/* decompress.c */
extern const ArchiveFormat archive_formats[];
extern const int num_archive_formats;
extern RestoreResult decompress_file(ArchiveCompression compression,
									 int in_fd, int out_fd, uint64 *size,
									 char *problem, size_t problem_size);

/* serverconf.c */
extern bool read_server_setting(const char *name, char *value,
								size_t value_size);

/* restore.c */
extern RestoreResult restore_segment(const char *archive_path,
									 ArchiveCompression compression,
									 bool partial,
									 const char *restore_path,
									 const SegmentExpectation *expect,
									 uint32 *seg_size,
									 char *problem, size_t problem_size);
extern RestoreResult restore_history(const char *archive_path,
									 const char *restore_path,
									 WalFileKind kind,
									 char *problem, size_t problem_size);
extern void remove_temporary_file(void);

/* cleanup.c */
extern void remove_old_segments(const char *archive_dir,
								const char *restart_name);

/* trigger.c */
extern Failover check_failover(const char *trigger_path);
extern void report_failover(Failover failover, const char *trigger_path);

/* wait.c */
typedef enum WaitEvent
{
	WAIT_TIMEOUT,				/* the poll interval passed */
	WAIT_WOKEN,					/* something changed: look again */
	WAIT_SERVER_GONE			/* the server process that ran us died */
} WaitEvent;

extern void wait_init(const char *archive_dir, const char *trigger_path);
extern WaitEvent wait_for_change(double seconds);
extern int	fast_failover_signalled(void);

#endif							/* PG_STANDBY_H */
