/*-------------------------------------------------------------------------
 *
 * verify.c
 *	  pg_standby --verify ARCHIVE: check every file of an archive directory
 *	  with the restore path's own checks, and say whether its WAL can be
 *	  replayed.
 *
 * Every segment (plain, compressed, .partial) gets the page header checks
 * of walfile.c and the record checks of walrecord.c; timeline history and
 * backup history files are parsed.  Then the archive is judged as a whole:
 * per timeline, the ranges of segments present and the gaps between them;
 * segments of another system; history files that contradict each other or
 * the segments (a switch point where the segments show none, a timeline
 * that goes on after another branched from it); one segment stored in
 * several forms with different contents.  With --from (a segment, a backup
 * history file or a backup_label), the question a failover depends on:
 * does the WAL from there reach the end of the archive on the newest
 * timeline?  The answer is the exit status (verify.h).
 *
 * Only one segment is held at a time (mapped, or decompressed into an
 * anonymous memory file), so memory does not grow with the archive; the
 * list of file names does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "common/logging.h"
#include "decompress.h"
#include "getopt_long.h"
#include "pg_standby.h"
#include "verify.h"
#include "walfile.h"
#include "walrecord.h"

/* What one segment file turned out to be. */
typedef struct SegmentFile
{
	char	   *file;			/* name in the archive */
	TimeLineID	tli;			/* from the name */
	uint32		log;
	uint32		seg;
	XLogSegNo	segno;			/* once the segment size is known */
	const ArchiveFormat *format;
	bool		partial;
	bool		valid;			/* passed every check */
	char	   *problem;		/* why not */
	uint64		sysid;
	WalRecordSummary summary;
	XLogRecPtr	own_tli_from;	/* first page written on timeline "tli" */
	pg_crc32c	crc;			/* of the contents, when compared */
	bool		crc_known;
} SegmentFile;

/* A timeline history file: timeline entries[i].tli ended at entries[i].end. */
typedef struct HistoryEntry
{
	TimeLineID	tli;
	XLogRecPtr	end;
} HistoryEntry;

typedef struct HistoryFile
{
	char	   *file;
	TimeLineID	tli;
	int			nentries;
	HistoryEntry *entries;
} HistoryFile;

/* A finding of the report. */
typedef struct Finding
{
	const char *kind;
	char	   *file;			/* may be NULL */
	char	   *message;
	bool		problem;		/* false: information */
} Finding;

/* Options and results of one run. */
typedef struct Verify
{
	const char *archive_dir;
	const char *from;
	bool		json;
	uint64		sysid;			/* 0 until known */
	const char *sysid_source;

	SegmentFile *segments;
	int			nsegments;
	HistoryFile *histories;
	int			nhistories;
	char	  **backups;
	int			nbackups;
	int			nother;
	uint32		seg_size;

	Finding    *findings;
	int			nfindings;
	int			nproblems;

	/* --from */
	bool		from_checked;
	bool		reaches_end;
	TimeLineID	from_tli;
	XLogRecPtr	from_lsn;
	char	   *from_answer;
} Verify;

static const char *progname;

static void
usage_error(void)
{
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	exit(EXIT_CONFIG_ERROR);
}

static void
add_finding(Verify *v, const char *kind, const char *file, bool problem,
			const char *fmt,...) pg_attribute_printf(5, 6);

static void
add_finding(Verify *v, const char *kind, const char *file, bool problem,
			const char *fmt,...)
{
	Finding    *f;
	char		message[1024];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	v->findings = pg_realloc(v->findings,
							 (v->nfindings + 1) * sizeof(Finding));
	f = &v->findings[v->nfindings++];
	f->kind = kind;
	f->file = file ? pg_strdup(file) : NULL;
	f->message = pg_strdup(message);
	f->problem = problem;
	if (problem)
		v->nproblems++;
}

/*
 * Parse a segment file name with an optional compression suffix and an
 * optional ".partial".
 */
static bool
parse_archived_segment(const char *file, SegmentFile *sf)
{
	char		name[XLOG_FNAME_LEN + 1];
	const char *suffix = file + XLOG_FNAME_LEN;

	if (strlen(file) < XLOG_FNAME_LEN)
		return false;
	memcpy(name, file, XLOG_FNAME_LEN);
	name[XLOG_FNAME_LEN] = '\0';
	if (!parse_segment_name(name, &sf->tli, &sf->log, &sf->seg))
		return false;
	for (int i = 0; i < num_archive_formats; i++)
	{
		size_t		len = strlen(archive_formats[i].suffix);
		const char *tail = suffix + len;

		if (strncmp(suffix, archive_formats[i].suffix, len) == 0 &&
			(*tail == '\0' || strcmp(tail, ".partial") == 0))
		{
			sf->format = &archive_formats[i];
			sf->partial = *tail != '\0';
			return true;
		}
	}
	return false;
}

static int
compare_segments(const void *a, const void *b)
{
	const SegmentFile *x = a;
	const SegmentFile *y = b;

	if (x->tli != y->tli)
		return x->tli < y->tli ? -1 : 1;
	if (x->log != y->log)
		return x->log < y->log ? -1 : 1;
	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	if (x->partial != y->partial)
		return x->partial ? 1 : -1;
	return x->format - y->format;
}

