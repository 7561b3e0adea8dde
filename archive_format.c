/*-------------------------------------------------------------------------
 *
 * archive_format.c
 *	  The forms a WAL file may take in the archive, and the one rule that
 *	  says what a compressed one holds.
 *
 * A segment is archived as NAME, NAME.gz, NAME.lz4 or NAME.zst.  A
 * compressed file holds what gzip -dc, lz4 -dc or zstd -dc decompress it
 * to: every gzip member, lz4 frame or zstd frame in it, in order (pigz -i,
 * pzstd and "cat a.gz b.gz" write several).  Anything else in the file is
 * invalid; a file that ends inside a member or frame is truncated (it may
 * still be being written).  Decoded contents larger than any WAL segment
 * are invalid, so that a small file cannot fill a disk.
 *
 * This file is built twice, as src/common's files are: with FRONTEND for
 * pg_standby, which restores such files, and without it for
 * pg_standby_archive, which compares them with the WAL file it archives,
 * and writes them: the writing of each format is here too, beside its
 * reading, but built for the backend only.
 * Which compressions exist depends on the libraries found at build time
 * (see the Makefile); both halves are built with the same ones.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include <fcntl.h>
#include <sys/stat.h>
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
#include "archive_format.h"
#ifndef FRONTEND
#include "common/file_perm.h"
#include "storage/fd.h"
#endif

const ArchiveFormat archive_formats[] = {
	{"", PG_COMPRESSION_NONE, true},
#ifdef PG_STANDBY_GZIP
	{".gz", PG_COMPRESSION_GZIP, true},
#else
	{".gz", PG_COMPRESSION_GZIP, false},
#endif
#ifdef PG_STANDBY_LZ4
	{".lz4", PG_COMPRESSION_LZ4, true},
#else
	{".lz4", PG_COMPRESSION_LZ4, false},
#endif
#ifdef PG_STANDBY_ZSTD
	{".zst", PG_COMPRESSION_ZSTD, true},
#else
	{".zst", PG_COMPRESSION_ZSTD, false},
#endif
};
const int	num_archive_formats = lengthof(archive_formats);

const ArchiveFormat *
archive_format_of(pg_compress_algorithm algorithm)
{
	for (int i = 0; i < num_archive_formats; i++)
	{
		if (archive_formats[i].algorithm == algorithm)
			return &archive_formats[i];
	}
	return NULL;
}

/*
 * One decompression in progress.  "at_boundary" is true when everything
 * consumed so far forms complete members or frames.
 */
typedef struct Decoder
{
	pg_compress_algorithm algorithm;
	bool		at_boundary;
#ifdef PG_STANDBY_GZIP
	z_stream	zs;
	bool		zs_ready;
#endif
#ifdef PG_STANDBY_LZ4
	LZ4F_dctx  *lz4;
#endif
#ifdef PG_STANDBY_ZSTD
	ZSTD_DCtx  *zstd;
#endif
} Decoder;

/* The name of one unit of each format, for messages. */
static const char *
stream_name(pg_compress_algorithm algorithm)
{
	switch (algorithm)
	{
		case PG_COMPRESSION_GZIP:
			return "gzip stream";
		case PG_COMPRESSION_LZ4:
			return "lz4 frame";
		case PG_COMPRESSION_ZSTD:
			return "zstd frame";
		default:
			return "file";
	}
}

static bool
decoder_init(Decoder *d, pg_compress_algorithm algorithm)
{
	memset(d, 0, sizeof(*d));
	d->algorithm = algorithm;

	switch (algorithm)
	{
		case PG_COMPRESSION_NONE:
			return true;
#ifdef PG_STANDBY_GZIP
		case PG_COMPRESSION_GZIP:
			/* 15 + 16: the largest window, gzip format only */
			d->zs_ready = inflateInit2(&d->zs, 15 + 16) == Z_OK;
			return d->zs_ready;
#endif
#ifdef PG_STANDBY_LZ4
		case PG_COMPRESSION_LZ4:
			return !LZ4F_isError(LZ4F_createDecompressionContext(&d->lz4,
																 LZ4F_VERSION));
#endif
#ifdef PG_STANDBY_ZSTD
		case PG_COMPRESSION_ZSTD:
			d->zstd = ZSTD_createDCtx();
			return d->zstd != NULL;
#endif
		default:
			return false;
	}
}

