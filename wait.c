/*-------------------------------------------------------------------------
 *
 * wait.c
 *	  Sleep until something that may end the wait happens.
 *
 * A standby's lag is the time between a segment landing in the archive and
 * pg_standby noticing it, and its failover time starts with pg_standby
 * noticing the trigger.  So the wait is woken at once by the kernel:
 * inotify reports arrivals in the archive, changes to the trigger file and
 * a "promote" file in the data directory, a self-pipe reports signals, and
 * a pidfd reports the death of the server process that ran us.  The poll
 * interval (-s) remains as the fallback for whatever the kernel cannot
 * report.  What a wake-up means is for the caller to find out: this file
 * only sleeps and wakes.
 *
 * Closing an inotify instance that still has watches makes the process
 * wait, at exit, for the kernel to reap them: several milliseconds, often
 * more than the copy itself.  So watches exist only while we wait: none is
 * set up when the first look finds the file, and they are removed as soon
 * as the wait ends (their reaping then overlaps the copy).
 *
 * inotify sees only the writes made through this host's kernel: on a
 * network file system (NFS, SMB, sshfs and other FUSE file systems, ...)
 * files written by another host arrive unseen, and polling is all there
 * is.  There the poll adapts: pg_standby is run again right after each
 * segment is restored, so the next one is most likely to arrive soon and
 * is looked for often at first; the longer nothing arrives, the rarer the
 * looks, down to one per -s seconds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"
#include "datadir.h"
#include "wait.h"

/* Events that may mean a file we look for has appeared or changed. */
#define ARRIVAL_EVENTS	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB)

/* Where to watch, and the watches while they exist. */
static const char *watched_archive_dir;
static char watched_trigger_dir[MAXPGPATH];
static bool inotify_unavailable = false;
static int	inotify_fd = -1;
static int	watches[3];
static int	num_watches = 0;

static int	self_pipe[2] = {-1, -1};

/*
 * The server processes whose death ends the wait: the process that ran us
 * (the startup process) and the postmaster.  A pidfd becomes readable when
 * its process has exited, even while it is a zombie that kill(pid, 0) still
 * finds; without one, the process is looked at by polling.
 */
typedef struct WatchedProcess
{
	pid_t		pid;			/* 0: not watched */
	int			pidfd;			/* -1: polled instead */
	const char *what;			/* for debug messages */
} WatchedProcess;

static WatchedProcess server_processes[] = {
	{0, -1, "the server process that started pg_standby"},
	{0, -1, "the postmaster"},
};

/*
 * On a network file system, a wait polls every fifth of the time it has
 * lasted so far, but not more often than this, nor less often than -s.
 */
#define NETWORK_POLL_MIN		0.05
#define NETWORK_POLL_FRACTION	0.2

/* A file system that other hosts write to, by its statfs() f_type */
typedef struct NetworkFileSystem
{
	long		magic;			/* from linux/magic.h */
	const char *name;
} NetworkFileSystem;

static const NetworkFileSystem network_file_systems[] = {
	{0x6969, "NFS"},
	{0x517B, "SMB"},
	{0xFF534D42, "CIFS"},
	{0xFE534D42, "SMB2"},
	{0x65735546, "FUSE"},
	{0x01021997, "9p"},
	{0x00C36400, "Ceph"},
	{0x5346414F, "AFS"},
	{0x6B414653, "AFS"},
	{0x73757245, "Coda"},
	{0x0BD00BD0, "Lustre"},
	{0x01161970, "GFS2"},
	{0x7461636F, "OCFS2"},
	{0x47504653, "GPFS"},
};

/* The archive's network file system, or NULL for a local one. */
static const char *archive_network_fs = NULL;
static struct timespec wait_start;

/*
 * Wake a wait up from a signal handler: a byte in the self-pipe makes the
 * poll() return, even if the signal came just before it started.  Only
 * async-signal-safe calls.
 */
void
wait_wake_up(void)
{
	int			save_errno = errno;

	/* a full pipe already holds a wake-up: nothing is lost if this fails */
	if (self_pipe[1] >= 0 && write(self_pipe[1], "", 1) < 0)
		errno = save_errno;
	errno = save_errno;
}

/*
 * The server runs restore_command through a shell, which may or may not
 * exec us; either way, the process to watch is the first ancestor that is
 * not a shell.
 */
