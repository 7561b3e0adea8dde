/*-------------------------------------------------------------------------
 *
 * pg_standby.c
 *	  restore_command for a warm standby: wait for each WAL file in an
 *	  archive directory, check it, hand it over; fail over on a trigger.
 *
 * Drop-in compatible with the pg_standby of PostgreSQL 8.3 to 13:
 *
 *	restore_command = 'pg_standby [OPTION]... ARCHIVE %f %p %r'
 *
 * The exit status is how we answer the server, so it is chosen in one
 * place (pg_standby.h) and on purpose: 1 only when recovery may end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "archive_format.h"
#include "cleanup.h"
#include "common/logging.h"
#include "datadir.h"
#include "fe_utils/option_utils.h"
#include "getopt_long.h"
#include "pg_standby.h"
#include "promote.h"
#include "readahead.h"
#include "restore.h"
#include "serverconf.h"
#include "trigger.h"
#include "verify.h"
#include "wait.h"

/* Where we note that the server was told its archive is remote. */
#define NETWORK_FS_NOTE	"pg_wal/pg_standby.network_fs"

/* A file still growing at smart failover is given up after this long. */
#define SMART_FAILOVER_GROWTH_WAIT	2.0


static const char *progname;

/* Set by the one way out that chooses a status: exit_with_status(). */
static bool exit_status_chosen = false;

/* Command line */
static const char *archive_dir;
static const char *wal_file_name;	/* %f */
static const char *restore_path;	/* %p */
static const char *restart_name;	/* %r, may be NULL */
static const char *trigger_path;
static double sleep_seconds = 5.0;
static double max_wait_seconds = 0.0;
static int	keep_files = 0;
static int	max_retries = 3;
static bool link_requested = false;

/* What the request is */
static WalFileKind wal_file_kind;
static RecoveryMode recovery_mode;
static SegmentExpectation expectation;

/*
 * Every exit of pg_standby goes through here: the status is our answer to
 * the server (pg_standby.h).
 */
static pg_noreturn void
exit_with_status(int status)
{
	exit_status_chosen = true;
	exit(status);
}

/*
 * libpgcommon exits with status 1 when memory runs out (pg_malloc(),
 * psprintf(), pg_strdup()), and other library code may exit on its own
 * too; pg_standby avoids those on its own paths, but libraries change.  A
 * status we did not choose could promote a server in archive recovery, so,
 * registered first of all, this turns any such exit into one that stops
 * the server instead.  _exit(), since exit() must not be called again
 * from an exit handler.
 */
static void
stop_unchosen_exit(void)
{
	if (exit_status_chosen)
		return;
	remove_temporary_file();
	pg_log_error("exiting for a reason pg_standby did not choose");
	pg_log_error_detail("Exiting with status %d, so that the server stops instead of ending recovery.",
						EXIT_GAVE_UP);
	fflush(stdout);
	_exit(EXIT_GAVE_UP);
}

