/*-------------------------------------------------------------------------
 *
 * datadir.c
 *	  What pg_standby learns from, and asks of, the server that runs it.
 *
 * The server runs restore_command with its data directory as the working
 * directory, so its signal files, PG_VERSION, global/pg_control and
 * postmaster.pid are all at hand under relative names.  Other callers of
 * the same command (pg_rewind, a test) are recognised by the restore path
 * they pass, which is never the server's own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <signal.h>
#include <sys/stat.h>

#include "access/xlog_internal.h"
#include "common/logging.h"
#include "pg_standby.h"

/*
 * The server restores into these names under pg_wal/; any other restore
 * path means that someone else is running us, who must not be made to wait.
 */
static bool
is_server_restore_path(const char *restore_path)
{
	const char *base = last_dir_separator(restore_path);

	base = base ? base + 1 : restore_path;
	return strcmp(base, "RECOVERYXLOG") == 0 ||
		strcmp(base, "RECOVERYHISTORY") == 0;
}

RecoveryMode
detect_recovery_mode(const char *restore_path)
{
	struct stat st;

	if (!is_server_restore_path(restore_path))
		return RECOVERY_NONE;
	if (stat("standby.signal", &st) == 0)
		return RECOVERY_STANDBY;
	return RECOVERY_ARCHIVE;
}

/* Major version from PG_VERSION, or 0 if there is none to read. */
int
read_server_major_version(void)
{
	FILE	   *file = fopen("PG_VERSION", "r");
	int			major = 0;

	if (file == NULL)
		return 0;
	if (fscanf(file, "%d", &major) != 1)
		major = 0;
	fclose(file);
	return major;
}

/*
 * System identifier of the cluster, or 0 if pg_control cannot be read.
 * It is the first field of ControlFileData in every version, so reading
 * eight bytes needs no knowledge of the rest of the layout.
 */
uint64
read_system_identifier(void)
{
	FILE	   *file = fopen("global/pg_control", "rb");
	uint64		sysid = 0;

	if (file == NULL)
		return 0;
	if (fread(&sysid, sizeof(sysid), 1, file) != 1)
		sysid = 0;
	fclose(file);
	return sysid;
}

/*
 * Which postmaster we have asked to promote: its PID and start time, the
 * first and third lines of postmaster.pid, which together name one run of
 * one server.  Kept in a note beside the server's own files in pg_wal/.
 */
#define PROMOTION_NOTE	"pg_wal/pg_standby.promoted"

static bool
read_postmaster_identity(long *pid, char *identity, size_t size)
{
	FILE	   *file = fopen("postmaster.pid", "r");
	char		start_time[64] = "";
	char		line[MAXPGPATH];
	bool		ok;

	if (file == NULL)
	{
		pg_log_error("could not open file \"postmaster.pid\": %m");
		return false;
	}
	ok = fscanf(file, "%ld\n", pid) == 1 && *pid > 0 &&
		fgets(line, sizeof(line), file) != NULL &&
		fscanf(file, "%63s", start_time) == 1;
	fclose(file);
	if (!ok)
	{
		pg_log_error("invalid data in file \"postmaster.pid\"");
		return false;
	}
	snprintf(identity, size, "%ld %s", *pid, start_time);
	return true;
}

/*
 * Ask the server to promote, exactly as "pg_ctl promote" does: create the
 * "promote" signal file, then wake the postmaster with SIGUSR1.  In standby
 * mode this is the only way our failover ends recovery, and the server
 * then promotes without a synchronous end-of-recovery checkpoint.
 *
 * Once the server has taken the request (and removed the file), it may
 * still run us, to read its last segment again: asking again then would
 * leave a stale "promote" file behind.  So a successful request is noted,
 * and not repeated to the same run of the postmaster.  Returns false if
 * the request could not be made (then nothing is noted, and the next call
 * tries again).
 */
bool
request_promotion(void)
{
	char		identity[128];
	char		noted[128] = "";
	FILE	   *file;
	long		pid;

	if (!read_postmaster_identity(&pid, identity, sizeof(identity)))
		return false;

	file = fopen(PROMOTION_NOTE, "r");
	if (file != NULL)
	{
		if (fgets(noted, sizeof(noted), file) == NULL)
			noted[0] = '\0';
		fclose(file);
		if (strcmp(noted, identity) == 0)
		{
			pg_log_debug("promotion already requested of postmaster %ld", pid);
			return true;
		}
	}

	file = fopen("promote", "w");
	if (file == NULL || fclose(file) != 0)
	{
		pg_log_error("could not create promote signal file \"promote\": %m");
		return false;
	}
	if (kill((pid_t) pid, SIGUSR1) != 0)
	{
		pg_log_error("could not send promote signal to postmaster (PID %ld): %m",
					 pid);
		return false;
	}
	pg_log_info("promotion of the standby requested");

	file = fopen(PROMOTION_NOTE, "w");
	if (file == NULL || fputs(identity, file) < 0 || fclose(file) != 0)
		pg_log_warning("could not write file \"%s\": %m", PROMOTION_NOTE);
	return true;
}

/* Has someone ("pg_ctl promote", pg_promote()) asked the server to promote? */
bool
promotion_requested(void)
{
	struct stat st;

	return stat("promote", &st) == 0;
}

/*
 * In standby mode, the server's read-ahead (recovery_prefetch) asks for the
 * next segment while records of the current one are decoded but not yet
 * replayed.  Answering "not available" is safe there: the server replays
 * what it has, then asks again, this time waiting for the answer.  So we
 * answer the first request for a missing segment at once and wait on the
 * next; the two look alike, so remember which segment we answered, in a
 * file beside the restore path (pg_wal/, the server's own directory).
 * Returns true if this request is the first for "segment".
 */
bool
first_request_for_segment(const char *restore_path, const char *segment)
{
	char		path[MAXPGPATH];
	char		previous[MAXFNAMELEN] = "";
	FILE	   *file;

	strlcpy(path, restore_path, sizeof(path));
	get_parent_directory(path);
	strlcat(path, path[0] ? "/pg_standby.answered" : "pg_standby.answered",
			sizeof(path));

	file = fopen(path, "r");
	if (file != NULL)
	{
		if (fgets(previous, sizeof(previous), file) == NULL)
			previous[0] = '\0';
		fclose(file);
	}
	if (strcmp(previous, segment) == 0)
		return false;

	file = fopen(path, "w");
	if (file == NULL || fputs(segment, file) < 0 || fclose(file) != 0)
	{
		/* without the note we could not tell the next request: just wait */
		pg_log_warning("could not write file \"%s\": %m", path);
		return false;
	}
	return true;
}