static void
decoder_end(Decoder *d)
{
#ifdef PG_STANDBY_GZIP
	if (d->zs_ready)
		inflateEnd(&d->zs);
#endif
#ifdef PG_STANDBY_LZ4
	if (d->lz4 != NULL)
		LZ4F_freeDecompressionContext(d->lz4);
#endif
#ifdef PG_STANDBY_ZSTD
	if (d->zstd != NULL)
		ZSTD_freeDCtx(d->zstd);
#endif
}

/*
 * Decode from *in (*in_len bytes, both advanced past what is consumed)
 * into out (*out_len bytes of room, set to the bytes produced).  A new
 * member or frame may begin where one ends.  False when the input is not
 * valid, with the reason in problem.
 */
static bool
decoder_step(Decoder *d, const char **in, size_t *in_len, char *out,
			 size_t *out_len, char *problem, size_t problem_size)
{
	size_t		consumed = 0;
	size_t		produced = 0;
	bool		frame_ended = false;

	switch (d->algorithm)
	{
		case PG_COMPRESSION_NONE:
			produced = consumed = Min(*in_len, *out_len);
			memcpy(out, *in, produced);
			frame_ended = true;
			break;
#ifdef PG_STANDBY_GZIP
		case PG_COMPRESSION_GZIP:
			{
				int			rc;

				/* after the end of a member, anything more is another one */
				if (d->at_boundary && *in_len > 0 && inflateReset(&d->zs) != Z_OK)
				{
					snprintf(problem, problem_size, _("Could not reset zlib."));
					return false;
				}
				d->zs.next_in = (Bytef *) unconstify(char *, *in);
				d->zs.avail_in = *in_len;
				d->zs.next_out = (Bytef *) out;
				d->zs.avail_out = *out_len;
				rc = inflate(&d->zs, Z_NO_FLUSH);
				if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
				{
					snprintf(problem, problem_size, _("The gzip data is invalid: %s."),
							 d->zs.msg ? d->zs.msg : _("unknown error"));
					return false;
				}
				consumed = *in_len - d->zs.avail_in;
				produced = *out_len - d->zs.avail_out;
				frame_ended = rc == Z_STREAM_END;
			}
			break;
#endif
#ifdef PG_STANDBY_LZ4
		case PG_COMPRESSION_LZ4:
			{
				size_t		rc;

				consumed = *in_len;
				produced = *out_len;
				rc = LZ4F_decompress(d->lz4, out, &produced, *in, &consumed,
									 NULL);
				if (LZ4F_isError(rc))
				{
					snprintf(problem, problem_size, _("The lz4 data is invalid: %s."),
							 LZ4F_getErrorName(rc));
					return false;
				}
				frame_ended = rc == 0;
			}
			break;
#endif
#ifdef PG_STANDBY_ZSTD
		case PG_COMPRESSION_ZSTD:
			{
				ZSTD_inBuffer input = {*in, *in_len, 0};
				ZSTD_outBuffer output = {out, *out_len, 0};
				size_t		rc;

				rc = ZSTD_decompressStream(d->zstd, &output, &input);
				if (ZSTD_isError(rc))
				{
					snprintf(problem, problem_size, _("The zstd data is invalid: %s."),
							 ZSTD_getErrorName(rc));
					return false;
				}
				consumed = input.pos;
				produced = output.pos;
				frame_ended = rc == 0;
			}
			break;
#endif
		default:
			snprintf(problem, problem_size,
					 _("This build cannot decompress \"%s\" files."),
					 archive_format_of(d->algorithm)->suffix);
			return false;
	}

	/*
	 * A call that moved nothing says nothing about the stream (the libraries
	 * answer such a call with a hint for the next frame).
	 */
	if (consumed > 0 || produced > 0)
		d->at_boundary = frame_ended;
	*in += consumed;
	*in_len -= consumed;
	*out_len = produced;
	return true;
}