static void
usage(void)
{
	printf(_("%s is a restore_command for a warm standby: it waits for each WAL\n"
			 "file to arrive in an archive directory, checks it, copies it where the\n"
			 "server asks, and stops waiting when a trigger asks for failover.\n\n"),
		   progname);
	printf(_("Usage:\n"));
	printf(_("  %s [OPTION]... ARCHIVELOCATION NEXTWALFILE XLOGFILEPATH [RESTARTWALFILE]\n"), progname);
	printf(_("  %s --verify=ARCHIVELOCATION [VERIFY OPTION]...\n"), progname);
	printf(_("\nOptions:\n"));
	printf(_("  -c, --copy               copy files from the archive (always done)\n"));
	printf(_("  -d, --debug              explain every step on stderr\n"));
	printf(_("  -k, --keep-files=NUM     without RESTARTWALFILE, keep NUM segments before the\n"
			 "                           current one and remove older ones (0, the default,\n"
			 "                           removes nothing)\n"));
	printf(_("  -l, --link               accepted for compatibility; files are always copied\n"));
	printf(_("  -r, --max-retries=NUM    retry a failed copy of a present file NUM times\n"
			 "                           (default 3), waiting longer each time\n"));
	printf(_("  -s, --sleep=SECS         poll interval, fractions allowed (default 5,\n"
			 "                           max 60); inotify notices arrivals at once\n"));
	printf(_("  -t, --trigger-file=FILE  fail over when FILE exists: empty or \"smart\"\n"
			 "                           restores every segment present first, \"fast\"\n"
			 "                           stops at once\n"));
	printf(_("  -w, --max-wait=SECS      stop waiting after SECS (default 0: no limit)\n"));
	printf(_("  -V, --version            output version information, then exit\n"));
	printf(_("  -?, --help               show this help, then exit\n"));
	printf(_("\nVerify options (check a whole archive, and exit):\n"));
	printf(_("      --verify=ARCHIVELOCATION  check every segment and history file in it\n"));
	printf(_("      --from=START         can WAL from START replay to the end of the archive?\n"
			 "                           START: a segment name, a backup history file or\n"
			 "                           a backup_label\n"));
	printf(_("      --format=FORMAT      report as \"text\" (default) or \"json\"\n"));
	printf(_("      --system-identifier=ID  segments of another system are reported\n"));
	printf(_("  -D, --pgdata=DATADIR     take the system identifier from DATADIR\n"));
	printf(_("  -j, --jobs=NUM           check NUM segments at a time (default 2)\n"));
	printf(_("\nA segment NAME is restored from the first of these found in ARCHIVELOCATION:\n "));
	for (int i = 0; i < num_archive_formats; i++)
	{
		if (archive_formats[i].supported)
			printf(" NAME%s", archive_formats[i].suffix);
	}
	printf(_("\nAt smart failover, the same names with .partial appended are tried too\n"
			 "(the segment pg_receivewal was streaming).\n"));
	printf(_("\nSignals: SIGUSR1 requests a fast failover.\n"));
	printf(_("\nExit status:\n"
			 "  0    the file is at XLOGFILEPATH\n"
			 "  1    not available: file absent (only a segment is waited for), -w time\n"
			 "       limit reached, or failover (in archive recovery, recovery ends);\n"
			 "       in standby mode also a copy that failed -r times\n"
			 "  254  configuration error (the server stops instead of promoting)\n"
			 "  255  a present file could not be copied, even after -r retries, the\n"
			 "       server (postmaster or the process that ran pg_standby) has exited,\n"
			 "       or an unexpected exit such as out of memory (the server stops)\n"
			 "With --verify: 0 no problem found, 2 problems found (listed), 3 replay from\n"
			 "--from cannot reach the end of the archive, 254 usage error or unreadable\n"
			 "archive.\n"));
	printf(_("\nMain intended use as restore_command in postgresql.conf:\n"
			 "  restore_command = 'pg_standby [OPTION]... ARCHIVELOCATION %%f %%p %%r'\n"
			 "e.g.\n"
			 "  restore_command = 'pg_standby -t /tmp/pgsql.trigger.5442 /mnt/archive %%f %%p %%r'\n"));
	printf(_("\nReport bugs to <%s>.\n"), PACKAGE_BUGREPORT);
	printf(_("%s home page: <%s>\n"), PACKAGE_NAME, PACKAGE_URL);
}

/*
 * The end of every usage error, in both modes (--verify too): the hint,
 * then the status that stops the server instead of promoting it.
 */
pg_noreturn void
configuration_error(void)
{
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	exit_with_status(EXIT_CONFIG_ERROR);
}

/*
 * Parse a number of seconds, fractions allowed, strictly: the whole
 * argument must be a finite number in range.
 */
static double
parse_seconds(const char *arg, const char *option, double min, double max)
{
	char	   *end;
	double		value;

	errno = 0;
	value = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno != 0 || !isfinite(value))
	{
		pg_log_error("invalid value \"%s\" for option %s", arg, option);
		configuration_error();
	}
	if (value < min || value > max)
	{
		pg_log_error("%s must be in range %.15g..%.15g", option, min, max);
		configuration_error();
	}
	return value;
}

