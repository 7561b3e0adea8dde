/*-------------------------------------------------------------------------
 *
 * decompress.c
 *	  Decompress an archived file (gzip, lz4 frame, zstd) into a file
 *	  descriptor, in one streaming pass.
 *
 * Archives are often compressed: pg_receivewal --compress writes .gz and
 * .lz4, other archivers .zst.  A compressed file that ends before its
 * stream does is taken to be still being written (the caller waits); one
 * the library cannot decode is refused.  Which formats exist depends on
 * the libraries found at build time (see the Makefile).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#ifdef PG_STANDBY_GZIP
#include <zlib.h>
#endif
#ifdef PG_STANDBY_LZ4
#include <lz4frame.h>
#endif
#ifdef PG_STANDBY_ZSTD
#include <zstd.h>
#endif

#include "access/xlog_internal.h"
#include "decompress.h"

#define CHUNK_SIZE	(256 * 1024)

#define PROBLEM(...) snprintf(problem, problem_size, __VA_ARGS__)

/* The suffixes under which segments may be archived, in the order tried. */
const ArchiveFormat archive_formats[] = {
	{"", ARCHIVE_PLAIN},
#ifdef PG_STANDBY_GZIP
	{".gz", ARCHIVE_GZIP},
#endif
#ifdef PG_STANDBY_LZ4
	{".lz4", ARCHIVE_LZ4},
#endif
#ifdef PG_STANDBY_ZSTD
	{".zst", ARCHIVE_ZSTD},
#endif
};
const int	num_archive_formats = lengthof(archive_formats);

/*
 * State of one decompression: the output side, shared by all formats.
 * Output beyond the largest possible segment is refused rather than
 * written, so that a "compression bomb" cannot fill the disk.
 */
typedef struct Output
{
	int			fd;
	uint64		written;
	char	   *buffer;
} Output;

static bool
emit(Output *out, const char *data, size_t len, char *problem,
	 size_t problem_size)
{
	if (out->written + len > WalSegMaxSize)
	{
		PROBLEM("decompressed data exceeds the largest WAL segment size");
		return false;
	}
	while (len > 0)
	{
		ssize_t		n = write(out->fd, data, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			PROBLEM("could not write decompressed data: %m");
			return false;
		}
		data += n;
		len -= n;
		out->written += n;
	}
	return true;
}

#ifdef PG_STANDBY_GZIP
static RestoreResult
decompress_gzip(int in_fd, Output *out, char *in_buf, char *problem,
				size_t problem_size)
{
	z_stream	zs;
	RestoreResult result = RESTORE_INCOMPLETE;
	ssize_t		n = 0;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a gzip stream with the largest window */
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
	{
		PROBLEM("could not initialize zlib");
		return RESTORE_COPY_ERROR;
	}
	while (result == RESTORE_INCOMPLETE &&
		   (n = read(in_fd, in_buf, CHUNK_SIZE)) > 0)
	{
		zs.next_in = (Bytef *) in_buf;
		zs.avail_in = n;
		while (zs.avail_in > 0 && result == RESTORE_INCOMPLETE)
		{
			int			rc;

			zs.next_out = (Bytef *) out->buffer;
			zs.avail_out = CHUNK_SIZE;
			rc = inflate(&zs, Z_NO_FLUSH);
			if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			{
				PROBLEM("invalid gzip data: %s", zs.msg ? zs.msg : "unknown error");
				result = RESTORE_INVALID;
			}
			else if (!emit(out, out->buffer, CHUNK_SIZE - zs.avail_out,
						   problem, problem_size))
				result = RESTORE_INVALID;
			else if (rc == Z_STREAM_END)
				result = zs.avail_in == 0 ? RESTORE_DONE : RESTORE_INVALID;
		}
	}
	if (n < 0)
	{
		PROBLEM("could not read compressed file: %m");
		result = RESTORE_COPY_ERROR;
	}
	else if (result == RESTORE_INVALID && problem[0] == '\0')
		PROBLEM("data follows the end of the gzip stream");
	else if (result == RESTORE_INCOMPLETE)
		PROBLEM("gzip stream ends early: file still being written?");
	inflateEnd(&zs);
	return result;
}
#endif