/* Read len bytes, fewer only at the end of the file; -1 with errno. */
ssize_t
archive_read_full(int fd, char *buf, size_t len)
{
	size_t		total = 0;

	while (total < len)
	{
		ssize_t		n = read(fd, buf + total, len - total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		total += n;
	}
	return total;
}

/*
 * Decode the archive file open at fd, stored compressed as "algorithm"
 * (PG_COMPRESSION_NONE passes it through), handing its contents to the
 * consumer.  Never throws an error and never exits: the caller decides
 * what each outcome means, with the reason in problem.
 */
DecodeResult
decode_archive_file(pg_compress_algorithm algorithm, int fd,
					DecodedDataConsumer consumer, void *arg,
					char *problem, size_t problem_size)
{
	Decoder		d;
	char	   *in_buf;
	char	   *out_buf;
	uint64		total = 0;
	bool		any_input = false;
	DecodeResult result = DECODE_DONE;

	problem[0] = '\0';

	/* not palloc() or pg_malloc(): neither may throw or exit here */
	in_buf = malloc(ARCHIVE_CHUNK_SIZE);
	out_buf = malloc(ARCHIVE_CHUNK_SIZE);
	if (in_buf == NULL || out_buf == NULL || !decoder_init(&d, algorithm))
	{
		if (in_buf != NULL && out_buf != NULL &&
			!archive_format_of(algorithm)->supported)
			snprintf(problem, problem_size,
					 _("This build cannot decompress \"%s\" files."),
					 archive_format_of(algorithm)->suffix);
		else
			snprintf(problem, problem_size, _("Out of memory."));
		free(in_buf);
		free(out_buf);
		return DECODE_FAILED;
	}

	while (result == DECODE_DONE)
	{
		ssize_t		nread = archive_read_full(fd, in_buf, ARCHIVE_CHUNK_SIZE);
		const char *next = in_buf;
		size_t		left;
		size_t		produced;

		if (nread < 0)
		{
			snprintf(problem, problem_size, _("Could not read file: %m."));
			result = DECODE_FAILED;
			break;
		}
		if (nread == 0)
			break;
		any_input = true;
		left = nread;

		/* until the chunk is consumed and the decoder holds nothing back */
		do
		{
			size_t		left_before = left;

			produced = ARCHIVE_CHUNK_SIZE;
			if (!decoder_step(&d, &next, &left, out_buf, &produced,
							  problem, problem_size))
				result = DECODE_INVALID;
			else if (produced == 0 && left > 0 && left == left_before)
			{
				snprintf(problem, problem_size,
						 _("The %s is invalid: decoding makes no progress."),
						 stream_name(algorithm));
				result = DECODE_INVALID;
			}
			else if (total + produced > WalSegMaxSize)
			{
				snprintf(problem, problem_size,
						 _("The decompressed data exceeds the largest WAL segment size."));
				result = DECODE_INVALID;
			}
			else if (produced > 0 && !consumer(arg, out_buf, produced))
				result = DECODE_STOPPED;
			total += produced;
		} while (result == DECODE_DONE &&
				 (left > 0 || produced == ARCHIVE_CHUNK_SIZE));
	}

	if (result == DECODE_DONE && algorithm != PG_COMPRESSION_NONE &&
		(!any_input || !d.at_boundary))
	{
		snprintf(problem, problem_size,
				 _("The %s ends early: the file may still be being written."),
				 stream_name(algorithm));
		result = DECODE_TRUNCATED;
	}

	decoder_end(&d);
	free(in_buf);
	free(out_buf);
	return result;
}

#ifndef FRONTEND

/*
 * Open a file to read, as a transient file: the error recovery closes it
 * after an error.
 */
int
archive_open_file(const char *path)
{
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);

	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	return fd;
}

void
archive_close_file(int fd, const char *path)
{
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", path)));
}

/*
 * Writing a compressed file, for pg_standby_archive.  One gzip member, or
 * one lz4 or zstd frame with the content size and a checksum of the
 * contents, which pg_standby and the standard tools check.
 */