static pid_t
find_server_pid(void)
{
	pid_t		pid = getppid();
	char		path[64];
	char		comm[64];
	FILE	   *file;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	file = fopen(path, "r");
	if (file == NULL)
		return pid;
	if (fscanf(file, "%*d (%63[^)]) %*c %d", comm, &pid) != 2 ||
		(strcmp(comm, "sh") != 0 && strcmp(comm, "dash") != 0 &&
		 strcmp(comm, "bash") != 0))
		pid = getppid();
	fclose(file);
	return pid;
}

static void
watch_process(WatchedProcess *process, pid_t pid)
{
	process->pid = pid;
#ifdef SYS_pidfd_open
	process->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (process->pidfd < 0 && errno == ESRCH)
		return;					/* already gone: the first look says so */
#endif
	if (process->pidfd < 0)
		pg_log_debug("watching %s (PID %d) by polling: %m",
					 process->what, (int) pid);
}

/*
 * Watch the process that ran us and, when the server ran us, its
 * postmaster: a postmaster killed (by the OOM killer, say) leaves the
 * startup process blocked in system() until we exit, and its shared memory
 * attached, so that the server cannot be started again.
 */
static void
watch_server_processes(bool run_by_server)
{
	pid_t		server_pid = find_server_pid();
	pid_t		postmaster_pid = run_by_server ? read_postmaster_pid() : 0;

	if (server_pid > 1)
		watch_process(&server_processes[0], server_pid);
	if (postmaster_pid > 1 && postmaster_pid != server_pid)
		watch_process(&server_processes[1], postmaster_pid);
}

/* Has this process exited?  A zombie or a dying process has. */
static bool
process_has_exited(const WatchedProcess *process)
{
	char		path[64];
	char		state = '?';
	FILE	   *file;

	if (process->pidfd >= 0)
	{
		struct pollfd fd = {.fd = process->pidfd,.events = POLLIN};

		return poll(&fd, 1, 0) > 0;
	}
	if (kill(process->pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) process->pid);
	file = fopen(path, "r");
	if (file == NULL)
		return false;
	if (fscanf(file, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(file);
	return state == 'Z' || state == 'X';
}

/*
 * If a server process we watch has exited, log which and return true.
 */
static bool
server_is_gone(void)
{
	for (int i = 0; i < lengthof(server_processes); i++)
	{
		WatchedProcess *process = &server_processes[i];

		if (process->pid != 0 && process_has_exited(process))
		{
			/* whole sentences, which a translation can reorder */
			if (process == &server_processes[0])
				pg_log_error("the server process that started pg_standby (PID %d) has exited",
							 (int) process->pid);
			else
				pg_log_error("the postmaster (PID %d) has exited",
							 (int) process->pid);
			return true;
		}
	}
	return false;
}

static void
add_watch(const char *dir)
{
	int			wd;

	wd = inotify_add_watch(inotify_fd, dir,
						   ARRIVAL_EVENTS | IN_MASK_ADD | IN_ONLYDIR);
	if (wd < 0)
		pg_log_debug("could not watch directory \"%s\", polling it: %m", dir);
	else
		watches[num_watches++] = wd;
}

/* Read and forget queued inotify events: any of them means "look again". */
static void
drain_inotify(void)
{
	char		buffer[4096] pg_attribute_aligned(__alignof__(struct inotify_event));

	while (read(inotify_fd, buffer, sizeof(buffer)) > 0)
		;
}

/*
 * Watch the archive (for arrivals), the data directory (for "promote") and
 * the trigger file's directory.  Whatever cannot be watched is polled.
 */
static void
start_watching(void)
{
	if (inotify_fd < 0 && !inotify_unavailable)
	{
		inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (inotify_fd < 0)
		{
			pg_log_debug("inotify is not available, polling: %m");
			inotify_unavailable = true;
			return;
		}
	}
	if (inotify_fd < 0)
		return;

	/*
	 * Forget what the last watches left (IN_IGNORED for each removed one):
	 * the caller looks again after this anyway.
	 */
	drain_inotify();
	add_watch(watched_archive_dir);
	add_watch(".");
	if (watched_trigger_dir[0] != '\0')
		add_watch(watched_trigger_dir);
}

/* Remove the watches; the kernel reaps them in the background. */
static void
stop_watching(void)
{
	for (int i = 0; i < num_watches; i++)
		inotify_rm_watch(inotify_fd, watches[i]);
	num_watches = 0;
}

/*
 * Is the archive on a file system that other hosts write to?  Unknown
 * (statfs failed: the directory may be missing for now) counts as local:
 * only the poll interval depends on it.
 */
static const char *
detect_network_fs(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st) != 0)
		return NULL;
	for (int i = 0; i < lengthof(network_file_systems); i++)
	{
		if ((unsigned long) st.f_type ==
			(unsigned long) network_file_systems[i].magic)
			return network_file_systems[i].name;
	}
	return NULL;
}

