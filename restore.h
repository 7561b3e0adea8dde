/*-------------------------------------------------------------------------
 *
 * restore.h
 *	  Copy a file from the archive to the place the server asked for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RESTORE_H
#define RESTORE_H

#include "common/compression.h"
#include "walfile.h"

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

extern void restore_handle_termination_signals(void);
extern void remove_temporary_file(void);
extern bool archive_path_fits(const char *archive_dir, const char *file_name);
extern bool restore_path_fits(const char *restore_path);
extern RestoreResult restore_segment(const char *archive_dir,
									 const SegmentExpectation *expect,
									 bool partial,
									 const char *restore_path,
									 uint32 *seg_size, char *source,
									 char *problem, size_t problem_size);
extern bool segment_in_server_wal(const char *restore_path,
								  const SegmentExpectation *expect,
								  bool written_to_end);
extern RestoreResult decompress_segment(pg_compress_algorithm compression,
										int in_fd, int out_fd, uint64 *size,
										char *problem, size_t problem_size);
extern RestoreResult restore_history(const char *archive_path,
									 const char *restore_path,
									 WalFileKind kind, TimeLineID file_tli,
									 char *problem, size_t problem_size);

#endif							/* RESTORE_H */
