/*-------------------------------------------------------------------------
 *
 * verify_read.c
 *	  Read the archive's plain segments for pg_standby --verify one ahead,
 *	  in a second thread.
 *
 * Checking a plain segment takes two steps of about the same cost: the
 * kernel copying its 16 MB from the page cache (or the disk) into our
 * buffer, and the page header, record and CRC-32C checks over that buffer
 * (bench/10-verify.sh).  Done one after the other they add up; a reader
 * thread copies segment N+1 into a second buffer while the main thread
 * checks segment N, so the run takes about as long as the longer step, not
 * the sum, wherever a second core is free.  Two buffers of one segment
 * each: memory stays bounded whatever the archive's size.
 *
 * The reader takes the plain segments in the order of v->segments, the
 * order in which verify.c asks for them; compressed and .partial files
 * are left to verify.c, whose decompression is their cost.  The thread
 * only reads and records what went wrong; it never logs nor exits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "pg_standby.h"
#include "segbuf.h"
#include "verify_internal.h"

/* One segment, read or being read. */
typedef struct ReadSlot
{
	int			index;			/* in v->segments; -1 while free */
	bool		ready;			/* read, or failed with "problem" */
	char	   *buffer;
	size_t		buffer_size;
	uint64		size;			/* bytes read */
	bool		ok;
	char		problem[512];
} ReadSlot;

struct SegmentReader
{
	const Verify *v;
	bool		threaded;		/* false: each segment is read when asked for */
	pthread_t	thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a slot became ready or free */
	bool		stop;
	ReadSlot	slots[2];
	int			taken;			/* slot the main thread checks, or -1 */
};

/* Plain segments are ours to read; verify.c loads the others itself. */
bool
segment_reader_reads(const SegmentFile *sf)
{
	return sf->format->algorithm == PG_COMPRESSION_NONE && !sf->partial;
}

/* Open, size up and read one plain segment into its slot. */
static void
read_slot(const Verify *v, ReadSlot *slot)
{
	const SegmentFile *sf = &v->segments[slot->index];
	char		path[MAXPGPATH];
	struct stat st;
	int			fd;

	slot->ok = false;
	slot->size = 0;
	snprintf(path, sizeof(path), "%s/%s", v->archive_dir, sf->file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		set_problem(slot->problem, sizeof(slot->problem), "Could not open file: %m.");
	else if (st.st_size < XLOG_BLCKSZ)
		set_problem(slot->problem, sizeof(slot->problem), "The file has only %llu bytes, less than a WAL page.",
					(unsigned long long) st.st_size);
	else if (st.st_size > WalSegMaxSize)
		set_problem(slot->problem, sizeof(slot->problem),
					"The file has %llu bytes, more than any WAL segment.",
					(unsigned long long) st.st_size);
	else
	{
		slot->size = st.st_size;
		slot->ok = reserve_segment_buffer(&slot->buffer, &slot->buffer_size,
										  slot->size, slot->problem,
										  sizeof(slot->problem)) &&
			read_segment_into(fd, slot->buffer, slot->size, slot->problem,
							  sizeof(slot->problem));
	}
	if (fd >= 0)
		close(fd);
}

/* The next plain segment after index "after", or -1. */
static int
next_plain_segment(const Verify *v, int after)
{
	for (int i = after + 1; i < v->nsegments; i++)
	{
		if (segment_reader_reads(&v->segments[i]))
			return i;
	}
	return -1;
}

/*
 * The reader thread: each plain segment in turn into whichever slot the
 * main thread is not checking, as soon as that slot is free.
 */
static void *
reader_main(void *arg)
{
	SegmentReader *r = arg;
	int			next = next_plain_segment(r->v, -1);
	int			s = 0;

	while (next >= 0)
	{
		ReadSlot   *slot = &r->slots[s];

		pthread_mutex_lock(&r->lock);
		while (slot->index != -1 && !r->stop)
			pthread_cond_wait(&r->changed, &r->lock);
		if (r->stop)
		{
			pthread_mutex_unlock(&r->lock);
			break;
		}
		slot->index = next;
		slot->ready = false;
		pthread_mutex_unlock(&r->lock);

		read_slot(r->v, slot);

		pthread_mutex_lock(&r->lock);
		slot->ready = true;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);

		next = next_plain_segment(r->v, next);
		s = 1 - s;
	}
	return NULL;
}

/*
 * Start reading the plain segments of v->segments.  Without a thread (the
 * system would not give us one) each is read when asked for, as before.
 */
SegmentReader *
start_segment_reader(const Verify *v)
{
	SegmentReader *r = pg_malloc0(sizeof(SegmentReader));

	r->v = v;
	r->taken = -1;
	r->slots[0].index = r->slots[1].index = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->threaded = next_plain_segment(v, -1) >= 0 &&
		pthread_create(&r->thread, NULL, reader_main, r) == 0;
	return r;
}

/*
 * The contents of plain segment "index", in a buffer that stays ours until
 * the next call; NULL, with the reason in "problem", if it could not be
 * read.  Taking a segment frees the one taken before, which the reader
 * then fills with the segment after this one.
 */
char *
take_read_segment(SegmentReader *r, int index, uint64 *size,
				  char *problem, size_t problem_size)
{
	ReadSlot   *slot = NULL;

	if (!r->threaded)
	{
		slot = &r->slots[0];
		slot->index = index;
		read_slot(r->v, slot);
	}
	else
	{
		pthread_mutex_lock(&r->lock);
		if (r->taken >= 0)
		{
			r->slots[r->taken].index = -1;
			r->taken = -1;
			pthread_cond_broadcast(&r->changed);
		}
		for (;;)
		{
			for (int s = 0; s < lengthof(r->slots); s++)
			{
				if (r->slots[s].index == index && r->slots[s].ready)
					slot = &r->slots[s];
			}
			if (slot != NULL)
				break;
			pthread_cond_wait(&r->changed, &r->lock);
		}
		r->taken = slot - r->slots;
		pthread_mutex_unlock(&r->lock);
	}
	*size = slot->size;
	if (!slot->ok)
	{
		strlcpy(problem, slot->problem, problem_size);
		return NULL;
	}
	return slot->buffer;
}

/* Stop the reader, wherever it is, and free its buffers. */
void
stop_segment_reader(SegmentReader *r)
{
	if (r->threaded)
	{
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
	for (int s = 0; s < lengthof(r->slots); s++)
		free(r->slots[s].buffer);
	pg_free(r);
}
