/*-------------------------------------------------------------------------
 *
 * cleanup.h
 *	  Remove segments from the archive that the standby no longer needs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLEANUP_H
#define CLEANUP_H

extern void remove_old_segments(const char *archive_dir,
								const char *restart_name);

#endif							/* CLEANUP_H */