static int
parse_count(const char *arg, const char *option)
{
	int			value;

	if (!option_parse_int(arg, option, 0, INT_MAX, &value))
		configuration_error();
	return value;
}

static void
parse_command_line(int argc, char **argv)
{
	static struct option long_options[] = {
		{"copy", no_argument, NULL, 'c'},
		{"debug", no_argument, NULL, 'd'},
		{"keep-files", required_argument, NULL, 'k'},
		{"link", no_argument, NULL, 'l'},
		{"max-retries", required_argument, NULL, 'r'},
		{"sleep", required_argument, NULL, 's'},
		{"trigger-file", required_argument, NULL, 't'},
		{"max-wait", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	while ((c = getopt_long(argc, argv, "cdk:lr:s:t:w:", long_options,
							NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				break;
			case 'd':
				pg_logging_increase_verbosity();
				break;
			case 'k':
				keep_files = parse_count(optarg, "-k/--keep-files");
				break;
			case 'l':
				link_requested = true;
				break;
			case 'r':
				max_retries = parse_count(optarg, "-r/--max-retries");
				break;
			case 's':
				sleep_seconds = parse_seconds(optarg, "-s/--sleep", 0.001, 60);
				break;
			case 't':
				if (optarg[0] == '\0')
				{
					pg_log_error("trigger file name must not be empty");
					configuration_error();
				}
				trigger_path = optarg;
				break;
			case 'w':
				max_wait_seconds = parse_seconds(optarg, "-w/--max-wait", 0,
												 365 * 86400);
				break;
			default:
				configuration_error();
		}
	}

	if (optind >= argc || argv[optind][0] == '\0')
	{
		pg_log_error("must specify archive location");
		configuration_error();
	}
	archive_dir = argv[optind++];
	if (optind >= argc)
	{
		pg_log_error("must specify WAL file name to restore");
		configuration_error();
	}
	wal_file_name = argv[optind++];
	if (optind >= argc || argv[optind][0] == '\0')
	{
		pg_log_error("must specify path to restore to");
		configuration_error();
	}
	restore_path = argv[optind++];
	if (optind < argc)
		restart_name = argv[optind++];
	if (optind < argc)
	{
		pg_log_error("too many command-line arguments (first is \"%s\")",
					 argv[optind]);
		configuration_error();
	}
}

/*
 * A standby with primary_conninfo streams from the primary when the archive
 * has nothing more; a restore_command that waits would keep it from ever
 * streaming.  So there we answer at once, and the server goes on to stream.
 */
static bool
standby_streams(void)
{
	char		conninfo[MAXPGPATH];

	if (recovery_mode != RECOVERY_STANDBY ||
		!read_server_setting("primary_conninfo", conninfo, sizeof(conninfo)) ||
		conninfo[0] == '\0')
		return false;
	pg_log_debug("primary_conninfo is set: not waiting, so that the server can stream");
	return true;
}

/*
 * May we wait for a segment?  Only the server may be made to wait, and not
 * a standby that could stream instead.  Decided when first needed, so that
 * a restore of a file already present never reads the server's
 * configuration.
 */
static bool
waiting_allowed(void)
{
	static int	allowed = -1;

	if (allowed < 0)
		allowed = recovery_mode != RECOVERY_NONE && !standby_streams();
	return allowed;
}

/*
 * Check the request against what the server may ask for, and learn what a
 * segment must match.  Anything odd is a configuration error: we never
 * read or write a path built from a name the server would not send.
 */
static void
check_request(void)
{
	int			major;

	wal_file_kind = classify_wal_file_name(wal_file_name);
	if (wal_file_kind == WALFILE_INVALID)
	{
		pg_log_error("invalid WAL file name \"%s\"", wal_file_name);
		pg_log_error_detail("Expected a segment, timeline history or backup history file name, as the server passes for %%f.");
		configuration_error();
	}
	if (restart_name != NULL && !IsXLogFileName(restart_name))
	{
		pg_log_error("invalid restart WAL file name \"%s\"", restart_name);
		pg_log_error_detail("Expected a segment file name, as the server passes for %%r.");
		configuration_error();
	}
	if (!archive_path_fits(archive_dir, wal_file_name))
	{
		pg_log_error("archive location \"%s\" is too long", archive_dir);
		pg_log_error_detail("The paths of archived files, \"%s\" with a suffix, must be shorter than %d bytes.",
							wal_file_name, MAXPGPATH);
		configuration_error();
	}
	if (!restore_path_fits(restore_path))
	{
		pg_log_error("restore path \"%s\" is too long", restore_path);
		pg_log_error_detail("The path of the temporary file beside it must be shorter than %d bytes.",
							MAXPGPATH);
		configuration_error();
	}

	recovery_mode = detect_recovery_mode(restore_path);

	expectation.name = wal_file_name;
	if (wal_file_kind == WALFILE_SEGMENT)
		parse_segment_name(wal_file_name, &expectation.tli,
						   &expectation.log, &expectation.seg);
	else if (wal_file_kind == WALFILE_TIMELINE_HISTORY)
		sscanf(wal_file_name, "%08X", &expectation.tli);
	major = read_server_major_version();
	if (major != 0)
	{
		expectation.page_magic = page_magic_for_major(major);
		if (expectation.page_magic == 0)
		{
			pg_log_error("WAL format of PostgreSQL %d is unknown to this pg_standby",
						 major);
			pg_log_error_hint("Use a pg_standby built for that server version.");
			exit_with_status(EXIT_CONFIG_ERROR);
		}
	}
	expectation.sysid = read_system_identifier();

	if (link_requested && wal_file_kind == WALFILE_TIMELINE_HISTORY)
		pg_log_warning("option -l/--link is ignored: files are always copied");
}

/*
 * Called when the segment is absent and we may wait.  In standby mode a
 * read-ahead request is answered at once, so that the server replays what
 * it has decoded (see first_request_for_segment()).  In archive recovery
 * an answer of "not available" would end recovery, so we wait, and the
 * rest of the current segment is only replayed when the next arrives: say
 * so, until the setting is fixed.  Returns true to answer at once.
 */
static bool
yield_to_read_ahead(void)
{
	if (!read_ahead_enabled())
		return false;
	if (recovery_mode == RECOVERY_STANDBY)
	{
		if (!first_request_for_segment(restore_path, wal_file_name))
			return false;
		pg_log_debug("answering the server's first request for \"%s\" at once: it may be read-ahead",
					 wal_file_name);
		return true;
	}
	pg_log_warning("recovery_prefetch is on: replay of WAL already restored is held back while waiting for \"%s\"",
				   wal_file_name);
	pg_log_warning_hint("Set recovery_prefetch = off in the standby's configuration.");
	return false;
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * End the wait so that recovery ends.  In standby mode the server would
 * only retry, so ask it to promote first, as pg_ctl promote does.
 */
static int
fail_over(void)
{
	if (recovery_mode == RECOVERY_STANDBY)
		request_promotion();
	return EXIT_NOT_AVAILABLE;
}

static void
clean_archive(uint32 seg_size)
{
	char		keep_from[MAXFNAMELEN];

	if (restart_name != NULL)
	{
		/* never anything if %r is later than %f */
		if (strcmp(restart_name + 8, wal_file_name + 8) > 0)
			return;
		remove_old_segments(archive_dir, restart_name);
	}
	else if (keep_files > 0)
	{
		XLogSegNo	segno;
		TimeLineID	tli;

		XLogFromFileName(wal_file_name, &tli, &segno, seg_size);
		if (segno <= (XLogSegNo) keep_files)
			return;
		XLogFileName(keep_from, tli, segno - keep_files, seg_size);
		remove_old_segments(archive_dir, keep_from);
	}
}

/*
 * One look at the archive: restore the file if it is there.  "source"
 * (MAXPGPATH bytes) receives the path looked at, for messages.
 */
static RestoreResult
try_restore(bool partial, uint32 *seg_size, char *source, char *problem,
			size_t problem_size)
{
	struct stat st;

	snprintf(source, MAXPGPATH, "%s/%s", archive_dir, wal_file_name);

	/* A missing archive is not an absent file: it is transient trouble. */
	if (stat(archive_dir, &st) != 0)
	{
		set_problem(problem, problem_size,
					"Could not access archive directory \"%s\": %m.", archive_dir);
		return RESTORE_ARCHIVE_ERROR;
	}
	if (!S_ISDIR(st.st_mode))
	{
		set_problem(problem, problem_size,
					"The archive location \"%s\" is not a directory.", archive_dir);
		return RESTORE_ARCHIVE_ERROR;
	}

	if (wal_file_kind != WALFILE_SEGMENT)
		return restore_history(source, restore_path, wal_file_kind,
							   expectation.tli, problem, problem_size);
	return restore_segment(archive_dir, &expectation, partial, restore_path,
						   seg_size, source, problem, problem_size);
}

/*
 * Smart failover found no more segments.  pg_receivewal may have streamed
 * part of the next one, as NAME.partial: hand that over (checked like any
 * segment, padded with zeros), so that the server replays every record
 * that reached us before it ends recovery.
 */
static int
finish_smart_failover(void)
{
	char		source[MAXPGPATH];
	char		problem[512];
	uint32		seg_size;
	RestoreResult result;

	result = try_restore(true, &seg_size, source, problem, sizeof(problem));
	if (result == RESTORE_DONE)
	{
		pg_log_info("smart failover: restored partial segment \"%s\"",
					source);

		/*
		 * The server replays it, then asks for this segment again.  In
		 * standby mode, it must by then know to promote, or it would retry
		 * for ever; it checks only after the replay, so nothing is lost.
		 */
		if (recovery_mode == RECOVERY_STANDBY)
			request_promotion();
		return EXIT_RESTORED;
	}
	if (result != RESTORE_ABSENT)
	{
		pg_log_error("could not restore file \"%s\"", source);
		pg_log_error_detail("%s", problem);
	}
	report_failover(FAILOVER_SMART, trigger_path);
	return fail_over();
}

/* What one wait remembers between its looks at the archive. */
typedef struct WaitState
{
	struct timespec start;		/* when this run began */
	char		source[MAXPGPATH];	/* the archived file last looked at */
	char		problem[512];	/* why the last look did not restore */
	bool		in_trouble;		/* every look since ... */
	double		trouble_since;	/* ... this, in seconds since start, found */
	RestoreResult trouble;		/* ... this kind of problem */
	double		reported_at;	/* when it was last logged */
	double		repeat_after;	/* ... and when to log it again if it lasts */
	int			failed_copies;	/* copies of a present file that failed */
	double		retry_at;		/* no copy before this many seconds */
	off_t		growing_size;	/* at smart failover: a growing file's size */
	struct timespec growing_since;	/* ... and since when it has it */
	bool		waiting_logged;
} WaitState;

/*
 * A problem that lasts is logged again after this many seconds, then after
 * twice as long each time, up to the maximum: never silent, never a flood.
 */
#define PROBLEM_REPEAT_FIRST	10.0
#define PROBLEM_REPEAT_MAX		300.0

/*
 * Say once to each run of the server that the archive is on a network file
 * system, where arrivals are noticed only by polling.
 */
static void
report_network_file_system(void)
{
	const char *fs = archive_network_file_system();

	if (fs != NULL && first_time_for_server(NETWORK_FS_NOTE))
		pg_log_info("archive \"%s\" is on a network file system (%s), where files written by other hosts are noticed only by polling: looking every %g s at most, more often while segments keep arriving",
					archive_dir, fs, sleep_seconds);
}

/*
 * What the user can do about an archive directory or file that is there
 * but cannot be read: looked at again, as errno is long gone by now.
 */
static void
hint_archive_trouble(const char *source)
{
	const char *paths[] = {archive_dir, source};
	struct stat st;

	for (int i = 0; i < lengthof(paths); i++)
	{
		if (stat(paths[i], &st) != 0)
		{
			if (errno == EIO || errno == ENOTCONN || errno == ESTALE ||
				errno == EHOSTDOWN || errno == ETIMEDOUT)
				pg_log_error_hint("\"%s\" is on a file system that does not answer (%m), such as a network mount whose server cannot be reached; pg_standby waits until it answers.",
								  paths[i]);
			return;
		}
		if (access(paths[i], i == 0 ? R_OK | X_OK : R_OK) != 0 &&
			errno == EACCES)
		{
			struct passwd *pw;
			char		owner[64];

			/* getpwuid() returns the same buffer each time */
			pw = getpwuid(st.st_uid);
			if (pw != NULL)
				strlcpy(owner, pw->pw_name, sizeof(owner));
			else
				snprintf(owner, sizeof(owner), "%u", (unsigned int) st.st_uid);
			pw = getpwuid(geteuid());
			pg_log_error_hint("\"%s\" is owned by user \"%s\" with mode %04o, and pg_standby runs as user \"%s\": the archive's writer must create files and directories this user can read.",
							  paths[i], owner,
							  (unsigned int) (st.st_mode & 07777),
							  pw ? pw->pw_name : "?");
			return;
		}
	}
}

/*
 * Log the problem the last look found (of kind "result"): at once if it is
 * new, and again at growing intervals while it lasts.  A problem lasts
 * while every look finds one of the same kind, the archive's trouble or a
 * refused file, whatever its words: a dead mount fails the look at the
 * directory one time and at the file the next, and is one problem.  Each
 * report gives the words of the latest look.
 */
static void
report_problem(WaitState *state, RestoreResult result)
{
	double		now = seconds_since(&state->start);
	bool		lasting = state->in_trouble && state->trouble == result;

	if (lasting && now < state->reported_at + state->repeat_after)
		return;
	pg_log_error("could not restore file \"%s\"", state->source);
	pg_log_error_detail("%s", state->problem);
	if (lasting)
		pg_log_error_detail("The problem has lasted %.0f seconds.",
							now - state->trouble_since);
	hint_archive_trouble(state->source);

	if (lasting)
		state->repeat_after = Min(state->repeat_after * 2, PROBLEM_REPEAT_MAX);
	else
	{
		state->in_trouble = true;
		state->trouble = result;
		state->trouble_since = now;
		state->repeat_after = PROBLEM_REPEAT_FIRST;
	}
	state->reported_at = now;
}


/* The answer is not known yet: look again after a wait. */
#define KEEP_WAITING	(-1)

/*
 * At smart failover, a file still being written is waited for only while
 * it grows.
 */
static int
wait_for_growth(WaitState *state, double *wait_seconds)
{
	struct stat st;
	off_t		size = stat(state->source, &st) == 0 ? st.st_size : -1;

	if (size != state->growing_size)
	{
		state->growing_size = size;
		clock_gettime(CLOCK_MONOTONIC, &state->growing_since);
	}
	else if (seconds_since(&state->growing_since) >= SMART_FAILOVER_GROWTH_WAIT)
	{
		report_failover(FAILOVER_SMART, trigger_path);
		return fail_over();
	}
	*wait_seconds = Min(*wait_seconds, 0.1);
	return KEEP_WAITING;
}

/*
 * Decide what one look at the archive means: an exit status, or
 * KEEP_WAITING with *wait_seconds set.
 */
static int
judge_result(RestoreResult result, Failover failover, uint32 seg_size,
			 WaitState *state, double *wait_seconds)
{
	/* a look that found no trouble ends the trouble */
	if (result != RESTORE_INVALID && result != RESTORE_ARCHIVE_ERROR)
		state->in_trouble = false;

	switch (result)
	{
		case RESTORE_DONE:
			pg_log_debug("restored \"%s\" to \"%s\" after %.3f s",
						 state->source, restore_path,
						 seconds_since(&state->start));

			/*
			 * Only the server's restart point says what is no longer needed:
			 * another caller, such as pg_rewind reading WAL backwards, may
			 * need older segments next.
			 */
			if (wal_file_kind == WALFILE_SEGMENT &&
				recovery_mode != RECOVERY_NONE)
				clean_archive(seg_size);
			return EXIT_RESTORED;

		case RESTORE_ABSENT:
			if (wal_file_kind == WALFILE_SEGMENT && failover == FAILOVER_SMART)
				return finish_smart_failover();
			if (wal_file_kind != WALFILE_SEGMENT || !waiting_allowed())
			{
				pg_log_debug("file \"%s\" not found", state->source);
				return EXIT_NOT_AVAILABLE;
			}
			if (!state->waiting_logged)
			{
				/*
				 * Gone from the archive (a cleanup, an operator) but in the
				 * server's pg_wal: it reads it there when we say "not
				 * available".  pg_wal does not change while the server waits
				 * for us, so this is looked at once.
				 */
				if (segment_in_server_wal(restore_path, &expectation,
										  recovery_mode == RECOVERY_ARCHIVE))
				{
					pg_log_info("\"%s\" is not in the archive but is in the server's pg_wal: the server reads it there",
								wal_file_name);
					return EXIT_NOT_AVAILABLE;
				}
				if (yield_to_read_ahead())
					return EXIT_NOT_AVAILABLE;
				pg_log_debug("waiting for \"%s\"", state->source);
				state->waiting_logged = true;
				report_network_file_system();
			}
			return KEEP_WAITING;

		case RESTORE_INCOMPLETE:
			if (!waiting_allowed())
			{
				/* nobody will ask again soon: this is a refusal */
				report_problem(state, result);
				return EXIT_NOT_AVAILABLE;
			}
			pg_log_debug("waiting for \"%s\"", state->source);
			pg_log_debug_detail("%s", state->problem);
			if (failover == FAILOVER_SMART)
				return wait_for_growth(state, wait_seconds);
			return KEEP_WAITING;

		case RESTORE_INVALID:
		case RESTORE_ARCHIVE_ERROR:
			report_problem(state, result);
			if (!waiting_allowed())
				return EXIT_NOT_AVAILABLE;
			if (failover == FAILOVER_SMART && result == RESTORE_INVALID)
			{
				report_failover(failover, trigger_path);
				return fail_over();
			}
			return KEEP_WAITING;

		case RESTORE_COPY_ERROR:
			state->failed_copies++;
			pg_log_error("could not restore file \"%s\" (attempt %d of %d)",
						 state->source, state->failed_copies, max_retries + 1);
			pg_log_error_detail("%s", state->problem);
			if (state->failed_copies > max_retries)
			{
				/*
				 * A full disk or an unwritable pg_wal may last.  In standby
				 * mode "not available" only makes the server ask again (after
				 * wal_retrieve_retry_interval), so the standby stays up and
				 * resumes by itself once the trouble is gone.
				 */
				if (recovery_mode == RECOVERY_STANDBY)
				{
					pg_log_info("answering \"not available\" after %d attempts: the server asks again later",
								state->failed_copies);
					return EXIT_NOT_AVAILABLE;
				}
				pg_log_error("giving up after %d attempts", state->failed_copies);
				pg_log_error_detail("Exiting with status %d, so that the server stops instead of ending recovery.",
									EXIT_GAVE_UP);
				return EXIT_GAVE_UP;
			}
			/* progressive back-off, as the classic did */
			*wait_seconds = sleep_seconds * state->failed_copies;
			state->retry_at = seconds_since(&state->start) + *wait_seconds;
			return KEEP_WAITING;
	}
	return KEEP_WAITING;
}

/*
 * The wait: look for the file, and for a failover request, until one of
 * them ends it.
 */
static int
restore_or_wait(void)
{
	WaitState	state;

	memset(&state, 0, sizeof(state));
	state.growing_size = -1;
	clock_gettime(CLOCK_MONOTONIC, &state.start);

	for (int looks = 0;; looks++)
	{
		Failover	failover = FAILOVER_NONE;
		double		wait_seconds = sleep_seconds;
		double		elapsed;
		int			status;

		/*
		 * History files are never waited for, so a trigger does not concern
		 * them, unless trouble with the archive makes us wait after all: a
		 * "fast" trigger must not be used up by the server's probe for a
		 * history file.
		 */
		if (recovery_mode != RECOVERY_NONE &&
			(wal_file_kind == WALFILE_SEGMENT || looks > 0))
			failover = check_failover(trigger_path);
		if (failover == FAILOVER_FAST)
		{
			report_failover(failover, trigger_path);
			return fail_over();
		}
		if (failover == FAILOVER_UNDECIDED)
		{
			failover = FAILOVER_NONE;
			wait_seconds = Min(wait_seconds, TRIGGER_SETTLE_TIME);
		}

		/*
		 * After a failed copy, the archive is not looked at again before the
		 * back-off has passed, whatever wakes us meanwhile.
		 */
		elapsed = seconds_since(&state.start);
		if (elapsed < state.retry_at)
			wait_seconds = state.retry_at - elapsed;
		else
		{
			uint32		seg_size = 0;
			RestoreResult result;

			state.problem[0] = '\0';
			result = try_restore(false, &seg_size, state.source, state.problem,
								 sizeof(state.problem));
			status = judge_result(result, failover, seg_size, &state,
								  &wait_seconds);
			if (status != KEEP_WAITING)
				return status;
		}

		if (max_wait_seconds > 0)
		{
			double		remaining = max_wait_seconds - seconds_since(&state.start);

			if (remaining <= 0)
			{
				pg_log_info("waited %g seconds for \"%s\": giving up",
							max_wait_seconds, state.source);
				/* in standby mode the server only retries: no promotion */
				if (recovery_mode == RECOVERY_STANDBY)
					return EXIT_NOT_AVAILABLE;
				return fail_over();
			}
			wait_seconds = Min(wait_seconds, remaining);
		}

		/* nobody is left to read our answer: never let it be a promotion */
		if (wait_for_change(wait_seconds) == WAIT_SERVER_GONE)
			return EXIT_GAVE_UP;
	}
}

int
main(int argc, char **argv)
{
	static char stderr_buffer[BUFSIZ];

	if (atexit(stop_unchosen_exit) != 0)
		return EXIT_GAVE_UP;
	pg_logging_init(argv[0]);

	/*
	 * pg_logging_init() makes stderr unbuffered, so each message went out in
	 * several writes ("pg_standby: ", the level, the text).  Run by the
	 * server, our stderr is its log file, which its own processes write too:
	 * a message could be split by one of their lines.  Line buffering writes
	 * each of our lines at once.  (glibc keeps an unbuffered stream's
	 * one-byte buffer unless given another.)
	 */
	setvbuf(stderr, stderr_buffer, _IOLBF, sizeof(stderr_buffer));
	set_pglocale_pgservice(argv[0], PG_TEXTDOMAIN("pg_standby"));
	/* -s 0.5 means the same whatever the caller's locale */
	setlocale(LC_NUMERIC, "C");
	progname = get_progname(argv[0]);

	if (argc > 1)
	{
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0)
		{
			usage();
			exit_with_status(0);
		}
		if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		{
			puts("pg_standby (PostgreSQL) " PG_VERSION);
			exit_with_status(0);
		}
	}

	/*
	 * --verify is not a restore_command: no server reads its status, and its
	 * exits (verify.h) are all its own, so the guard above stands down.
	 */
	if (verify_requested(argc, argv))
	{
		exit_status_chosen = true;
		exit_with_status(verify_main(argc, argv));
	}

	restore_handle_termination_signals();
	handle_failover_signals();
	parse_command_line(argc, argv);
	check_request();
	wait_init(archive_dir, trigger_path, recovery_mode != RECOVERY_NONE);

	exit_with_status(restore_or_wait());
}