static int
compare_histories(const void *a, const void *b)
{
	const HistoryFile *x = a;
	const HistoryFile *y = b;

	return x->tli < y->tli ? -1 : x->tli > y->tli;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Read the archive directory into the lists of files, sorted. */
static void
list_archive(Verify *v)
{
	DIR		   *dir;
	struct dirent *de;

	dir = opendir(v->archive_dir);
	if (dir == NULL)
	{
		pg_log_error("could not open directory \"%s\": %m", v->archive_dir);
		exit(EXIT_CONFIG_ERROR);
	}
	while (errno = 0, (de = readdir(dir)) != NULL)
	{
		SegmentFile sf;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		memset(&sf, 0, sizeof(sf));
		if (parse_archived_segment(de->d_name, &sf))
		{
			sf.file = pg_strdup(de->d_name);
			v->segments = pg_realloc(v->segments,
									 (v->nsegments + 1) * sizeof(sf));
			v->segments[v->nsegments++] = sf;
		}
		else if (classify_wal_file_name(de->d_name) ==
				 WALFILE_TIMELINE_HISTORY)
		{
			HistoryFile hf = {0};

			hf.file = pg_strdup(de->d_name);
			sscanf(de->d_name, "%08X", &hf.tli);
			v->histories = pg_realloc(v->histories,
									  (v->nhistories + 1) * sizeof(hf));
			v->histories[v->nhistories++] = hf;
		}
		else if (classify_wal_file_name(de->d_name) == WALFILE_BACKUP_HISTORY)
		{
			v->backups = pg_realloc(v->backups,
									(v->nbackups + 1) * sizeof(char *));
			v->backups[v->nbackups++] = pg_strdup(de->d_name);
		}
		else
			v->nother++;
	}
	if (errno != 0)
	{
		pg_log_error("could not read directory \"%s\": %m", v->archive_dir);
		exit(EXIT_CONFIG_ERROR);
	}
	closedir(dir);
	if (v->nsegments > 0)
		qsort(v->segments, v->nsegments, sizeof(SegmentFile),
			  compare_segments);
	if (v->nhistories > 0)
		qsort(v->histories, v->nhistories, sizeof(HistoryFile),
			  compare_histories);
	if (v->nbackups > 0)
		qsort(v->backups, v->nbackups, sizeof(char *), compare_names);
}

/*
 * Read a small text file (history, backup history, backup_label) whole.
 * Returns NULL, with the reason in "problem", if it cannot be read.
 */
static char *
read_text_file(const char *path, size_t *len, char *problem,
			   size_t problem_size)
{
	struct stat st;
	char	   *data;
	int			fd;
	ssize_t		n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		snprintf(problem, problem_size, "could not open file \"%s\": %m", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (st.st_size > 1024 * 1024)
	{
		snprintf(problem, problem_size, "file is too large: %lld bytes",
				 (long long) st.st_size);
		close(fd);
		return NULL;
	}
	data = pg_malloc(st.st_size + 1);
	n = read(fd, data, st.st_size);
	close(fd);
	if (n != st.st_size)
	{
		snprintf(problem, problem_size, "could not read file \"%s\": %m", path);
		pg_free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

/* Read and check a timeline history file; its entries on success. */
static bool
read_history(Verify *v, HistoryFile *hf)
{
	char		path[MAXPGPATH];
	char		problem[512];
	char	   *data;
	char	   *line;
	size_t		len;

	snprintf(path, sizeof(path), "%s/%s", v->archive_dir, hf->file);
	data = read_text_file(path, &len, problem, sizeof(problem));
	if (data != NULL &&
		!check_history_contents(WALFILE_TIMELINE_HISTORY, data, len,
								problem, sizeof(problem)))
	{
		pg_free(data);
		data = NULL;
	}
	if (data == NULL)
	{
		add_finding(v, "refused", hf->file, true, "%s", problem);
		return false;
	}
	hf->entries = pg_malloc0((len / 4 + 1) * sizeof(HistoryEntry));
	for (line = strtok(data, "\n"); line != NULL; line = strtok(NULL, "\n"))
	{
		unsigned int tli,
					hi,
					lo;

		if (sscanf(line, "%u\t%X/%X", &tli, &hi, &lo) == 3)
		{
			hf->entries[hf->nentries].tli = tli;
			hf->entries[hf->nentries].end = ((uint64) hi << 32) | lo;
			hf->nentries++;
		}
	}
	pg_free(data);
	if (hf->nentries == 0 || hf->entries[hf->nentries - 1].tli >= hf->tli)
	{
		add_finding(v, "refused", hf->file, true,
					"history of timeline %u does not end with an older timeline",
					hf->tli);
		hf->nentries = 0;
		return false;
	}
	return true;
}

/*
 * Put the contents of a compressed or .partial segment into "mem_fd" as
 * the restore path would hand them over: decompressed, and a .partial
 * padded with zeros to the segment size.  Returns the size, 0 on failure.
 */
static uint64
load_segment(Verify *v, SegmentFile *sf, int in_fd, int mem_fd,
			 char *problem, size_t problem_size)
{
	RestoreResult result;
	uint64		size = 0;

	if (ftruncate(mem_fd, 0) != 0 || lseek(mem_fd, 0, SEEK_SET) != 0)
	{
		snprintf(problem, problem_size, "could not reset memory file: %m");
		return 0;
	}
	if (sf->format->compression != ARCHIVE_PLAIN)
	{
		result = decompress_file(sf->format->compression, in_fd, mem_fd,
								 &size, problem, problem_size);
		if (result == RESTORE_INCOMPLETE && !sf->partial)
		{
			snprintf(problem, problem_size,
					 "compressed data ends after %llu bytes: truncated, or still being written",
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
				snprintf(problem, problem_size, "could not write memory file: %m");
				return 0;
			}
			size += n;
		}
		if (n < 0)
		{
			snprintf(problem, problem_size, "could not read file: %m");
			return 0;
		}
	}
	if (sf->partial)
	{
		XLogLongPageHeaderData hdr;
		uint32		seg_size = v->seg_size;

		if (seg_size == 0 && pread(mem_fd, &hdr, sizeof(hdr), 0) == sizeof(hdr) &&
			IsValidWalSegSize(hdr.xlp_seg_size))
			seg_size = hdr.xlp_seg_size;
		/* as restore.c does: a last page cut inside its header holds nothing */
		if (size % XLOG_BLCKSZ > 0 && size % XLOG_BLCKSZ < SizeOfXLogLongPHD)
			size -= size % XLOG_BLCKSZ;
		if (size < XLOG_BLCKSZ)
		{
			snprintf(problem, problem_size,
					 "partial segment ends before its first page header");
			return 0;
		}
		if (seg_size != 0 && size < seg_size)
			size = seg_size;
		if (ftruncate(mem_fd, size) != 0)
		{
			snprintf(problem, problem_size, "could not extend memory file: %m");
			return 0;
		}
	}
	return size;
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

/* Two complete forms of one segment? */
static bool
same_segment(const SegmentFile *a, const SegmentFile *b)
{
	return a->tli == b->tli && a->log == b->log && a->seg == b->seg &&
		!a->partial && !b->partial;
}

/* Check one segment file completely, as the restore path would. */
static void
check_segment(Verify *v, SegmentFile *sf, int mem_fd)
{
	SegmentExpectation expect = {0};
	XLogLongPageHeaderData hdr;
	char		path[MAXPGPATH];
	char		problem[512];
	struct stat st;
	char	   *contents = MAP_FAILED;
	uint64		size = 0;
	uint32		seg_size;
	bool		ok = false;
	int			fd;

	char		name[XLOG_FNAME_LEN + 1];

	strlcpy(name, sf->file, sizeof(name));
	expect.name = name;
	expect.tli = sf->tli;
	expect.log = sf->log;
	expect.seg = sf->seg;
	problem[0] = '\0';

	snprintf(path, sizeof(path), "%s/%s", v->archive_dir, sf->file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		snprintf(problem, sizeof(problem), "could not open file: %m");
	else if (sf->format->compression == ARCHIVE_PLAIN && !sf->partial)
	{
		size = st.st_size;
		if (size < XLOG_BLCKSZ)
			snprintf(problem, sizeof(problem), "file has %llu bytes",
					 (unsigned long long) size);
		else
			contents = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE,
							fd, 0);
	}
	else if ((size = load_segment(v, sf, fd, mem_fd, problem,
								  sizeof(problem))) != 0)
		contents = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE,
						mem_fd, 0);
	if (fd >= 0)
		close(fd);
	if (size != 0 && contents == MAP_FAILED && problem[0] == '\0')
		snprintf(problem, sizeof(problem), "could not map file: %m");

	if (contents != MAP_FAILED &&
		check_first_page(&expect, contents, size, &seg_size, problem,
						 sizeof(problem)))
	{
		if (v->seg_size == 0)
			v->seg_size = seg_size;
		if (seg_size != v->seg_size)
			snprintf(problem, sizeof(problem),
					 "segment size %u differs from the archive's %u",
					 seg_size, v->seg_size);
		else
			ok = check_segment_contents(&expect, contents, size, problem,
										sizeof(problem)) &&
				check_segment_records(contents, size, &sf->summary,
									  problem, sizeof(problem));
	}
	if (ok)
	{
		memcpy(&hdr, contents, sizeof(hdr));
		sf->sysid = hdr.xlp_sysid;
		sf->own_tli_from = first_page_of_own_timeline(sf, contents, size);
		sf->segno = (uint64) sf->log * XLogSegmentsPerXLogId(v->seg_size) +
			sf->seg;
		/* one segment in several forms: compare what each holds */
		if (!sf->partial &&
			((sf > v->segments && same_segment(&sf[-1], sf)) ||
			 (sf + 1 < v->segments + v->nsegments && same_segment(&sf[1], sf))))
		{
			INIT_CRC32C(sf->crc);
			COMP_CRC32C(sf->crc, contents, size);
			FIN_CRC32C(sf->crc);
			sf->crc_known = true;
		}
	}
	if (contents != MAP_FAILED)
		munmap(contents, size);

	sf->valid = ok;
	if (!ok)
		sf->problem = pg_strdup(problem);
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
}

/* Read the system identifier of a data directory's pg_control. */
static uint64
data_directory_system_identifier(const char *datadir)
{
	char		path[MAXPGPATH];
	uint64		sysid;
	int			fd;

	snprintf(path, sizeof(path), "%s/global/pg_control", datadir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &sysid, sizeof(sysid)) != sizeof(sysid))
	{
		pg_log_error("could not read file \"%s\": %m", path);
		exit(EXIT_CONFIG_ERROR);
	}
	close(fd);
	return sysid;
}

static SegmentFile *
find_segment(Verify *v, TimeLineID tli, XLogSegNo segno, bool valid_full)
{
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];

		if (sf->tli == tli && sf->segno == segno && sf->valid &&
			(!valid_full || !sf->partial))
			return sf;
	}
	return NULL;
}

static HistoryFile *
find_history(Verify *v, TimeLineID tli)
{
	for (int i = 0; i < v->nhistories; i++)
	{
		if (v->histories[i].tli == tli && v->histories[i].nentries > 0)
			return &v->histories[i];
	}
	return NULL;
}

static void
segment_name(char *buf, TimeLineID tli, XLogSegNo segno, uint32 seg_size)
{
	XLogFileName(buf, tli, segno, seg_size);
}

/*
 * Per timeline: the ranges of valid full segments, and the gaps between
 * them, reported as problems.  Also: WAL that ends inside a segment (no
 * XLOG_SWITCH, not continued) with more segments after it.
 */
static void
judge_timelines(Verify *v, FILE *out)
{
	int			i = 0;

	while (i < v->nsegments)
	{
		TimeLineID	tli = v->segments[i].tli;
		XLogSegNo	first = 0,
					last = 0;
		bool		in_range = false;
		char		a[MAXFNAMELEN],
					b[MAXFNAMELEN];

		if (out != NULL && !v->json)
			fprintf(out, "timeline %u:\n", tli);
		for (; i < v->nsegments && v->segments[i].tli == tli; i++)
		{
			SegmentFile *sf = &v->segments[i];

			if (!sf->valid || sf->partial)
				continue;
			if (in_range && sf->segno == last)
				continue;		/* another form of the same segment */
			if (in_range && sf->segno == last + 1)
			{
				last = sf->segno;
				continue;
			}
			if (in_range)
			{
				segment_name(a, tli, first, v->seg_size);
				segment_name(b, tli, last, v->seg_size);
				if (out != NULL && !v->json)
					fprintf(out, "  present: %s - %s (%llu segments)\n", a, b,
							(unsigned long long) (last - first + 1));
				else if (out == NULL)
				{
					segment_name(a, tli, last + 1, v->seg_size);
					segment_name(b, tli, sf->segno - 1, v->seg_size);
					add_finding(v, "gap", a, true,
								"timeline %u: segments %s to %s are missing",
								tli, a, b);
				}
			}
			in_range = true;
			first = last = sf->segno;
		}
		if (in_range && out != NULL && !v->json)
		{
			segment_name(a, tli, first, v->seg_size);
			segment_name(b, tli, last, v->seg_size);
			fprintf(out, "  present: %s - %s (%llu segments)\n", a, b,
					(unsigned long long) (last - first + 1));
		}
		else if (!in_range && out != NULL && !v->json)
			fprintf(out, "  no valid complete segment\n");
	}
}

/* JSON: the same ranges, as an array. */
static void
print_timelines_json(Verify *v, FILE *out)
{
	bool		first_tli = true;
	int			i = 0;

	fprintf(out, "  \"timelines\": [");
	while (i < v->nsegments)
	{
		TimeLineID	tli = v->segments[i].tli;
		bool		first_range = true;
		XLogSegNo	first = 0,
					last = 0;
		bool		in_range = false;
		char		a[MAXFNAMELEN],
					b[MAXFNAMELEN];

		fprintf(out, "%s\n    {\"timeline\": %u, \"ranges\": [",
				first_tli ? "" : ",", tli);
		first_tli = false;
		for (;; i++)
		{
			SegmentFile *sf = i < v->nsegments ? &v->segments[i] : NULL;
			bool		end = sf == NULL || sf->tli != tli;

			if (!end && (!sf->valid || sf->partial))
				continue;
			if (!end && in_range && sf->segno <= last + 1)
			{
				last = Max(last, sf->segno);
				continue;
			}
			if (in_range)
			{
				segment_name(a, tli, first, v->seg_size);
				segment_name(b, tli, last, v->seg_size);
				fprintf(out, "%s{\"first\": \"%s\", \"last\": \"%s\", \"segments\": %llu}",
						first_range ? "" : ", ", a, b,
						(unsigned long long) (last - first + 1));
				first_range = false;
			}
			if (end)
				break;
			in_range = true;
			first = last = sf->segno;
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n  ],\n");
}

/*
 * Timeline history files against each other and against the segments.
 * A child's history repeats its parent's; the child's first segment holds
 * the parent's WAL up to the switch point and its own after it; the
 * parent's WAL goes no further than the switch point (else two servers
 * wrote WAL after the branch: a fork).
 */
static void
judge_histories(Verify *v)
{
	for (int h = 0; h < v->nhistories; h++)
	{
		HistoryFile *hf = &v->histories[h];
		HistoryFile *parent;
		HistoryEntry *last;
		XLogSegNo	switch_seg;
		SegmentFile *child;
		char		name[MAXFNAMELEN];

		if (hf->nentries == 0)
			continue;
		last = &hf->entries[hf->nentries - 1];

		/* the parent's history is the child's, without its last line */
		parent = find_history(v, last->tli);
		for (int i = 0; parent != NULL && i < hf->nentries - 1; i++)
		{
			if (parent->nentries != hf->nentries - 1 ||
				parent->entries[i].tli != hf->entries[i].tli ||
				parent->entries[i].end != hf->entries[i].end)
			{
				add_finding(v, "history", hf->file, true,
							"contradicts %s about timeline %u",
							parent->file, hf->entries[i].tli);
				break;
			}
		}

		if (v->seg_size == 0)
			continue;
		XLByteToSeg(last->end, switch_seg, v->seg_size);

		/* the parent's WAL must end at the switch point */
		for (int i = 0; i < v->nsegments; i++)
		{
			SegmentFile *sf = &v->segments[i];

			if (sf->tli != last->tli || !sf->valid)
				continue;
			if (sf->segno == switch_seg && !sf->partial &&
				sf->summary.end > last->end)
				add_finding(v, "fork", sf->file, true,
							"timeline %u goes on after %X/%X, where timeline %u branched from it (%s)",
							last->tli, LSN_FORMAT_ARGS(last->end), hf->tli,
							hf->file);
			else if (sf->segno > switch_seg && !sf->partial)
				add_finding(v, "fork", sf->file, true,
							"timeline %u goes on after %X/%X, where timeline %u branched from it (%s)",
							last->tli, LSN_FORMAT_ARGS(last->end), hf->tli,
							hf->file);
			else if (sf->segno == switch_seg &&
					 sf->summary.end < last->end && !sf->summary.continues)
				add_finding(v, "history", hf->file, true,
							"switch point %X/%X lies beyond the end of WAL of timeline %u at %X/%X in %s",
							LSN_FORMAT_ARGS(last->end), last->tli,
							LSN_FORMAT_ARGS(sf->summary.end), sf->file);
		}

		/* the child's first segment switches timeline at the switch point */
		child = find_segment(v, hf->tli, switch_seg, false);
		if (child != NULL)
		{
			XLogRecPtr	expected = TYPEALIGN(XLOG_BLCKSZ, last->end);

			if (child->own_tli_from != InvalidXLogRecPtr ?
				child->own_tli_from != expected :
				child->summary.end > expected)
				add_finding(v, "history", hf->file, true,
							"says timeline %u began at %X/%X, but %s holds timeline %u from %X/%X on",
							hf->tli, LSN_FORMAT_ARGS(last->end), child->file,
							hf->tli, LSN_FORMAT_ARGS(child->own_tli_from));
		}
		else
		{
			/* the child's segments must begin at the switch segment */
			for (int i = 0; i < v->nsegments; i++)
			{
				SegmentFile *sf = &v->segments[i];

				if (sf->tli == hf->tli && sf->valid && !sf->partial)
				{
					if (sf->segno > switch_seg)
					{
						segment_name(name, hf->tli, switch_seg, v->seg_size);
						add_finding(v, "gap", name, true,
									"timeline %u begins in segment %s (switch point %X/%X), which is missing",
									hf->tli, name, LSN_FORMAT_ARGS(last->end));
					}
					break;
				}
			}
		}
	}

	/* every timeline after the first needs its history file */
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];
		char		name[MAXFNAMELEN];

		if (sf->tli > 1 && sf->valid &&
			(i == 0 || sf[-1].tli != sf->tli) && find_history(v, sf->tli) == NULL)
		{
			TLHistoryFileName(name, sf->tli);
			add_finding(v, "history", name, true,
						"timeline %u has segments but no valid history file",
						sf->tli);
		}
	}
}

