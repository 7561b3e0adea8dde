/*-------------------------------------------------------------------------
 *
 * decompress.h
 *	  The forms in which a segment may be stored in the archive, and their
 *	  decompression.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DECOMPRESS_H
#define DECOMPRESS_H

#include "restore.h"

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

extern const ArchiveFormat archive_formats[];
extern const int num_archive_formats;
extern RestoreResult decompress_file(ArchiveCompression compression,
									 int in_fd, int out_fd, uint64 *size,
									 char *problem, size_t problem_size);

#endif							/* DECOMPRESS_H */
