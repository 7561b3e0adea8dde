/*-------------------------------------------------------------------------
 *
 * segbuf.c
 *	  Bring a whole segment into memory, to check it.
 *
 * The checks of walfile.c and walrecord.c read every byte of a segment.
 * A file of someone else's (the archive's, for --verify; one already in
 * pg_wal) is read into a buffer of ours, backed by huge pages where the
 * kernel offers them: what is checked cannot change afterwards, and a file
 * that shrinks meanwhile is an error to report, where in a mapping it
 * would be a SIGBUS.  Mapped lazily, a segment also cost a page fault and
 * a TLB miss for each of its 4096 pages (bench/10-verify.sh: half the CPU
 * time of --verify went there).
 *
 * The restore path's own temporary copy is different: no one else writes
 * it, and what is checked must be exactly what is handed over.  There a
 * mapping of the copy's pages, all mapped in one call, is the cheaper way
 * (benchmark 1): reading it into fresh memory costs a second copy of 16
 * MB and the kernel zeroing that memory first, each more than the
 * mapping.
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
 * Read the bytes from offset "from" up to "to" of fd into the same place
 * of "buffer", in as few read calls as the kernel allows.  Returns false,
 * with the reason in "problem", if it cannot.
 */
bool
read_segment_range(int fd, char *buffer, size_t from, size_t to,
				   char *problem, size_t problem_size)
{
	size_t		done = from;

	while (done < to)
	{
		ssize_t		n = pread(fd, buffer + done, to - done, done);

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
 * Read "size" bytes from the start of fd into "buffer".  Returns false,
 * with the reason in "problem", if it cannot.
 */
bool
read_segment_into(int fd, char *buffer, size_t size, char *problem,
				  size_t problem_size)
{
	return read_segment_range(fd, buffer, 0, size, problem, problem_size);
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

/*
 * Map the first "size" bytes of our own temporary copy, open for reading at
 * fd, with every page mapped at once where the kernel can
 * (MADV_POPULATE_READ, Linux 5.14).  Returns NULL if the file system
 * cannot map it (FUSE in direct I/O mode: ENODEV); the caller reads it
 * instead.  unmap_segment_copy() releases the mapping.
 */
const char *
map_segment_copy(int fd, size_t size)
{
	void	   *contents = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

	if (contents == MAP_FAILED)
		return NULL;
#ifdef MADV_POPULATE_READ
	(void) madvise(contents, size, MADV_POPULATE_READ);
#endif
	return contents;
}

void
unmap_segment_copy(const char *contents, size_t size)
{
	(void) munmap(unconstify(char *, contents), size);
}