/* Files that failed, other systems, forms that differ, .partial files. */
static void
judge_segments(Verify *v)
{
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];

		if (!sf->valid)
		{
			add_finding(v, "refused", sf->file, true, "%s", sf->problem);
			continue;
		}
		if (sf->sysid != v->sysid)
		{
			add_finding(v, "foreign", sf->file, true,
						"system identifier %llu differs from %llu (%s)",
						(unsigned long long) sf->sysid,
						(unsigned long long) v->sysid, v->sysid_source);
			sf->valid = false;
			continue;
		}
		if (sf->crc_known)
		{
			/* the first valid form is the one the restore path uses */
			SegmentFile *used = sf;

			for (SegmentFile *o = sf - 1; o >= v->segments && same_segment(o, sf); o--)
				if (o->valid)
					used = o;
			if (used != sf && !EQ_CRC32C(used->crc, sf->crc))
				add_finding(v, "duplicate", sf->file, true,
							"contents differ from %s, which the restore path uses",
							used->file);
		}
		if (sf->partial)
		{
			SegmentFile *full = find_segment(v, sf->tli, sf->segno, true);
			bool		branched = false;

			for (int h = 0; h < v->nhistories; h++)
			{
				HistoryFile *hf = &v->histories[h];

				if (hf->nentries > 0 &&
					hf->entries[hf->nentries - 1].tli == sf->tli)
					branched = true;
			}
			add_finding(v, "partial", sf->file, false,
						"WAL of timeline %u up to %X/%X; %s",
						sf->tli, LSN_FORMAT_ARGS(sf->summary.end),
						full ? "the complete segment is present too" :
						branched ? "the last segment of this timeline at a promotion (a newer timeline branched from it); not needed for replay" :
						"not yet complete: used by pg_standby only at smart failover");
		}
	}
}

