/*-------------------------------------------------------------------------
 *
 * verify_check.c
 *	  Check each segment file of the archive for pg_standby --verify, with
 *	  the restore path's checks, several segments at a time.
 *
 * Checking a segment takes two steps: getting its bytes into memory (the
 * kernel copying 16 MB out of the page cache or off the disk, or a
 * decompressor) and the page header, record and CRC-32C checks over them.
 * For a plain segment the first is about 60 % of the CPU time and the
 * second 40 % (bench/10-verify.sh, perf).  Neither can shrink much, and
 * within one segment they cannot overlap: records cross page boundaries
 * and are checked once the segment is whole.  Segments, though, are
 * independent of each other, so each of --jobs threads (two by default)
 * takes the next segment that no thread has taken, reads and checks it in
 * a buffer of its own, and records the outcome in that segment's
 * SegmentFile, which no other thread touches.  With a free core for each,
 * the run takes the total divided by the threads.
 *
 * Memory stays bounded whatever the archive's size: each thread holds one
 * segment buffer, and one anonymous memory file for the contents of
 * compressed and .partial files as the restore path would hand them over.
 * What depends on the archive as a whole (its segment size, its system
 * identifier) verify.c settles afterwards, in the archive's order, so the
 * outcome never depends on which thread finished first.  A thread never
 * logs nor exits, except as pg_strdup() does when memory runs out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "common/logging.h"
#include "pg_standby.h"
#include "segbuf.h"
#include "verify_internal.h"
#include "walfile.h"
#include "walrecord.h"

/* What the threads of one run share. */
typedef struct CheckRun
{
	const Verify *v;
	pthread_mutex_t lock;
	int			next;			/* first segment no thread has taken */
	int			done;			/* segments checked, for the progress line */
	uint64		bytes;
} CheckRun;

/*
 * A plain segment is read into the buffer a piece at a time, as the walk
 * of its records reaches each piece, so that the piece is checked while
 * the CPU's cache still holds it (about a tenth less CPU time than
 * reading the whole segment first, bench/10-verify.sh).
 */
#define READ_PIECE_SIZE		(256 * 1024)

/* One thread's share: its own buffer and memory file. */
typedef struct Checker
{
	CheckRun   *run;
	pthread_t	thread;
	char	   *buffer;
	size_t		buffer_size;
	int			mem_fd;

	/* the segment being read into the buffer */
	int			read_fd;		/* -1 once all of it is there */
	uint32		read_so_far;
	uint32		read_size;
	char		read_problem[256];	/* why the rest could not be read */
} Checker;

/*
 * Put the contents of a compressed or .partial segment into "mem_fd" as
 * the restore path would hand them over: decompressed, and a .partial
 * padded with zeros to the segment size its first page header gives.
 * Returns the size, 0 on failure.
 */
static uint64
load_segment(const SegmentFile *sf, int in_fd, int mem_fd,
			 char *problem, size_t problem_size)
{
	RestoreResult result;
	uint64		size = 0;

	if (ftruncate(mem_fd, 0) != 0 || lseek(mem_fd, 0, SEEK_SET) != 0)
	{
		set_problem(problem, problem_size, "Could not reset memory file: %m.");
		return 0;
	}
	if (sf->format->algorithm != PG_COMPRESSION_NONE)
	{
		result = decompress_segment(sf->format->algorithm, in_fd, mem_fd,
									&size, problem, problem_size);
		if (result == RESTORE_INCOMPLETE && !sf->partial)
		{
			set_problem(problem, problem_size,
						"The compressed data ends after %llu bytes: the file is truncated, or still being written.",
						(unsigned long long) size);
			return 0;
		}
		if (result != RESTORE_DONE && result != RESTORE_INCOMPLETE)
			return 0;
	}
	else
	{
		char		buffer[65536];
		ssize_t		n;

		while ((n = read(in_fd, buffer, sizeof(buffer))) > 0)
		{
			if (write(mem_fd, buffer, n) != n)
			{
				set_problem(problem, problem_size, "Could not write memory file: %m.");
				return 0;
			}
			size += n;
		}
		if (n < 0)
		{
			set_problem(problem, problem_size, "Could not read file: %m.");
			return 0;
		}
	}
	if (sf->partial)
	{
		XLogLongPageHeaderData hdr;
		uint32		seg_size = 0;

		if (pread(mem_fd, &hdr, sizeof(hdr), 0) == sizeof(hdr) &&
			IsValidWalSegSize(hdr.xlp_seg_size))
			seg_size = hdr.xlp_seg_size;
		/* as restore.c does: a last page cut inside its header holds nothing */
		if (size % XLOG_BLCKSZ > 0 && size % XLOG_BLCKSZ < SizeOfXLogLongPHD)
			size -= size % XLOG_BLCKSZ;
		if (size < XLOG_BLCKSZ)
		{
			set_problem(problem, problem_size,
						"The partial segment ends before its first page header.");
			return 0;
		}
		if (seg_size != 0 && size < seg_size)
			size = seg_size;
		if (ftruncate(mem_fd, size) != 0)
		{
			set_problem(problem, problem_size, "Could not extend memory file: %m.");
			return 0;
		}
	}
	return size;
}

