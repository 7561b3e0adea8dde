/*-------------------------------------------------------------------------
 *
 * datadir.h
 *	  What pg_standby learns about the server that runs it from its data
 *	  directory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DATADIR_H
#define DATADIR_H

/* How the server that runs us is recovering, from its signal files. */
typedef enum RecoveryMode
{
	RECOVERY_ARCHIVE,			/* recovery.signal: exit 1 ends recovery */
	RECOVERY_STANDBY,			/* standby.signal: exit 1 is retried */
	RECOVERY_NONE				/* not the server (pg_rewind, a test, ...) */
} RecoveryMode;

extern RecoveryMode detect_recovery_mode(const char *restore_path);
extern int	read_server_major_version(void);
extern uint64 read_system_identifier(void);
extern pid_t read_postmaster_pid(void);

#endif							/* DATADIR_H */