/*
 * Parse "START WAL LOCATION: X/Y (file NAME)" and its like from a backup
 * history file or a backup_label.
 */
static bool
parse_backup_start(const char *data, const char *label, XLogRecPtr *lsn,
				   TimeLineID *tli, XLogRecPtr *stop)
{
	const char *p = strstr(data, label);
	unsigned int hi,
				lo;
	char		name[MAXFNAMELEN];

	if (p == NULL ||
		sscanf(p + strlen(label), "%X/%X (file %24s)", &hi, &lo, name) != 3 ||
		!IsXLogFileName(name))
		return false;
	*lsn = ((uint64) hi << 32) | lo;
	sscanf(name, "%08X", tli);
	if (stop != NULL)
	{
		p = strstr(data, "STOP WAL LOCATION: ");
		*stop = InvalidXLogRecPtr;
		if (p != NULL &&
			sscanf(p + strlen("STOP WAL LOCATION: "), "%X/%X", &hi, &lo) == 2)
			*stop = ((uint64) hi << 32) | lo;
	}
	return true;
}

static void
judge_backups(Verify *v)
{
	for (int i = 0; i < v->nbackups; i++)
	{
		char		path[MAXPGPATH];
		char		problem[512];
		char	   *data;
		size_t		len;
		XLogRecPtr	start,
					stop;
		TimeLineID	tli;

		snprintf(path, sizeof(path), "%s/%s", v->archive_dir, v->backups[i]);
		data = read_text_file(path, &len, problem, sizeof(problem));
		if (data == NULL)
		{
			add_finding(v, "refused", v->backups[i], true, "%s", problem);
			continue;
		}
		if (!parse_backup_start(data, "START WAL LOCATION: ", &start, &tli,
								&stop))
			add_finding(v, "refused", v->backups[i], true,
						"not a backup history file: no \"START WAL LOCATION\"");
		else
			add_finding(v, "backup", v->backups[i], false,
						"a base backup on timeline %u: consistent once WAL from %X/%X to %X/%X is replayed",
						tli, LSN_FORMAT_ARGS(start), LSN_FORMAT_ARGS(stop));
		pg_free(data);
	}
}