#ifdef PG_STANDBY_LZ4
static RestoreResult
decompress_lz4(int in_fd, Output *out, char *in_buf, char *problem,
			   size_t problem_size)
{
	LZ4F_dctx  *ctx;
	RestoreResult result = RESTORE_INCOMPLETE;
	ssize_t		n = 0;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
	{
		PROBLEM("could not initialize lz4");
		return RESTORE_COPY_ERROR;
	}
	while (result == RESTORE_INCOMPLETE &&
		   (n = read(in_fd, in_buf, CHUNK_SIZE)) > 0)
	{
		const char *next = in_buf;
		size_t		left = n;

		while (left > 0 && result == RESTORE_INCOMPLETE)
		{
			size_t		in_size = left;
			size_t		out_size = CHUNK_SIZE;
			size_t		rc;

			rc = LZ4F_decompress(ctx, out->buffer, &out_size, next, &in_size,
								 NULL);
			if (LZ4F_isError(rc))
			{
				PROBLEM("invalid lz4 data: %s", LZ4F_getErrorName(rc));
				result = RESTORE_INVALID;
			}
			else if (!emit(out, out->buffer, out_size, problem, problem_size))
				result = RESTORE_INVALID;
			else
			{
				next += in_size;
				left -= in_size;
				if (rc == 0)
					result = left == 0 ? RESTORE_DONE : RESTORE_INVALID;
			}
		}
	}
	if (n < 0)
	{
		PROBLEM("could not read compressed file: %m");
		result = RESTORE_COPY_ERROR;
	}
	else if (result == RESTORE_INVALID && problem[0] == '\0')
		PROBLEM("data follows the end of the lz4 frame");
	else if (result == RESTORE_INCOMPLETE)
		PROBLEM("lz4 frame ends early: file still being written?");
	LZ4F_freeDecompressionContext(ctx);
	return result;
}
#endif

#ifdef PG_STANDBY_ZSTD
static RestoreResult
decompress_zstd(int in_fd, Output *out, char *in_buf, char *problem,
				size_t problem_size)
{
	ZSTD_DCtx  *ctx = ZSTD_createDCtx();
	RestoreResult result = RESTORE_INCOMPLETE;
	ssize_t		n = 0;

	if (ctx == NULL)
	{
		PROBLEM("could not initialize zstd");
		return RESTORE_COPY_ERROR;
	}
	while (result == RESTORE_INCOMPLETE &&
		   (n = read(in_fd, in_buf, CHUNK_SIZE)) > 0)
	{
		ZSTD_inBuffer input = {in_buf, n, 0};

		while (input.pos < input.size && result == RESTORE_INCOMPLETE)
		{
			ZSTD_outBuffer output = {out->buffer, CHUNK_SIZE, 0};
			size_t		rc = ZSTD_decompressStream(ctx, &output, &input);

			if (ZSTD_isError(rc))
			{
				PROBLEM("invalid zstd data: %s", ZSTD_getErrorName(rc));
				result = RESTORE_INVALID;
			}
			else if (!emit(out, out->buffer, output.pos, problem,
						   problem_size))
				result = RESTORE_INVALID;
			else if (rc == 0)
				result = input.pos == input.size ? RESTORE_DONE :
					RESTORE_INVALID;
		}
	}
	if (n < 0)
	{
		PROBLEM("could not read compressed file: %m");
		result = RESTORE_COPY_ERROR;
	}
	else if (result == RESTORE_INVALID && problem[0] == '\0')
		PROBLEM("data follows the end of the zstd frame");
	else if (result == RESTORE_INCOMPLETE)
		PROBLEM("zstd frame ends early: file still being written?");
	ZSTD_freeDCtx(ctx);
	return result;
}
#endif

/*
 * Decompress everything readable from in_fd into out_fd.  On success,
 * *size is the number of bytes written.  RESTORE_INCOMPLETE means the
 * stream stops short (or the file holds more than one stream and the
 * second is still being written: the caller waits either way).
 */
RestoreResult
decompress_file(ArchiveCompression compression, int in_fd, int out_fd,
				uint64 *size, char *problem, size_t problem_size)
{
	static char *in_buf = NULL;
	static char *out_buf = NULL;
	Output		out = {out_fd, 0, NULL};
	RestoreResult result = RESTORE_INVALID;

	problem[0] = '\0';
	/* not pg_malloc(): running out of memory must not exit with 1 */
	if (in_buf == NULL)
		in_buf = malloc(CHUNK_SIZE);
	if (out_buf == NULL)
		out_buf = malloc(CHUNK_SIZE);
	if (in_buf == NULL || out_buf == NULL)
	{
		PROBLEM("out of memory");
		return RESTORE_COPY_ERROR;
	}
	out.buffer = out_buf;

	switch (compression)
	{
#ifdef PG_STANDBY_GZIP
		case ARCHIVE_GZIP:
			result = decompress_gzip(in_fd, &out, in_buf, problem, problem_size);
			break;
#endif
#ifdef PG_STANDBY_LZ4
		case ARCHIVE_LZ4:
			result = decompress_lz4(in_fd, &out, in_buf, problem, problem_size);
			break;
#endif
#ifdef PG_STANDBY_ZSTD
		case ARCHIVE_ZSTD:
			result = decompress_zstd(in_fd, &out, in_buf, problem, problem_size);
			break;
#endif
		default:
			PROBLEM("this pg_standby was built without support for this compression");
			break;
	}

	/* the stream may have ended exactly where a read did: look once more */
	if (result == RESTORE_DONE && read(in_fd, in_buf, 1) != 0)
	{
		PROBLEM("data follows the end of the compressed stream");
		result = RESTORE_INVALID;
	}
	*size = out.written;
	return result;
}