typedef struct ArchiveEncoder
{
	pg_compress_algorithm algorithm;
	int			fd;
	const char *path;
	char	   *out;
	size_t		out_size;		/* room for the encoding of one chunk */
#ifdef PG_STANDBY_GZIP
	z_stream	zs;
	bool		zs_ready;
#endif
#ifdef PG_STANDBY_LZ4
	LZ4F_cctx  *lz4;
#endif
#ifdef PG_STANDBY_ZSTD
	ZSTD_CCtx  *zstd;
#endif
} ArchiveEncoder;

static void
encoder_failed(ArchiveEncoder *e, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not compress data into file \"%s\"", e->path),
			 reason ? errdetail_internal("%s", reason) : 0));
}

static void
encoder_output(ArchiveEncoder *e, const char *data, size_t len)
{
	errno = 0;
	if (write(e->fd, data, len) != (ssize_t) len)
	{
		/* a short write sets no errno: out of space, as copy_file() assumes */
		if (errno == 0)
			errno = ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write to file \"%s\": %m", e->path)));
	}
}

/*
 * Start writing content_size bytes, compressed as spec says, to fd (the
 * file at path).  What it gets from the library, encoder_free() frees,
 * also after an error here.
 */
static void
encoder_begin(ArchiveEncoder *e, const pg_compress_specification *spec,
			  uint64 content_size, int fd, const char *path)
{
	e->algorithm = spec->algorithm;
	e->fd = fd;
	e->path = path;
	e->out_size = ARCHIVE_CHUNK_SIZE;

	switch (spec->algorithm)
	{
#ifdef PG_STANDBY_GZIP
		case PG_COMPRESSION_GZIP:
			/* 15 + 16: a 32 kB window, gzip format */
			if (deflateInit2(&e->zs, spec->level, Z_DEFLATED, 15 + 16, 8,
							 Z_DEFAULT_STRATEGY) != Z_OK)
				encoder_failed(e, e->zs.msg);
			e->zs_ready = true;
			e->out = palloc(e->out_size);
			break;
#endif
#ifdef PG_STANDBY_LZ4
		case PG_COMPRESSION_LZ4:
			{
				LZ4F_preferences_t prefs;
				size_t		header;

				memset(&prefs, 0, sizeof(prefs));
				prefs.compressionLevel = spec->level;
				prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
				prefs.frameInfo.contentSize = content_size;
				if (LZ4F_isError(LZ4F_createCompressionContext(&e->lz4, LZ4F_VERSION)))
					encoder_failed(e, NULL);
				e->out_size = Max(LZ4F_HEADER_SIZE_MAX,
								  LZ4F_compressBound(ARCHIVE_CHUNK_SIZE, &prefs));
				e->out = palloc(e->out_size);
				header = LZ4F_compressBegin(e->lz4, e->out, e->out_size, &prefs);
				if (LZ4F_isError(header))
					encoder_failed(e, LZ4F_getErrorName(header));
				encoder_output(e, e->out, header);
			}
			break;
#endif
#ifdef PG_STANDBY_ZSTD
		case PG_COMPRESSION_ZSTD:
			{
				size_t		status;

				e->zstd = ZSTD_createCCtx();
				if (e->zstd == NULL)
					encoder_failed(e, _("out of memory"));
				status = ZSTD_CCtx_setParameter(e->zstd, ZSTD_c_compressionLevel,
												spec->level);
				if (!ZSTD_isError(status))
					status = ZSTD_CCtx_setParameter(e->zstd, ZSTD_c_checksumFlag, 1);
				if (!ZSTD_isError(status))
					status = ZSTD_CCtx_setPledgedSrcSize(e->zstd, content_size);
				if (ZSTD_isError(status))
					encoder_failed(e, ZSTD_getErrorName(status));
				e->out = palloc(e->out_size);
			}
			break;
#endif
		default:
			elog(ERROR, "unexpected compression algorithm %d", spec->algorithm);
	}
}

/*
 * Compress len bytes (at most ARCHIVE_CHUNK_SIZE) into the file; with
 * "last", end the member or frame.
 */
