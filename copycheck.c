/*-------------------------------------------------------------------------
 *
 * copycheck.c
 *	  Check the records of a plain segment while it is being copied.
 *
 * Restoring a present plain segment takes two steps of comparable cost:
 * the kernel copying it into our temporary file, and the check of every
 * record with its CRC-32C over that copy (PostgreSQL's CRC-32C runs at
 * about a third of the speed of the kernel's copy; benchmark 1).  One
 * after the other they take 1.5 times as long as cp.  So the copy goes in
 * chunks, and a second thread walks the records of the copy (a mapping of
 * it) up to the last chunk copied, waiting for the next one where it
 * catches up: where a second core is free, the walk ends soon after the
 * copy.  What is checked is still the copy, exactly what is handed over.
 *
 * The checking thread only reads the mapping and signals nothing: every
 * signal of ours is left to the copying thread, whose handlers remove the
 * temporary file (restore.c).  It never logs nor exits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "copycheck.h"
#include "pg_standby.h"
#include "walrecord.h"

/* The kernel copies this much at a time; the walk follows it. */
#define COPY_CHUNK_SIZE		(1024 * 1024)

/* What the copying and the checking thread share. */
typedef struct CopyCheck
{
	const char *contents;		/* mapping of the copy */
	uint32		seg_size;

	pthread_mutex_t lock;
	pthread_cond_t arrived;		/* "copied" grew, or "given_up" was set */
	uint32		copied;			/* bytes copied so far */
	bool		given_up;		/* the copy stopped short */
	uint32		mapped;			/* bytes the walk has mapped in (its own) */

	bool		valid;			/* the walk's verdict */
	char		problem[256];	/* why not */
} CopyCheck;

/* The walk's WaitForBytes: wait until the copy has reached "end". */
static bool
wait_for_copy(void *arg, uint32 end)
{
	CopyCheck  *cc = arg;
	uint32		copied;

	if (end <= cc->mapped)
		return true;
	pthread_mutex_lock(&cc->lock);
	while (cc->copied < end && !cc->given_up)
		pthread_cond_wait(&cc->arrived, &cc->lock);
	copied = cc->copied;
	pthread_mutex_unlock(&cc->lock);
	if (copied < end)
		return false;

	/* map in every page copied so far in one call (see segbuf.c) */
#ifdef MADV_POPULATE_READ
	(void) madvise(unconstify(char *, cc->contents) + cc->mapped,
				   copied - cc->mapped, MADV_POPULATE_READ);
#endif
	cc->mapped = copied;
	return true;
}

static void *
check_thread(void *arg)
{
	CopyCheck  *cc = arg;
	WalRecordSummary summary;

	cc->valid = check_records_as_written(cc->contents, cc->seg_size,
										 wait_for_copy, cc, &summary,
										 cc->problem, sizeof(cc->problem));
	return NULL;
}

/* Tell the checking thread how far the copy has come. */
static void
copy_arrived(CopyCheck *cc, uint32 copied, bool given_up)
{
	pthread_mutex_lock(&cc->lock);
	cc->copied = copied;
	cc->given_up = given_up;
	pthread_cond_signal(&cc->arrived);
	pthread_mutex_unlock(&cc->lock);
}

/*
 * Copy the plain segment at in_fd, "seg_size" bytes as its first page
 * says, into out_fd (empty, open for reading and writing) with
 * copy_chunk(), and check its page headers and records.  *result is
 * RESTORE_DONE if the copy is complete and valid; otherwise the reason is
 * in "problem": the copy's if it stopped short, else the check's.
 * Returns false, having copied nothing, where the file system cannot map
 * the copy: the caller then copies and checks one after the other.
 * Without a second thread, this one checks after copying.
 */
bool
copy_and_check_segment(int in_fd, int out_fd, uint32 seg_size,
					   const SegmentExpectation *expect, CopyChunk copy_chunk,
					   RestoreResult *result, char *problem,
					   size_t problem_size)
{
	CopyCheck	cc = {0};
	pthread_t	thread;
	sigset_t	all_signals;
	sigset_t	our_signals;
	bool		started;
	void	   *contents;

	/* the copy's full size first, so that all of it can be mapped */
	if (ftruncate(out_fd, seg_size) != 0)
		return false;
	contents = mmap(NULL, seg_size, PROT_READ, MAP_SHARED, out_fd, 0);
	if (contents == MAP_FAILED)
		return false;

	cc.contents = contents;
	cc.seg_size = seg_size;
	pthread_mutex_init(&cc.lock, NULL);
	pthread_cond_init(&cc.arrived, NULL);
	sigfillset(&all_signals);
	pthread_sigmask(SIG_SETMASK, &all_signals, &our_signals);
	started = pthread_create(&thread, NULL, check_thread, &cc) == 0;
	pthread_sigmask(SIG_SETMASK, &our_signals, NULL);

	*result = RESTORE_DONE;
	for (uint32 copied = 0; copied < seg_size;)
	{
		uint32		chunk = Min(COPY_CHUNK_SIZE, seg_size - copied);

		*result = copy_chunk(in_fd, out_fd, chunk, problem, problem_size);
		if (*result != RESTORE_DONE)
		{
			copy_arrived(&cc, copied, true);
			break;
		}
		copied += chunk;
		copy_arrived(&cc, copied, false);
	}

	if (started)
		pthread_join(thread, NULL);
	else if (*result == RESTORE_DONE)
		check_thread(&cc);
	pthread_cond_destroy(&cc.arrived);
	pthread_mutex_destroy(&cc.lock);

	if (*result == RESTORE_DONE &&
		!check_segment_contents(expect, contents, seg_size, problem,
								problem_size))
		*result = RESTORE_INVALID;
	else if (*result == RESTORE_DONE && !cc.valid)
	{
		strlcpy(problem, cc.problem, problem_size);
		*result = RESTORE_INVALID;
	}
	(void) munmap(contents, seg_size);
	return true;
}
