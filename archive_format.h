/*-------------------------------------------------------------------------
 *
 * archive_format.h
 *	  The forms a WAL file may take in the archive, and what each one holds.
 *
 * pg_standby (frontend) and pg_standby_archive (backend) both build
 * archive_format.c, so that the two halves agree on every name a segment
 * may be stored under and on what a compressed file decodes to; the
 * backend's build also writes compressed files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ARCHIVE_FORMAT_H
#define ARCHIVE_FORMAT_H

#include "common/compression.h"

/* Bytes read, decoded, compressed or compared at a time. */
#define ARCHIVE_CHUNK_SIZE	(128 * 1024)

/* One way a segment may be stored: NAME followed by suffix. */
typedef struct ArchiveFormat
{
	const char *suffix;			/* "", ".gz", ".lz4" or ".zst" */
	pg_compress_algorithm algorithm;
	bool		supported;		/* this build has the library to decode it */
} ArchiveFormat;

/* Every form, in the order pg_standby tries them. */
extern const ArchiveFormat archive_formats[];
extern const int num_archive_formats;

extern const ArchiveFormat *archive_format_of(pg_compress_algorithm algorithm);

/* Outcome of decoding one archive file. */
typedef enum DecodeResult
{
	DECODE_DONE,				/* every stream in the file is complete */
	DECODE_TRUNCATED,			/* the file ends inside a stream */
	DECODE_INVALID,				/* not what the standard tool decodes */
	DECODE_FAILED,				/* could not read, or out of memory */
	DECODE_STOPPED				/* the consumer asked to stop */
} DecodeResult;

/*
 * Receives the decoded contents in order, in chunks of at most
 * ARCHIVE_CHUNK_SIZE bytes; returns false to stop decoding.  It must not
 * throw an error: the decoder holds memory of the compression libraries
 * until it returns.
 */
typedef bool (*DecodedDataConsumer) (void *arg, const char *data, size_t len);

extern ssize_t archive_read_full(int fd, char *buf, size_t len);

extern DecodeResult decode_archive_file(pg_compress_algorithm algorithm,
										int fd, DecodedDataConsumer consumer,
										void *arg, char *problem,
										size_t problem_size);

#ifndef FRONTEND
/* pg_standby_archive only: reading files, and writing a compressed one. */
extern int	archive_open_file(const char *path);
extern void archive_close_file(int fd, const char *path);
extern void archive_compress_file(const char *from, const char *to,
								  const pg_compress_specification *spec);
#endif

#endif							/* ARCHIVE_FORMAT_H */