static void
encode(ArchiveEncoder *e, const char *data, size_t len, bool last)
{
	Assert(len <= ARCHIVE_CHUNK_SIZE);

	switch (e->algorithm)
	{
#ifdef PG_STANDBY_GZIP
		case PG_COMPRESSION_GZIP:
			{
				int			status;

				e->zs.next_in = (Bytef *) unconstify(char *, data);
				e->zs.avail_in = len;
				do
				{
					e->zs.next_out = (Bytef *) e->out;
					e->zs.avail_out = e->out_size;
					status = deflate(&e->zs, last ? Z_FINISH : Z_NO_FLUSH);
					if (status == Z_STREAM_ERROR)
						encoder_failed(e, e->zs.msg);
					encoder_output(e, e->out, e->out_size - e->zs.avail_out);
				} while (e->zs.avail_out == 0 ||
						 (last && status != Z_STREAM_END));
			}
			break;
#endif
#ifdef PG_STANDBY_LZ4
		case PG_COMPRESSION_LZ4:
			{
				size_t		n;

				n = last ? LZ4F_compressEnd(e->lz4, e->out, e->out_size, NULL) :
					LZ4F_compressUpdate(e->lz4, e->out, e->out_size, data, len,
										NULL);
				if (LZ4F_isError(n))
					encoder_failed(e, LZ4F_getErrorName(n));
				encoder_output(e, e->out, n);
			}
			break;
#endif
#ifdef PG_STANDBY_ZSTD
		case PG_COMPRESSION_ZSTD:
			{
				ZSTD_inBuffer input = {data, len, 0};
				size_t		remaining;

				do
				{
					ZSTD_outBuffer output = {e->out, e->out_size, 0};

					remaining = ZSTD_compressStream2(e->zstd, &output, &input,
													 last ? ZSTD_e_end : ZSTD_e_continue);
					if (ZSTD_isError(remaining))
						encoder_failed(e, ZSTD_getErrorName(remaining));
					encoder_output(e, e->out, output.pos);
				} while (input.pos < input.size || (last && remaining != 0));
			}
			break;
#endif
		default:
			elog(ERROR, "unexpected compression algorithm %d", e->algorithm);
	}
}

/* Free the compression library's memory; never throws. */
static void
encoder_free(ArchiveEncoder *e)
{
#ifdef PG_STANDBY_GZIP
	if (e->zs_ready)
		deflateEnd(&e->zs);
#endif
#ifdef PG_STANDBY_LZ4
	if (e->lz4 != NULL)
		LZ4F_freeCompressionContext(e->lz4);
#endif
#ifdef PG_STANDBY_ZSTD
	if (e->zstd != NULL)
		ZSTD_freeCCtx(e->zstd);
#endif
}

/*
 * Write the file at "from", compressed as spec says, to "to", a new file,
 * as copy_file() copies one.  The caller removes "to" after an error.
 */
void
archive_compress_file(const char *from, const char *to,
					  const pg_compress_specification *spec)
{
	ArchiveEncoder *e = palloc0(sizeof(ArchiveEncoder));
	char	   *buf = palloc(ARCHIVE_CHUNK_SIZE);
	int			from_fd;
	int			to_fd;
	struct stat st;
	ssize_t		n;

	from_fd = archive_open_file(from);
	if (fstat(from_fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", from)));
	to_fd = OpenTransientFilePerm(to, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY,
								  pg_file_create_mode);
	if (to_fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", to)));

	PG_TRY();
	{
		encoder_begin(e, spec, st.st_size, to_fd, to);
		while ((n = archive_read_full(from_fd, buf, ARCHIVE_CHUNK_SIZE)) > 0)
			encode(e, buf, n, false);
		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", from)));
		encode(e, NULL, 0, true);
	}
	PG_FINALLY();
	{
		encoder_free(e);
	}
	PG_END_TRY();

	archive_close_file(to_fd, to);
	archive_close_file(from_fd, from);
	pfree(buf);
	pfree(e);
}

#endif							/* !FRONTEND */
