/*-------------------------------------------------------------------------
 *
 * promote.c
 *	  Ask the server to promote, as "pg_ctl promote" does, and see whether
 *	  someone else has.
 *
 * In standby mode the server never ends recovery by itself, so our
 * failover asks it to: the "promote" signal file in the data directory
 * (our working directory) and SIGUSR1 to the postmaster named in
 * postmaster.pid.  A request is noted with the postmaster's identity, so
 * that it is made once to each run of the server; other things said once
 * to each run are noted the same way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <signal.h>
#include <sys/stat.h>

#include "common/logging.h"
#include "note.h"
#include "promote.h"

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
	FILE	   *file;
	long		pid;

	if (!read_postmaster_identity(&pid, identity, sizeof(identity)))
		return false;
	if (note_holds(PROMOTION_NOTE, identity))
	{
		pg_log_debug("promotion already requested of postmaster %ld", pid);
		return true;
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
	write_note(PROMOTION_NOTE, identity);
	return true;
}

/*
 * Is this the first time this run of the server has us say what the note
 * "note_path" stands for?  Some things are worth saying once to each run
 * of the server, not on each of the many runs of pg_standby.  If the
 * postmaster cannot be identified, the answer is yes.
 */
bool
first_time_for_server(const char *note_path)
{
	char		identity[128];
	long		pid;

	if (!read_postmaster_identity(&pid, identity, sizeof(identity)))
		return true;
	if (note_holds(note_path, identity))
		return false;
	write_note(note_path, identity);
	return true;
}

/* Has someone ("pg_ctl promote", pg_promote()) asked the server to promote? */
bool
promotion_requested(void)
{
	struct stat st;

	return stat("promote", &st) == 0;
}
