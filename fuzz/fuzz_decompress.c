/*-------------------------------------------------------------------------
 *
 * fuzz_decompress.c
 *	  libFuzzer target: decoding of archived files.
 *
 * The input's first byte chooses the format (gzip, lz4 or zstd, as built);
 * the rest is the file.  decode_archive_file(), which both pg_standby and
 * pg_standby_archive use, must never crash or hand over more than the
 * largest WAL segment, whatever the file holds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/mman.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "archive_format.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
count_decoded(void *arg, const char *data, size_t len)
{
	*(uint64 *) arg += len;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	in_fd = -1;
	const ArchiveFormat *format;
	char		problem[256];
	uint64		decoded = 0;

	/* archive_formats[0] is the plain form, which is never decompressed */
	if (size < 1)
		return 0;
	format = &archive_formats[1 + data[0] % (num_archive_formats - 1)];
	if (!format->supported)
		return 0;

	if (in_fd < 0)
	{
		in_fd = memfd_create("fuzz_in", 0);
		if (in_fd < 0)
			abort();
	}
	if (ftruncate(in_fd, 0) != 0 ||
		pwrite(in_fd, data + 1, size - 1, 0) != (ssize_t) (size - 1) ||
		lseek(in_fd, 0, SEEK_SET) != 0)
		abort();

	(void) decode_archive_file(format->algorithm, in_fd, count_decoded,
							   &decoded, problem, sizeof(problem));
	if (decoded > WalSegMaxSize)
		__builtin_trap();
	return 0;
}