/* --from: where replay starts. */
static void
resolve_from(Verify *v)
{
	char		problem[512];
	char		path[MAXPGPATH];
	char	   *data;
	size_t		len;
	uint32		log,
				seg;

	if (IsXLogFileName(v->from))
	{
		parse_segment_name(v->from, &v->from_tli, &log, &seg);
		if (v->seg_size == 0)
		{
			v->from_lsn = InvalidXLogRecPtr;
			return;
		}
		v->from_lsn = ((uint64) log << 32) + (uint64) seg * v->seg_size;
		return;
	}
	if (strchr(v->from, '/') == NULL && access(v->from, R_OK) != 0)
		snprintf(path, sizeof(path), "%s/%s", v->archive_dir, v->from);
	else
		strlcpy(path, v->from, sizeof(path));
	data = read_text_file(path, &len, problem, sizeof(problem));
	if (data == NULL)
	{
		pg_log_error("%s", problem);
		exit(EXIT_CONFIG_ERROR);
	}
	if (!parse_backup_start(data, "START WAL LOCATION: ", &v->from_lsn,
							&v->from_tli, NULL))
	{
		pg_log_error("file \"%s\" is neither a backup history file nor a backup_label",
					 path);
		pg_log_error_detail("It has no line \"START WAL LOCATION: X/X (file NAME)\".");
		exit(EXIT_CONFIG_ERROR);
	}
	pg_free(data);
}

