/*-------------------------------------------------------------------------
 *
 * wait.h
 *	  Sleep until something that may end the wait happens.
 *
 *-------------------------------------------------------------------------
 */
#ifndef WAIT_H
#define WAIT_H

typedef enum WaitEvent
{
	WAIT_TIMEOUT,				/* the poll interval passed */
	WAIT_WOKEN,					/* something changed: look again */
	WAIT_SERVER_GONE			/* the server (postmaster or the process that
								 * ran us) died */
} WaitEvent;

extern void wait_init(const char *archive_dir, const char *trigger_path,
					  bool run_by_server);
extern WaitEvent wait_for_change(double seconds);
extern void wait_wake_up(void);
extern const char *archive_network_file_system(void);

#endif							/* WAIT_H */