/*
 * The name of the network file system the archive is on (one that inotify
 * cannot watch for other hosts' writes), or NULL if it is local.
 */
const char *
archive_network_file_system(void)
{
	return archive_network_fs;
}

/*
 * How long to sleep before looking at the archive again, when the caller
 * would sleep "seconds" (the -s interval, or less).
 */
static double
poll_interval(double seconds)
{
	struct timespec now;
	double		waited;

	if (archive_network_fs == NULL)
		return seconds;
	clock_gettime(CLOCK_MONOTONIC, &now);
	waited = (now.tv_sec - wait_start.tv_sec) +
		(now.tv_nsec - wait_start.tv_nsec) / 1e9;
	return Min(seconds, Max(NETWORK_POLL_MIN, waited * NETWORK_POLL_FRACTION));
}

/*
 * Set up what every wait needs: the self-pipe and the server's pidfd.
 * Whatever cannot be had is replaced by polling, never by a failure.
 */
void
wait_init(const char *archive_dir, const char *trigger_path,
		  bool run_by_server)
{
	if (pipe2(self_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		pg_log_debug("could not create pipe: %m");

	watched_archive_dir = archive_dir;
	if (trigger_path != NULL)
	{
		strlcpy(watched_trigger_dir, trigger_path, sizeof(watched_trigger_dir));
		get_parent_directory(watched_trigger_dir);
		if (watched_trigger_dir[0] == '\0')
			strlcpy(watched_trigger_dir, ".", sizeof(watched_trigger_dir));
	}

	watch_server_processes(run_by_server);

	clock_gettime(CLOCK_MONOTONIC, &wait_start);
	archive_network_fs = detect_network_fs(archive_dir);
}

static void
drain_pipe(void)
{
	char		buffer[64];

	while (read(self_pipe[0], buffer, sizeof(buffer)) > 0)
		;
}

/*
 * Wait up to "seconds" for an event.  Spurious wake-ups are fine: the
 * caller looks at everything again whatever woke it.
 */
WaitEvent
wait_for_change(double seconds)
{
	const int  *wakers[] = {
		&self_pipe[0],
		&inotify_fd,
		&server_processes[0].pidfd,
		&server_processes[1].pidfd,
	};
	struct pollfd fds[lengthof(wakers)];
	int			nfds = 0;
	int			timeout_ms;
	int			rc;

	/*
	 * The watches begin with the first wait.  Something may have arrived
	 * since the caller looked: look again before sleeping.
	 */
	if (num_watches == 0 && !inotify_unavailable)
	{
		start_watching();
		if (num_watches > 0)
			return WAIT_WOKEN;
	}

	seconds = poll_interval(seconds);

	/* Without a pidfd, look at the server at least once a second. */
	for (int i = 0; i < lengthof(server_processes); i++)
	{
		if (server_processes[i].pid != 0 && server_processes[i].pidfd < 0)
			seconds = Min(seconds, 1.0);
	}
	timeout_ms = (int) ceil(seconds * 1000.0);

	for (int i = 0; i < lengthof(wakers); i++)
	{
		if (*wakers[i] >= 0)
		{
			fds[nfds].fd = *wakers[i];
			fds[nfds].events = POLLIN;
			fds[nfds].revents = 0;
			nfds++;
		}
	}

	/* A signal that arrived before the poll has already written the pipe. */
	rc = poll(fds, nfds, timeout_ms);
	if (rc < 0 && errno != EINTR)
		pg_log_debug("poll failed: %m");

	if (server_is_gone())
		return WAIT_SERVER_GONE;
	if (self_pipe[0] >= 0)
		drain_pipe();
	if (inotify_fd >= 0)
		drain_inotify();

	/* the wait may be over: let the watches' reaping overlap what follows */
	stop_watching();
	return rc == 0 ? WAIT_TIMEOUT : WAIT_WOKEN;
}