/*
 * Can replay from v->from_lsn on timeline v->from_tli reach the end of the
 * archive?  The server reads each segment from the newest timeline of the
 * target's history that had begun by then (XLogFileReadAnyTLI); the target
 * is the newest timeline in the archive.  Every such segment, up to the
 * last one present on that path, must be present and valid, and its WAL
 * must not end before the next segment.
 */
static void
judge_from(Verify *v)
{
	TimeLineID	target = 1;
	HistoryFile *hf;
	HistoryEntry path[256];
	int			npath = 0;
	XLogSegNo	start_seg,
				last_seg = 0;
	bool		have_last = false;
	char		answer[1024];
	char		name[MAXFNAMELEN];
	int			from_index = -1;

	v->from_checked = true;
	for (int i = 0; i < v->nsegments; i++)
		if (v->segments[i].valid)
			target = Max(target, v->segments[i].tli);
	for (int i = 0; i < v->nhistories; i++)
		if (v->histories[i].nentries > 0)
			target = Max(target, v->histories[i].tli);

	/* the target's history, oldest first, then the target itself */
	hf = find_history(v, target);
	if (hf != NULL)
		for (int i = 0; i < hf->nentries && npath < lengthof(path) - 1; i++)
			path[npath++] = hf->entries[i];
	path[npath].tli = target;
	path[npath].end = PG_UINT64_MAX;
	npath++;

	for (int i = 0; i < npath; i++)
		if (path[i].tli == v->from_tli)
			from_index = i;
	if (v->seg_size == 0)
	{
		snprintf(answer, sizeof(answer), "the archive holds no valid segment");
		goto cannot;
	}
	if (from_index < 0 || v->from_lsn >= path[from_index].end)
	{
		snprintf(answer, sizeof(answer),
				 "start %X/%X on timeline %u is not on the history of timeline %u, the newest in the archive",
				 LSN_FORMAT_ARGS(v->from_lsn), v->from_tli, target);
		goto cannot;
	}

	XLByteToSeg(v->from_lsn, start_seg, v->seg_size);
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];

		for (int p = from_index; p < npath; p++)
		{
			XLogSegNo	begin = 0;

			if (p > 0)
				XLByteToSeg(path[p - 1].end, begin, v->seg_size);
			if (sf->valid && !sf->partial && sf->tli == path[p].tli &&
				sf->segno >= Max(begin, start_seg))
			{
				last_seg = have_last ? Max(last_seg, sf->segno) : sf->segno;
				have_last = true;
			}
		}
	}
	if (!have_last)
	{
		XLogFileName(name, v->from_tli, start_seg, v->seg_size);
		snprintf(answer, sizeof(answer), "the first segment needed, %s, is not in the archive", name);
		goto cannot;
	}

	for (XLogSegNo segno = start_seg; segno <= last_seg; segno++)
	{
		TimeLineID	tli = path[from_index].tli;
		SegmentFile *sf;

		for (int p = from_index + 1; p < npath; p++)
		{
			XLogSegNo	begin;

			XLByteToSeg(path[p - 1].end, begin, v->seg_size);
			if (segno >= begin)
				tli = path[p].tli;
		}
		sf = find_segment(v, tli, segno, true);
		XLogFileName(name, tli, segno, v->seg_size);
		if (sf == NULL)
		{
			snprintf(answer, sizeof(answer),
					 "replay stops before %s: missing or refused", name);
			goto cannot;
		}
		if (segno < last_seg && !sf->summary.continues &&
			!sf->summary.switched &&
			sf->summary.end < (segno + 1) * (uint64) v->seg_size)
		{
			snprintf(answer, sizeof(answer),
					 "replay stops at %X/%X in %s, where its WAL ends",
					 LSN_FORMAT_ARGS(sf->summary.end), name);
			goto cannot;
		}
		if (segno == last_seg)
		{
			snprintf(answer, sizeof(answer),
					 "replay from %X/%X on timeline %u reaches %X/%X in %s, the end of the archive on timeline %u",
					 LSN_FORMAT_ARGS(v->from_lsn), v->from_tli,
					 LSN_FORMAT_ARGS(sf->summary.end), name, target);
			v->reaches_end = true;
			v->from_answer = pg_strdup(answer);
			return;
		}
	}
