/*-------------------------------------------------------------------------
 *
 * note.c
 *	  One-line notes that one run of pg_standby leaves for the next.
 *
 * Each run answers one request of the server and exits, so what a later
 * run must know (which postmaster was asked to promote, which segment was
 * answered at once) is kept in a small file beside the server's own, in
 * pg_wal/.  A note that cannot be read holds nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "note.h"

/* Does the note at "path" hold "text"? */
bool
note_holds(const char *path, const char *text)
{
	char		noted[128] = "";
	FILE	   *file = fopen(path, "r");

	if (file == NULL)
		return false;
	if (fgets(noted, sizeof(noted), file) == NULL)
		noted[0] = '\0';
	fclose(file);
	return strcmp(noted, text) == 0;
}

/* Make the note at "path" hold "text"; warns and returns false if it fails. */
bool
write_note(const char *path, const char *text)
{
	FILE	   *file = fopen(path, "w");

	if (file == NULL || fputs(text, file) < 0 || fclose(file) != 0)
	{
		pg_log_warning("could not write file \"%s\": %m", path);
		return false;
	}
	return true;
}
