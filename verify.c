/*-------------------------------------------------------------------------
 *
 * verify.c
 *	  pg_standby --verify ARCHIVE: check every file of an archive directory
 *	  with the restore path's own checks.
 *
 * Every segment (plain, compressed, .partial) gets the page header checks
 * of walfile.c and the record checks of walrecord.c, as the restore path
 * would apply them; timeline history files are parsed.  Then
 * verify_judge.c judges the archive as a whole and verify_report.c prints
 * the report; the exit status is the verdict (verify.h).
 *
 * The segments are checked by verify_check.c, several at a time, each in
 * a buffer of its thread's; so memory does not grow with the archive, the
 * list of file names does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "common/logging.h"
#include "fe_utils/option_utils.h"
#include "getopt_long.h"
#include "pg_standby.h"
#include "verify.h"
#include "verify_internal.h"
#include "walfile.h"

/* Add a finding to the report; a problem counts against the archive. */
void
add_finding(Verify *v, const char *kind, const char *file, bool problem,
			const char *fmt,...)
{
	Finding    *f;
	char		message[1024];
	va_list		args;

	va_start(args, fmt);
	set_problem_v(message, sizeof(message), fmt, args);
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
char *
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
		set_problem(problem, problem_size, "Could not open file \"%s\": %m.", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (st.st_size > 1024 * 1024)
	{
		set_problem(problem, problem_size, "The file has %lld bytes, too large for a history file or backup label.",
					(long long) st.st_size);
		close(fd);
		return NULL;
	}
	data = pg_malloc(st.st_size + 1);
	n = read(fd, data, st.st_size);
	close(fd);
	if (n != st.st_size)
	{
		set_problem(problem, problem_size, "Could not read file \"%s\": %m.", path);
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
		!check_history_contents(WALFILE_TIMELINE_HISTORY, hf->tli, data, len,
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
					"The history of timeline %u does not end with an older timeline.",
					hf->tli);
		hf->nentries = 0;
		return false;
	}
	return true;
}

/* Two complete forms of one segment? */
bool
same_segment(const SegmentFile *a, const SegmentFile *b)
{
	return a->tli == b->tli && a->log == b->log && a->seg == b->seg &&
		!a->partial && !b->partial;
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


/*
 * What the archive's segments say as a whole, settled in the archive's
 * order once every segment is checked: the segment size is the first
 * valid segment's, and a segment of another size is refused; the system
 * identifier, unless given, is the first valid segment's.
 */
static void
settle_segments(Verify *v)
{
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];

		if (sf->valid && v->seg_size == 0)
			v->seg_size = sf->seg_size;
		if (sf->valid && sf->seg_size != v->seg_size)
		{
			char		problem[512];

			set_problem(problem, sizeof(problem),
						"The segment size is %u, but the archive's is %u.",
						sf->seg_size, v->seg_size);
			sf->valid = false;
			sf->problem = pg_strdup(problem);
		}
		if (sf->valid && v->sysid == 0)
		{
			v->sysid = sf->sysid;
			v->sysid_source = "from the first valid segment";
		}
		if (sf->valid)
			pg_log_debug("segment \"%s\" is valid", sf->file);
		else
		{
			pg_log_debug("segment \"%s\" is refused", sf->file);
			pg_log_debug_detail("%s", sf->problem);
		}
	}
	for (int i = 0; i < v->nsegments && v->seg_size != 0; i++)
		v->segments[i].segno = (uint64) v->segments[i].log *
			XLogSegmentsPerXLogId(v->seg_size) + v->segments[i].seg;
}

/*
 * Release what a run allocated.  The process exits right after, but the
 * leak checkers of the sanitizer build and valgrind run at that exit and
 * must find nothing of ours.
 */
static void
free_verify(Verify *v)
{
	for (int i = 0; i < v->nsegments; i++)
	{
		pg_free(v->segments[i].file);
		pg_free(v->segments[i].problem);
	}
	for (int i = 0; i < v->nhistories; i++)
	{
		pg_free(v->histories[i].file);
		pg_free(v->histories[i].entries);
	}
	for (int i = 0; i < v->nbackups; i++)
		pg_free(v->backups[i]);
	for (int i = 0; i < v->nfindings; i++)
	{
		pg_free(v->findings[i].file);
		pg_free(v->findings[i].message);
	}
	pg_free(v->segments);
	pg_free(v->histories);
	pg_free(v->backups);
	pg_free(v->findings);
	pg_free(v->from_answer);
}

/* pg_standby --verify ARCHIVE [--from=...] [--format=...] [...] */
int
verify_main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"verify", required_argument, NULL, 'v'},
		{"from", required_argument, NULL, 'f'},
		{"format", required_argument, NULL, 'F'},
		{"system-identifier", required_argument, NULL, 'i'},
		{"pgdata", required_argument, NULL, 'D'},
		{"debug", no_argument, NULL, 'd'},
		{"jobs", required_argument, NULL, 'j'},
		{NULL, 0, NULL, 0}
	};
	Verify		v = {0};
	int			jobs = 2;
	int			status;
	int			c;

	while ((c = getopt_long(argc, argv, "dD:j:", long_options, NULL)) != -1)
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
					configuration_error();
				}
				break;
			case 'i':
				errno = 0;
				v.sysid = strtoull(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' || errno != 0 ||
					v.sysid == 0)
				{
					pg_log_error("invalid system identifier \"%s\"", optarg);
					configuration_error();
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
			case 'j':
				if (!option_parse_int(optarg, "-j/--jobs", 1, MAX_VERIFY_JOBS,
									  &jobs))
					configuration_error();
				break;
			default:
				configuration_error();
		}
	}
	if (optind < argc)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")",
					 argv[optind]);
		configuration_error();
	}
	if (v.archive_dir == NULL || v.archive_dir[0] == '\0')
	{
		pg_log_error("must specify archive location");
		configuration_error();
	}

	list_archive(&v);
	check_segments(&v, jobs);
	settle_segments(&v);

	for (int i = 0; i < v.nhistories; i++)
		read_history(&v, &v.histories[i]);
	judge_segments(&v);
	judge_gaps(&v);
	judge_histories(&v);
	judge_backups(&v);
	if (v.from != NULL)
		judge_from(&v);
	print_report(&v);
	status = verify_exit_status(&v);
	free_verify(&v);
	return status;
}
