/*-------------------------------------------------------------------------
 *
 * fuzz_decompress.c
 *	  libFuzzer target: decompression of archived files.
 *
 * The input's first byte chooses the format (gzip, lz4 or zstd, as built);
 * the rest is the file.  decompress_file() must never crash or write more
 * than the largest WAL segment, whatever the file holds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/mman.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "decompress.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	in_fd = -1;
	static int	out_fd = -1;
	const ArchiveFormat *format;
	char		problem[256];
	uint64		written = 0;
	RestoreResult result;

	/* archive_formats[0] is the plain form, which is never decompressed */
	if (size < 1 || num_archive_formats < 2)
		return 0;
	format = &archive_formats[1 + data[0] % (num_archive_formats - 1)];

	if (in_fd < 0)
	{
		in_fd = memfd_create("fuzz_in", 0);
		out_fd = memfd_create("fuzz_out", 0);
		if (in_fd < 0 || out_fd < 0)
			abort();
	}
	if (ftruncate(in_fd, 0) != 0 || ftruncate(out_fd, 0) != 0 ||
		pwrite(in_fd, data + 1, size - 1, 0) != (ssize_t) (size - 1) ||
		lseek(in_fd, 0, SEEK_SET) != 0 || lseek(out_fd, 0, SEEK_SET) != 0)
		abort();

	result = decompress_file(format->compression, in_fd, out_fd, &written,
							 problem, sizeof(problem));
	if (written > WalSegMaxSize ||
		(result == RESTORE_DONE &&
		 lseek(out_fd, 0, SEEK_END) != (off_t) written))
		__builtin_trap();
	return 0;
}