/*
 * Make ready the contents of "sf" in the checker's buffer: a compressed or
 * .partial file loaded through its memory file, a plain segment left open
 * to be read as the walk goes (read_up_to).  Returns the size, 0 with the
 * reason in "problem" on failure.
 */
static uint64
read_contents(const Verify *v, const SegmentFile *sf, Checker *c,
			  char *problem, size_t problem_size)
{
	char		path[MAXPGPATH];
	struct stat st;
	uint64		size = 0;
	int			fd;

	snprintf(path, sizeof(path), "%s/%s", v->archive_dir, sf->file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		set_problem(problem, problem_size, "Could not open file: %m.");
	else if (sf->format->algorithm != PG_COMPRESSION_NONE || sf->partial)
	{
		if ((size = load_segment(sf, fd, c->mem_fd, problem,
								 problem_size)) != 0 &&
			!(reserve_segment_buffer(&c->buffer, &c->buffer_size, size,
									 problem, problem_size) &&
			  read_segment_into(c->mem_fd, c->buffer, size, problem,
								problem_size)))
			size = 0;
	}
	else if (st.st_size < XLOG_BLCKSZ)
		set_problem(problem, problem_size, "The file has only %llu bytes, less than a WAL page.",
					(unsigned long long) st.st_size);
	else if (st.st_size > WalSegMaxSize)
		set_problem(problem, problem_size,
					"The file has %llu bytes, more than any WAL segment.",
					(unsigned long long) st.st_size);
	else if (reserve_segment_buffer(&c->buffer, &c->buffer_size, st.st_size,
									problem, problem_size))
	{
		c->read_fd = fd;
		c->read_so_far = 0;
		c->read_size = st.st_size;
		return st.st_size;
	}
	if (fd >= 0)
		close(fd);
	return size;
}

/*
 * Have the bytes of the segment up to "end" in the buffer, reading whole
 * pieces; the walk's WaitForBytes.  false, with the reason in
 * c->read_problem, if they cannot be read.
 */
static bool
read_up_to(void *arg, uint32 end)
{
	Checker    *c = arg;
	uint32		to;

	if (c->read_fd < 0 || end <= c->read_so_far)
		return true;
	to = Min(TYPEALIGN(READ_PIECE_SIZE, end), c->read_size);
	if (!read_segment_range(c->read_fd, c->buffer, c->read_so_far, to,
							c->read_problem, sizeof(c->read_problem)))
		return false;
	c->read_so_far = to;
	return true;
}

/* The first page of "sf" whose header carries the file's own timeline. */
static XLogRecPtr
first_page_of_own_timeline(const SegmentFile *sf, const char *contents,
						   uint32 size)
{
	for (uint32 offset = 0; offset + XLOG_BLCKSZ <= size;
		 offset += XLOG_BLCKSZ)
	{
		XLogPageHeaderData hdr;

		memcpy(&hdr, contents + offset, sizeof(hdr));
		if (hdr.xlp_magic != 0 && hdr.xlp_tli == sf->tli)
			return hdr.xlp_pageaddr;
	}
	return InvalidXLogRecPtr;
}

/*
 * Check one segment file completely, as the restore path would, and
 * record the outcome in *sf.  Returns the bytes checked.
 */
static uint64
check_segment(const Verify *v, SegmentFile *sf, Checker *c)
{
	SegmentExpectation expect = {0};
	XLogLongPageHeaderData hdr;
	char		name[XLOG_FNAME_LEN + 1];
	char		problem[512];
	char		record_problem[512];
	uint64		size;
	bool		records_ok;
	bool		ok = false;

	strlcpy(name, sf->file, sizeof(name));
	expect.name = name;
	expect.tli = sf->tli;
	expect.log = sf->log;
	expect.seg = sf->seg;
	problem[0] = '\0';

	c->read_fd = -1;
	c->read_problem[0] = '\0';
	size = read_contents(v, sf, c, problem, sizeof(problem));

	/*
	 * The records first, read as the walk goes, then the page headers of the
	 * whole segment.  A problem with the headers is the one reported where
	 * both are found, as the restore path does.
	 */
	if (size != 0 && read_up_to(c, XLOG_BLCKSZ) &&
		check_first_page(&expect, c->buffer, size, &sf->seg_size, problem,
						 sizeof(problem)))
	{
		records_ok = check_records_as_written(c->buffer, size, read_up_to, c,
											  &sf->summary, record_problem,
											  sizeof(record_problem));
		ok = read_up_to(c, size) &&
			check_segment_contents(&expect, c->buffer, size, problem,
								   sizeof(problem));
		if (ok && !records_ok)
		{
			strlcpy(problem, record_problem, sizeof(problem));
			ok = false;
		}
	}
	if (c->read_problem[0] != '\0')
		strlcpy(problem, c->read_problem, sizeof(problem));
	if (c->read_fd >= 0)
		close(c->read_fd);
	if (ok)
	{
		memcpy(&hdr, c->buffer, sizeof(hdr));
		sf->sysid = hdr.xlp_sysid;
		sf->own_tli_from = first_page_of_own_timeline(sf, c->buffer, size);
		/* one segment in several forms: compare what each holds */
		if (!sf->partial &&
			((sf > v->segments && same_segment(&sf[-1], sf)) ||
			 (sf + 1 < v->segments + v->nsegments && same_segment(&sf[1], sf))))
		{
			INIT_CRC32C(sf->crc);
			COMP_CRC32C(sf->crc, c->buffer, size);
			FIN_CRC32C(sf->crc);
			sf->crc_known = true;
		}
	}
	sf->valid = ok;
	if (!ok)
		sf->problem = pg_strdup(problem);
	return size;
}

/* The progress line, on a terminal only, at most five times a second. */
static void
report_progress(int done, int total, uint64 bytes, bool finished)
{
	static struct timespec last;
	struct timespec now;

	if (!isatty(fileno(stderr)))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!finished && done > 0 &&
		(now.tv_sec - last.tv_sec) * 1000 +
		(now.tv_nsec - last.tv_nsec) / 1000000 < 200)
		return;
	last = now;
	if (finished)
		fprintf(stderr, "\r%*s\r", 60, "");
	else
		fprintf(stderr, "\rverifying: %d/%d files, %llu MB checked",
				done, total, (unsigned long long) (bytes >> 20));
	/* a line that does not end: stderr is line-buffered (pg_standby.c) */
	fflush(stderr);
}

