/*-------------------------------------------------------------------------
 *
 * file_system_faults.c
 *	  A copy_file_range() and an mmap() that fail as some file systems make
 *	  them fail, preloaded into pg_standby by t/003_copy_fallback.pl.
 *
 * No file system the tests can mount returns 0 from copy_file_range() for
 * a regular file, yet FUSE, network file systems and procfs do: this
 * stands in for them.  COPY_FILE_RANGE_FAULT says how each call fails:
 *
 *	zero		copies nothing and returns 0 (also when unset)
 *	short		copies at most 8192 bytes on the first call, then returns 0
 *	EXDEV, ENOSYS, EOPNOTSUPP, EINVAL
 *				copies nothing and returns -1 with that errno
 *	exit		calls exit(1), as a library function that gives up on its
 *				own does (libpgcommon's pg_malloc() when out of memory)
 *	none		copies, as the system call does
 *	shrink		copies on the first call; on the next, first cuts the
 *				file being read to what has been copied of it, as a
 *				writer that truncates a file in place would
 *
 * Nor can the tests mount one that refuses to map a file shared, as FUSE
 * in direct I/O mode does (ENODEV): with MMAP_FAULT=ENODEV, mmap() of a
 * file with MAP_SHARED fails so; every other mmap() is the system call's.
 *
 * Each call of either appends a line to the file COPY_FILE_RANGE_CALLS or
 * MMAP_CALLS names, so that the test knows the preloaded function was the
 * one called.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
count_call(const char *calls_variable)
{
	const char *path = getenv(calls_variable);
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

	count_call("COPY_FILE_RANGE_CALLS");
	calls++;
	if (fault != NULL && strcmp(fault, "shrink") == 0 && calls > 1)
	{
		char		path[64];
		int			fd;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd_in);
		fd = open(path, O_WRONLY);
		if (fd < 0 || ftruncate(fd, lseek(fd_in, 0, SEEK_CUR)) != 0)
			abort();
		close(fd);
	}
	if (fault != NULL &&
		(strcmp(fault, "none") == 0 || strcmp(fault, "shrink") == 0))
		return syscall(SYS_copy_file_range, fd_in, off_in, fd_out, off_out,
					   len, flags);
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

/*
 * Built with _FILE_OFFSET_BITS=64 (as PostgreSQL's meson build is),
 * pg_standby calls mmap64(): both names are ours.
 */
static void *
faulty_mmap(void *addr, size_t length, int prot, int flags, int fd,
			off_t offset)
{
	const char *fault = getenv("MMAP_FAULT");

	if (fault != NULL && fd >= 0 && (flags & MAP_SHARED))
	{
		count_call("MMAP_CALLS");
		if (strcmp(fault, "ENODEV") != 0)
			abort();
		errno = ENODEV;
		return MAP_FAILED;
	}
	return (void *) syscall(SYS_mmap, addr, length, prot, flags, fd, offset);
}

void *
mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	return faulty_mmap(addr, length, prot, flags, fd, offset);
}

void *
mmap64(void *addr, size_t length, int prot, int flags, int fd, off64_t offset)
{
	return faulty_mmap(addr, length, prot, flags, fd, offset);
}
