/*-------------------------------------------------------------------------
 *
 * serverconf.c
 *	  Ask the server that runs us for one of its settings.
 *
 * Two settings change what pg_standby may safely do while it waits:
 * recovery_prefetch (whose read-ahead asks for the next segment before the
 * current one is replayed) and primary_conninfo (while we wait, the server
 * cannot stream).  A restore_command has no connection to the server, but
 * the server's own configuration parser is one exec away: "postgres -C
 * NAME" prints the value the server reads from its configuration files
 * and command line, and works while the server runs (for every setting
 * that is not computed at run time, such as shared_memory_size).  pg_ctl
 * asks it for data_directory the same way.
 *
 * The postgres executable and its command line are the postmaster's own,
 * from postmaster.opts, which the postmaster writes into its data
 * directory (our working directory) at every start: the same binary reads
 * the same files.  This costs a process start (see BENCHMARKS.md), so it
 * is done only when pg_standby is about to wait, never on the restore of a
 * file that is present.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/logging.h"
#include "serverconf.h"

/* More arguments than any command line pg_ctl or pg_ctlcluster writes. */
#define MAX_SERVER_ARGS		64

/*
 * Split postmaster.opts into an argument vector, in place.  The file holds
 * one line: the absolute path of the postgres executable, then each
 * argument in double quotes, separated by spaces (postmaster.c writes them
 * without escaping).  A relative -D is relative to wherever the server was
 * started from, which we do not know; it becomes ".", the data directory
 * we run in.  Returns the number of arguments, or -1 if the line is not of
 * that form.
 */
static int
split_postmaster_opts(char *line, char **argv, int max_args)
{
	char	   *p = strstr(line, " \"");
	int			argc = 0;

	line[strcspn(line, "\n")] = '\0';
	if (p == NULL)
		p = line + strlen(line);
	else
		*p++ = '\0';
	if (!is_absolute_path(line))
		return -1;
	argv[argc++] = line;

	while (*p == '"')
	{
		char	   *arg = p + 1;
		char	   *end = strstr(arg, "\" \"");

		if (end == NULL)
		{
			end = arg + strlen(arg) - 1;
			if (end < arg || *end != '"')
				return -1;
			p = end + 1;
		}
		else
			p = end + 2;
		*end = '\0';
		if (argc >= max_args)
			return -1;
		if (argc > 1 && !is_absolute_path(arg) &&
			(strcmp(argv[argc - 1], "-D") == 0 ||
			 strcmp(argv[argc - 1], "--pgdata") == 0))
			arg = ".";
		argv[argc++] = arg;
	}
	return *p == '\0' ? argc : -1;
}

/*
 * Run argv with its standard output into a pipe, and read the first line
 * it writes into "value".  Its standard error is discarded: the caller
 * says what failed.  Returns the child's wait status, or -1 if it could not
 * be run.
 */
static int
run_and_read_line(char *const *argv, char *value, size_t value_size)
{
	int			out[2];
	pid_t		pid;
	size_t		len = 0;
	ssize_t		n;
	int			status;

	if (pipe2(out, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
	{
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0)
	{
		int			null_fd = open("/dev/null", O_WRONLY);

		if (dup2(out[1], STDOUT_FILENO) < 0 ||
			null_fd < 0 || dup2(null_fd, STDERR_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);

	/* a value longer than the buffer is cut; the rest is read and dropped */
	for (;;)
	{
		char		discard[1024];
		char	   *into = len + 1 < value_size ? value + len : discard;
		size_t		room = len + 1 < value_size ? value_size - 1 - len :
			sizeof(discard);

		n = read(out[0], into, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (into == value + len)
			len += n;
	}
	close(out[0]);
	value[len] = '\0';
	value[strcspn(value, "\n")] = '\0';

	while (waitpid(pid, &status, 0) < 0)
	{
		if (errno != EINTR)
			return -1;
	}
	return status;
}

/*
 * Ask the server for the value of setting "name", as "postgres -C NAME"
 * with the postmaster's command line prints it.  Returns false, having
 * said why, if the server could not be asked; the caller then assumes the
 * setting's default.
 */
bool
read_server_setting(const char *name, char *value, size_t value_size)
{
	char		opts[8192];
	char	   *argv[MAX_SERVER_ARGS + 3];
	int			argc;
	FILE	   *file;
	size_t		n;
	int			status;

	file = fopen("postmaster.opts", "r");
	if (file == NULL)
	{
		pg_log_warning("could not open file \"%s\": %m", "postmaster.opts");
		pg_log_warning_detail("The value of \"%s\" is not known; its default is assumed.",
							  name);
		return false;
	}
	n = fread(opts, 1, sizeof(opts) - 1, file);
	fclose(file);
	opts[n] = '\0';

	argc = split_postmaster_opts(opts, argv, MAX_SERVER_ARGS);
	if (argc < 0)
	{
		pg_log_warning("invalid data in file \"%s\"", "postmaster.opts");
		pg_log_warning_detail("The value of \"%s\" is not known; its default is assumed.",
							  name);
		return false;
	}
	argv[argc++] = "-C";
	argv[argc++] = unconstify(char *, name);
	argv[argc] = NULL;

	status = run_and_read_line(argv, value, value_size);
	if (status != 0)
	{
		if (status < 0)
			pg_log_warning("could not run \"%s\": %m", argv[0]);
		else if (WIFEXITED(status))
			pg_log_warning("\"%s -C %s\" failed with exit code %d",
						   argv[0], name, WEXITSTATUS(status));
		else
			pg_log_warning("\"%s -C %s\" was terminated by signal %d",
						   argv[0], name, WTERMSIG(status));
		pg_log_warning_detail("The value of \"%s\" is not known; its default is assumed.",
							  name);
		return false;
	}
	pg_log_debug("the server's setting of %s is \"%s\"", name, value);
	return true;
}
