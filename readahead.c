/*-------------------------------------------------------------------------
 *
 * readahead.c
 *	  The server's read-ahead (recovery_prefetch): is it on, and is this
 *	  request the first for a segment?
 *
 * With recovery_prefetch on ("try", the default), the server asks for the
 * next segment before it has replayed the current one.  A restore_command
 * that waits on that request holds back the replay of what the server
 * already has; pg_standby.c decides what to do about it with these.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/xlog_internal.h"
#include "note.h"
#include "readahead.h"
#include "serverconf.h"

/*
 * The server's read-ahead (recovery_prefetch, "try" by default) asks for
 * the next segment before it has replayed the current one.  Is it on?  The
 * server prints the setting in its canonical form, so "off" is the only
 * spelling of off.
 */
bool
read_ahead_enabled(void)
{
	char		prefetch[64];

	if (!read_server_setting("recovery_prefetch", prefetch, sizeof(prefetch)))
		return true;			/* the default, "try" */
	return strcmp(prefetch, "off") != 0;
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

	strlcpy(path, restore_path, sizeof(path));
	get_parent_directory(path);
	strlcat(path, path[0] ? "/pg_standby.answered" : "pg_standby.answered",
			sizeof(path));

	if (note_holds(path, segment))
		return false;
	/* without the note we could not tell the next request: just wait */
	return write_note(path, segment);
}
