/*-------------------------------------------------------------------------
 *
 * trigger.c
 *	  Failover requests: signals, a "promote" file, the trigger file.
 *
 * The trigger file of the classic pg_standby is kept as it was: empty or
 * "smart" for a smart failover, "fast" for a fast one.  pg_ctl promote and
 * pg_promote() are honoured too, so that the server's own promotion never
 * hangs behind a waiting pg_standby.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"
#include "promote.h"
#include "trigger.h"
#include "wait.h"

/* The signal that requested a fast failover, or 0. */
static volatile sig_atomic_t fast_failover_signal = 0;

/* SIGUSR1 (and SIGINT, deprecated) request a fast failover. */
static void
handle_failover_signal(int signo)
{
	fast_failover_signal = signo;
	wait_wake_up();
}

/* Installed before the first look for a trigger, and kept to the end. */
void
handle_failover_signals(void)
{
	pqsignal(SIGUSR1, handle_failover_signal);
	pqsignal(SIGINT, handle_failover_signal);
}

/*
 * "echo fast > TRIGGER" creates the file, then writes it: an empty trigger
 * file seen within moments of its last change may not be finished yet.
 */
static bool
trigger_just_created(int fd)
{
	struct stat st;
	struct timespec now;
	double		age;

	if (fstat(fd, &st) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return false;
	age = (now.tv_sec - st.st_mtim.tv_sec) +
		(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
	return age >= 0 && age < TRIGGER_SETTLE_TIME;
}

/*
 * Look for a failover request, for a request of the server (never for
 * another caller, which is never made to wait): a signal, a "promote"
 * file (pg_ctl promote, pg_promote()), or the trigger file.  A "fast" trigger file is truncated
 * so that it reads as "smart" from then on: if the server asks again for a
 * segment already restored, it gets it.
 */
Failover
check_failover(const char *trigger_path)
{
	char		content[16] = "";
	ssize_t		n;
	int			fd;

	if (fast_failover_signal != 0)
		return FAILOVER_FAST;
	if (promotion_requested())
		return FAILOVER_FAST;
	if (trigger_path == NULL)
		return FAILOVER_NONE;

	/*
	 * Read-only: closing a file opened for writing is an inotify event in the
	 * directory we watch, which would wake us at once, forever.
	 */
	fd = open(trigger_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		if (errno != ENOENT)
			pg_log_warning("could not open trigger file \"%s\": %m",
						   trigger_path);
		return FAILOVER_NONE;
	}
	n = read(fd, content, sizeof(content) - 1);
	if (n == 0 && trigger_just_created(fd))
	{
		close(fd);
		return FAILOVER_UNDECIDED;
	}
	close(fd);
	content[Max(n, 0)] = '\0';
	content[strcspn(content, " \t\r\n")] = '\0';
	if (strcmp(content, "fast") == 0)
	{
		if (truncate(trigger_path, 0) != 0)
			pg_log_warning("could not truncate trigger file \"%s\": %m",
						   trigger_path);
		return FAILOVER_FAST;
	}
	if (content[0] != '\0' && strcmp(content, "smart") != 0)
		pg_log_warning("trigger file \"%s\" contains \"%s\", treated as \"smart\"",
					   trigger_path, content);
	return FAILOVER_SMART;
}

void
report_failover(Failover failover, const char *trigger_path)
{
	int			signo = fast_failover_signal;

	if (signo == SIGINT)
	{
		pg_log_warning("SIGINT received: fast failover");
		pg_log_warning_hint("SIGINT is deprecated for this; use SIGUSR1.");
	}
	else if (signo != 0)
		pg_log_info("SIGUSR1 received: fast failover");
	else if (promotion_requested())
		pg_log_info("promotion requested: fast failover");
	else if (failover == FAILOVER_FAST)
		pg_log_info("trigger file \"%s\" found: fast failover", trigger_path);
	else
		pg_log_info("trigger file \"%s\" found: smart failover", trigger_path);
}
