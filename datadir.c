/*-------------------------------------------------------------------------
 *
 * datadir.c
 *	  What pg_standby learns about the server that runs it from its data
 *	  directory: how it recovers, its major version, its system identifier.
 *
 * The server runs restore_command with its data directory as the working
 * directory, so its signal files, PG_VERSION and global/pg_control are at
 * hand under relative names.  Other callers of the same command
 * (pg_rewind, a test) are recognised by the restore path they pass, which
 * is never the server's own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/stat.h>

#include "datadir.h"

/*
 * The server restores into these names under pg_wal/; any other restore
 * path means that someone else is running us, who must not be made to wait.
 */
static bool
is_server_restore_path(const char *restore_path)
{
	const char *base = last_dir_separator(restore_path);

	base = base ? base + 1 : restore_path;
	return strcmp(base, "RECOVERYXLOG") == 0 ||
		strcmp(base, "RECOVERYHISTORY") == 0;
}

RecoveryMode
detect_recovery_mode(const char *restore_path)
{
	struct stat st;

	if (!is_server_restore_path(restore_path))
		return RECOVERY_NONE;
	if (stat("standby.signal", &st) == 0)
		return RECOVERY_STANDBY;
	return RECOVERY_ARCHIVE;
}

/* Major version from PG_VERSION, or 0 if there is none to read. */
int
read_server_major_version(void)
{
	FILE	   *file = fopen("PG_VERSION", "r");
	int			major = 0;

	if (file == NULL)
		return 0;
	if (fscanf(file, "%d", &major) != 1)
		major = 0;
	fclose(file);
	return major;
}

/*
 * System identifier of the cluster, or 0 if pg_control cannot be read.
 * It is the first field of ControlFileData in every version, so reading
 * eight bytes needs no knowledge of the rest of the layout.
 */
uint64
read_system_identifier(void)
{
	FILE	   *file = fopen("global/pg_control", "rb");
	uint64		sysid = 0;

	if (file == NULL)
		return 0;
	if (fread(&sysid, sizeof(sysid), 1, file) != 1)
		sysid = 0;
	fclose(file);
	return sysid;
}

/*
 * PID of the postmaster, from the first line of postmaster.pid, or 0 if
 * there is no such file (the caller is not the server).  After a crash the
 * file stays behind with the dead postmaster's PID, which is right: that
 * postmaster is gone.
 */
pid_t
read_postmaster_pid(void)
{
	FILE	   *file = fopen("postmaster.pid", "r");
	int			pid = 0;

	if (file == NULL)
		return 0;
	if (fscanf(file, "%d", &pid) != 1 || pid < 0)
		pid = 0;
	fclose(file);
	return (pid_t) pid;
}