cannot:
	v->reaches_end = false;
	v->from_answer = pg_strdup(answer);
}

static void
print_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static int
exit_status(const Verify *v)
{
	if (v->from_checked && !v->reaches_end)
		return VERIFY_CANNOT_REPLAY;
	return v->nproblems > 0 ? VERIFY_PROBLEMS : VERIFY_CLEAN;
}

static void
print_report(Verify *v)
{
	FILE	   *out = stdout;
	int			npartial = 0;

	for (int i = 0; i < v->nsegments; i++)
		npartial += v->segments[i].partial;

	if (v->json)
	{
		fprintf(out, "{\n  \"archive\": ");
		print_json_string(out, v->archive_dir);
		fprintf(out, ",\n  \"segment_size\": %u,\n  \"system_identifier\": \"%llu\",\n",
				v->seg_size, (unsigned long long) v->sysid);
		fprintf(out, "  \"files\": {\"segments\": %d, \"partial\": %d, \"timeline_history\": %d, \"backup_history\": %d, \"other\": %d},\n",
				v->nsegments - npartial, npartial, v->nhistories,
				v->nbackups, v->nother);
		print_timelines_json(v, out);
		fprintf(out, "  \"findings\": [");
		for (int i = 0; i < v->nfindings; i++)
		{
			Finding    *f = &v->findings[i];

			fprintf(out, "%s\n    {\"kind\": \"%s\", \"problem\": %s, \"file\": ",
					i > 0 ? "," : "", f->kind, f->problem ? "true" : "false");
			if (f->file)
				print_json_string(out, f->file);
			else
				fprintf(out, "null");
			fprintf(out, ", \"message\": ");
			print_json_string(out, f->message);
			fprintf(out, "}");
		}
		fprintf(out, "\n  ],\n");
		if (v->from_checked)
		{
			fprintf(out, "  \"from\": {\"source\": ");
			print_json_string(out, v->from);
			fprintf(out, ", \"timeline\": %u, \"lsn\": \"%X/%X\", \"reaches_end\": %s, \"answer\": ",
					v->from_tli, LSN_FORMAT_ARGS(v->from_lsn),
					v->reaches_end ? "true" : "false");
			print_json_string(out, v->from_answer);
			fprintf(out, "},\n");
		}
		fprintf(out, "  \"problems\": %d,\n  \"status\": %d\n}\n",
				v->nproblems, exit_status(v));
		return;
	}

	fprintf(out, "archive \"%s\": %d segments, %d partial, %d timeline history, %d backup history, %d other files\n",
			v->archive_dir, v->nsegments - npartial, npartial, v->nhistories,
			v->nbackups, v->nother);
	if (v->seg_size != 0)
		fprintf(out, "segment size %u bytes, system identifier %llu (%s)\n",
				v->seg_size, (unsigned long long) v->sysid, v->sysid_source);
	judge_timelines(v, out);
	for (int i = 0; i < v->nfindings; i++)
	{
		Finding    *f = &v->findings[i];

		fprintf(out, "%s: %s%s%s\n", f->kind, f->file ? f->file : "",
				f->file ? ": " : "", f->message);
	}
	if (v->from_checked)
		fprintf(out, "from %s: %s: %s\n", v->from,
				v->reaches_end ? "yes" : "no", v->from_answer);
	if (v->nproblems == 0)
		fprintf(out, "no problems found\n");
	else
		fprintf(out, "%d problem%s found\n", v->nproblems,
				v->nproblems == 1 ? "" : "s");
}

