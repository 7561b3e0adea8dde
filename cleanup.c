/*-------------------------------------------------------------------------
 *
 * cleanup.c
 *	  Remove segments from the archive that the standby no longer needs.
 *
 * The server tells us (%r) the oldest segment it would need to restart;
 * everything strictly older can go.  Timelines are ignored on purpose: a
 * segment of an older timeline that precedes the restart point is as
 * useless as one of the current timeline.  This is only right when this
 * standby is the archive's only reader, as the documentation says.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "archive_format.h"
#include "cleanup.h"
#include "common/logging.h"

/*
 * Is "name" a segment, plain or compressed?  Every form counts, also one
 * this build cannot decode: it is no less obsolete.
 */
static bool
is_archived_segment_name(const char *name)
{
	char		segment[MAXFNAMELEN];

	if (strlen(name) < XLOG_FNAME_LEN)
		return false;
	strlcpy(segment, name, XLOG_FNAME_LEN + 1);
	if (!IsXLogFileName(segment))
		return false;
	for (int i = 0; i < num_archive_formats; i++)
	{
		if (strcmp(name + XLOG_FNAME_LEN, archive_formats[i].suffix) == 0)
			return true;
	}
	return false;
}

/*
 * Remove every archived segment whose log and segment numbers precede
 * those of restart_name.  Only regular files are removed: a symbolic link
 * or anything else with a segment's name is left alone.
 */
void
remove_old_segments(const char *archive_dir, const char *restart_name)
{
	const char *restart_position = restart_name + 8;
	DIR		   *dir;
	struct dirent *entry;
	int			removed = 0;

	/* All zeros: the server does not know its restart point yet. */
	if (strspn(restart_position, "0") == XLOG_FNAME_LEN - 8)
		return;

	dir = opendir(archive_dir);
	if (dir == NULL)
	{
		pg_log_warning("could not open archive directory \"%s\" for cleanup: %m",
					   archive_dir);
		return;
	}
	while (errno = 0, (entry = readdir(dir)) != NULL)
	{
		struct stat st;

		if (!is_archived_segment_name(entry->d_name) ||
			strncmp(entry->d_name + 8, restart_position,
					XLOG_FNAME_LEN - 8) >= 0)
			continue;
		if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
			!S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(dir), entry->d_name, 0) != 0)
		{
			pg_log_warning("could not remove file \"%s/%s\": %m",
						   archive_dir, entry->d_name);
			continue;
		}
		pg_log_debug("removed \"%s/%s\"", archive_dir, entry->d_name);
		removed++;
	}
	if (errno != 0)
		pg_log_warning("could not read archive directory \"%s\": %m",
					   archive_dir);
	closedir(dir);
	if (removed > 0)
		pg_log_debug("removed %d files older than %s", removed, restart_name);
}
