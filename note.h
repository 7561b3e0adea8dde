/*-------------------------------------------------------------------------
 *
 * note.h
 *	  One-line notes that one run of pg_standby leaves for the next.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NOTE_H
#define NOTE_H

extern bool note_holds(const char *path, const char *text);
extern bool write_note(const char *path, const char *text);

#endif							/* NOTE_H */
