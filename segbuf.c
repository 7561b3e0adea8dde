/*-------------------------------------------------------------------------
 *
 * segbuf.c
 *	  Read a whole segment into memory, to check it.
 *
 * The checks of walfile.c and walrecord.c read every byte of a segment.
 * Reading the file into one buffer, backed by huge pages where the kernel
 * offers them, costs less than mapping it: a mapping of the page cache is
 * made of 4 kB pages, and touching 4096 of them for a 16 MB segment costs
 * a TLB miss each, which in a virtual machine is several times a memory
 * access (bench/10-verify.sh: half the CPU time of --verify went there).
 * The buffer is ours alone, so what is checked cannot change afterwards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/mman.h>
#include <unistd.h>

#include "pg_standby.h"
#include "segbuf.h"

/* Huge pages are 2 MB on the machines we run on; alignment to it lets the
 * kernel back the buffer with them. */
#define HUGE_PAGE_SIZE		(2 * 1024 * 1024)

/*
 * Make *buffer (of *buffer_size bytes, NULL at first) hold at least "size"
 * bytes.  Returns false, with the reason in "problem", if it cannot.  Not
 * pg_malloc(): running out of memory must not exit with 1 on the restore
 * path.
 */
bool
reserve_segment_buffer(char **buffer, size_t *buffer_size, size_t size,
					   char *problem, size_t problem_size)
{
	size_t		rounded = TYPEALIGN(HUGE_PAGE_SIZE, size);

	if (size <= *buffer_size)
		return true;
	free(*buffer);
	*buffer = aligned_alloc(HUGE_PAGE_SIZE, rounded);
	*buffer_size = *buffer ? rounded : 0;
	if (*buffer == NULL)
	{
		set_problem(problem, problem_size, "Out of memory.");
		return false;
	}
#ifdef MADV_HUGEPAGE
	(void) madvise(*buffer, rounded, MADV_HUGEPAGE);
#endif
	return true;
}

/*
 * Read "size" bytes from the start of fd into "buffer", in as few read
 * calls as the kernel allows.  Returns false, with the reason in
 * "problem", if it cannot.
 */
bool
read_segment_into(int fd, char *buffer, size_t size, char *problem,
				  size_t problem_size)
{
	size_t		done = 0;

	while (done < size)
	{
		ssize_t		n = pread(fd, buffer + done, size - done, done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			set_problem(problem, problem_size, "Could not read file: %m.");
			return false;
		}
		if (n == 0)
		{
			set_problem(problem, problem_size, "The file shrank to %zu bytes while being read.",
						done);
			return false;
		}
		done += n;
	}
	return true;
}

/*
 * Read "size" bytes from the start of fd into a buffer reused from call to
 * call.  Returns NULL, with the reason in "problem", if it cannot.
 */
char *
read_whole_segment(int fd, size_t size, char *problem, size_t problem_size)
{
	static char *buffer = NULL;
	static size_t buffer_size = 0;

	if (!reserve_segment_buffer(&buffer, &buffer_size, size, problem,
								problem_size) ||
		!read_segment_into(fd, buffer, size, problem, problem_size))
		return NULL;
	return buffer;
}