bool
verify_requested(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--verify") == 0 ||
			strncmp(argv[i], "--verify=", 9) == 0)
			return true;
	}
	return false;
}

/* pg_standby --verify ARCHIVE [--from=...] [--format=...] [...] */
int
verify_main(int argc, char **argv, const char *prog)
{
	static struct option long_options[] = {
		{"verify", required_argument, NULL, 'v'},
		{"from", required_argument, NULL, 'f'},
		{"format", required_argument, NULL, 'F'},
		{"system-identifier", required_argument, NULL, 'i'},
		{"pgdata", required_argument, NULL, 'D'},
		{"debug", no_argument, NULL, 'd'},
		{NULL, 0, NULL, 0}
	};
	Verify		v = {0};
	int			mem_fd;
	uint64		bytes = 0;
	int			c;

	progname = prog;
	while ((c = getopt_long(argc, argv, "dD:", long_options, NULL)) != -1)
	{
		char	   *end;

		switch (c)
		{
			case 'v':
				v.archive_dir = optarg;
				break;
			case 'f':
				v.from = optarg;
				break;
			case 'F':
				if (strcmp(optarg, "json") == 0)
					v.json = true;
				else if (strcmp(optarg, "text") != 0)
				{
					pg_log_error("invalid output format \"%s\", must be \"text\" or \"json\"",
								 optarg);
					usage_error();
				}
				break;
			case 'i':
				errno = 0;
				v.sysid = strtoull(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' || errno != 0 ||
					v.sysid == 0)
				{
					pg_log_error("invalid system identifier \"%s\"", optarg);
					usage_error();
				}
				v.sysid_source = "from --system-identifier";
				break;
			case 'D':
				v.sysid = data_directory_system_identifier(optarg);
				v.sysid_source = "from the data directory";
				break;
			case 'd':
				pg_logging_set_level(PG_LOG_DEBUG);
				break;
			default:
				usage_error();
		}
	}
	if (optind < argc)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")",
					 argv[optind]);
		usage_error();
	}
	if (v.archive_dir == NULL || v.archive_dir[0] == '\0')
	{
		pg_log_error("must specify archive location");
		usage_error();
	}

	list_archive(&v);
	mem_fd = memfd_create("pg_standby-verify", MFD_CLOEXEC);
	if (mem_fd < 0)
	{
		pg_log_error("could not create memory file: %m");
		exit(EXIT_CONFIG_ERROR);
	}
	for (int i = 0; i < v.nsegments; i++)
	{
		report_progress(i, v.nsegments, bytes, false);
		check_segment(&v, &v.segments[i], mem_fd);
		bytes += v.seg_size;
		pg_log_debug("%s: %s", v.segments[i].file,
					 v.segments[i].valid ? "valid" : v.segments[i].problem);
		if (v.segments[i].valid && v.sysid == 0)
		{
			v.sysid = v.segments[i].sysid;
			v.sysid_source = "from the first valid segment";
		}
	}
	report_progress(v.nsegments, v.nsegments, bytes, true);
	close(mem_fd);

	/* segment numbers of files refused before the size was known */
	for (int i = 0; i < v.nsegments && v.seg_size != 0; i++)
		v.segments[i].segno = (uint64) v.segments[i].log *
			XLogSegmentsPerXLogId(v.seg_size) + v.segments[i].seg;

	for (int i = 0; i < v.nhistories; i++)
		read_history(&v, &v.histories[i]);
	judge_segments(&v);
	judge_timelines(&v, NULL);
	judge_histories(&v);
	judge_backups(&v);
	if (v.from != NULL)
	{
		resolve_from(&v);
		judge_from(&v);
	}
	print_report(&v);
	return exit_status(&v);
}
