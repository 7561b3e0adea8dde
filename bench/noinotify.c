/*
 * LD_PRELOAD shim for the benchmarks: makes inotify unavailable, as on a
 * kernel without it, so that pg_standby falls back to polling every -s
 * seconds.  Shows what inotify costs and what polling would give.
 */
#include <errno.h>

int
inotify_init(void)
{
	errno = ENOSYS;
	return -1;
}

int
inotify_init1(int flags)
{
	(void) flags;
	errno = ENOSYS;
	return -1;
}
