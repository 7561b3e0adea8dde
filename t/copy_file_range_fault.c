/*-------------------------------------------------------------------------
 *
 * copy_file_range_fault.c
 *	  A copy_file_range() that fails as some file systems make it fail,
 *	  preloaded into pg_standby by t/003_copy_fallback.pl.
 *
 * No file system the tests can mount returns 0 from copy_file_range() for
 * a regular file, yet FUSE, network file systems and procfs do: this
 * stands in for them.  COPY_FILE_RANGE_FAULT says how each call fails:
 *
 *	zero		copies nothing and returns 0
 *	short		copies at most 8192 bytes on the first call, then returns 0
 *	EXDEV, ENOSYS, EOPNOTSUPP, EINVAL
 *				copies nothing and returns -1 with that errno
 *	exit		calls exit(1), as a library function that gives up on its
 *				own does (libpgcommon's pg_malloc() when out of memory)
 *
 * Each call appends a line to the file COPY_FILE_RANGE_CALLS names, so
 * that the test knows the preloaded function was the one called.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
count_call(void)
{
	const char *path = getenv("COPY_FILE_RANGE_CALLS");
	int			fd;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0)
		return;
	if (write(fd, "call\n", 5) != 5)
		abort();
	close(fd);
}

ssize_t
copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out,
				size_t len, unsigned int flags)
{
	static int	calls = 0;
	const char *fault = getenv("COPY_FILE_RANGE_FAULT");

	count_call();
	calls++;
	if (fault == NULL || strcmp(fault, "zero") == 0)
		return 0;
	if (strcmp(fault, "exit") == 0)
		exit(1);
	if (strcmp(fault, "short") == 0)
	{
		if (calls > 1)
			return 0;
		return syscall(SYS_copy_file_range, fd_in, off_in, fd_out, off_out,
					   len < 8192 ? len : 8192, flags);
	}
	if (strcmp(fault, "EXDEV") == 0)
		errno = EXDEV;
	else if (strcmp(fault, "ENOSYS") == 0)
		errno = ENOSYS;
	else if (strcmp(fault, "EOPNOTSUPP") == 0)
		errno = EOPNOTSUPP;
	else if (strcmp(fault, "EINVAL") == 0)
		errno = EINVAL;
	else
		abort();
	return -1;
}