/*
 * Check segments until none is left; the main thread's checker also
 * keeps the progress line.
 */
static void
check_until_done(Checker *c, bool main_thread)
{
	CheckRun   *run = c->run;
	const Verify *v = run->v;

	for (;;)
	{
		int			i;
		int			done;
		uint64		bytes;
		uint64		size;

		pthread_mutex_lock(&run->lock);
		i = run->next < v->nsegments ? run->next++ : -1;
		done = run->done;
		bytes = run->bytes;
		pthread_mutex_unlock(&run->lock);
		if (i < 0)
			break;
		if (main_thread)
			report_progress(done, v->nsegments, bytes, false);

		size = check_segment(v, &v->segments[i], c);

		pthread_mutex_lock(&run->lock);
		run->done++;
		run->bytes += size;
		pthread_mutex_unlock(&run->lock);
	}
}

static void *
checker_thread(void *arg)
{
	check_until_done(arg, false);
	return NULL;
}

/*
 * Check every segment of v->segments in "jobs" threads, this one among
 * them.  A thread the system will not give us leaves its share to the
 * others.
 */
void
check_segments(Verify *v, int jobs)
{
	CheckRun	run = {0};
	Checker    *checkers = pg_malloc0(jobs * sizeof(Checker));
	int			started = 1;

	run.v = v;
	pthread_mutex_init(&run.lock, NULL);
	for (int j = 0; j < jobs; j++)
	{
		checkers[j].run = &run;
		checkers[j].mem_fd = memfd_create("pg_standby-verify", MFD_CLOEXEC);
		if (checkers[j].mem_fd < 0)
		{
			pg_log_error("could not create memory file: %m");
			exit(EXIT_CONFIG_ERROR);
		}
	}
	while (started < jobs &&
		   pthread_create(&checkers[started].thread, NULL, checker_thread,
						  &checkers[started]) == 0)
		started++;

	check_until_done(&checkers[0], true);

	for (int j = 1; j < started; j++)
		pthread_join(checkers[j].thread, NULL);
	report_progress(v->nsegments, v->nsegments, run.bytes, true);
	pthread_mutex_destroy(&run.lock);
	for (int j = 0; j < jobs; j++)
	{
		close(checkers[j].mem_fd);
		free(checkers[j].buffer);
	}
	pg_free(checkers);
}
