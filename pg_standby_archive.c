/*-------------------------------------------------------------------------
 *
 * pg_standby_archive.c
 *	  Archive module: the primary's half of a pg_standby warm standby.
 *
 * With archive_library = 'pg_standby_archive', the archiver hands each
 * completed WAL file to this module, which stores it in
 * pg_standby_archive.directory for pg_standby to restore.  As in
 * contrib/basic_archive, the file is written under a temporary name and
 * durably renamed, so that it appears under its final name only complete.
 * Segments (and .partial segments) may be compressed
 * (pg_standby_archive.compression = 'gzip', 'zstd:9', ...) and are then
 * named as pg_receivewal names them: NAME.gz, NAME.lz4.partial, ...
 *
 * The archiver retries a file until it succeeds, also after a crash between
 * storing it and recording that.  So a file already archived, in any form,
 * with the same contents (as pg_standby decodes it) counts as archived, and
 * one with other contents is an error and is never overwritten, except for
 * a .partial segment (see archived_already()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "archive_format.h"
#include "common/compression.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/copydir.h"
#include "storage/fd.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM >= 160000
#include "archive/archive_module.h"
#else
#include "postmaster/pgarch.h"
#endif

#ifdef PG_MODULE_MAGIC_EXT
PG_MODULE_MAGIC_EXT(.name = "pg_standby_archive",.version = PG_VERSION);
#else
PG_MODULE_MAGIC;
#endif

/*
 * Room left in MAXPGPATH for what follows the directory: a slash, the file
 * name (shorter than MAXFNAMELEN), a compression suffix and a temporary
 * suffix ".PID.TIMESTAMP.tmp".
 */
#define MAX_DIRECTORY_LEN	(MAXPGPATH - 128)

/* Room for why an archived file does not decode. */
#define PROBLEM_SIZE		256

static char *archive_directory = NULL;
static char *archive_compression = NULL;
static char *archive_file_mode = NULL;

/*
 * Temporary files to remove: at the first file an archiver archives (a
 * crashed one may have left some), and again after any removal failed.
 */
static bool temp_files_to_remove = true;

#if PG_VERSION_NUM < 170000
static MemoryContext archive_context = NULL;
#endif

/*
 * Parse "method[:detail]" as pg_receivewal's --compress does, the detail
 * (a level, or level=N) by PostgreSQL's own rules; false with *error set
 * when the value cannot be used.  No side effects: check hooks call it.
 */
static bool
parse_compression(const char *value, pg_compress_specification *spec,
				  char **error)
{
	char	   *method = pstrdup(value);
	char	   *detail = strchr(method, ':');
	pg_compress_algorithm algorithm;

	if (detail != NULL)
		*detail++ = '\0';
	if (!parse_compress_algorithm(method, &algorithm))
		*error = psprintf(_("unrecognized compression algorithm: \"%s\""),
						  method);
	else
	{
		parse_compress_specification(algorithm, detail, spec);
		*error = spec->parse_error;
		if (*error == NULL)
			*error = validate_compress_specification(spec);
		if (*error == NULL && spec->options != 0)
			*error = psprintf(_("pg_standby_archive takes no compression option but the level"));
		if (*error == NULL && !archive_format_of(algorithm)->supported)
			*error = psprintf(_("this build of pg_standby_archive does not support compression algorithm \"%s\""),
							  method);
	}
	pfree(method);
	return *error == NULL;
}

/*
 * GUC check hooks.  They only judge the value: a refused value is reported
 * where it is set (ALTER SYSTEM, SET, a module load), and the archiver,
 * which only logs refusals at a reload at DEBUG2, keeps its previous value.
 */
static bool
check_archive_directory(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;			/* unset: the archiver waits */
	if (!is_absolute_path(*newval))
	{
		GUC_check_errdetail("The archive directory must be an absolute path.");
		return false;
	}
	if (strlen(*newval) > MAX_DIRECTORY_LEN)
	{
		GUC_check_errdetail("The archive directory path is longer than %d bytes.",
							MAX_DIRECTORY_LEN);
		return false;
	}
	return true;
}

static bool
check_archive_compression(char **newval, void **extra, GucSource source)
{
	pg_compress_specification spec;
	char	   *error;

	if (parse_compression(*newval, &spec, &error))
		return true;
	GUC_check_errdetail("Invalid compression specification: %s.", error);
	return false;
}

/*
 * Octal, read and write bits only, and both of them for the owner, who must
 * read the file back and reopen it to flush it.
 */
static bool
check_archive_file_mode(char **newval, void **extra, GucSource source)
{
	char	   *end;
	long		mode;

	errno = 0;
	mode = strtol(*newval, &end, 8);
	if (errno == 0 && end != *newval && *end == '\0' &&
		(mode & ~0666) == 0 && (mode & 0600) == 0600)
		return true;
	GUC_check_errdetail("The file mode must be octal, between 0600 and 0666, with read and write permission for the owner.");
	return false;
}

static void
archive_error_context(void *arg)
{
	errcontext("archiving write-ahead log file \"%s\"", (const char *) arg);
}

/*
 * The name a WAL file has in the archive, compressed as given: the
 * compression's suffix goes before a .partial suffix, as pg_receivewal's.
 */
static void
archive_file_path(char *path, const char *file, const ArchiveFormat *format)
{
	int			len = IsPartialXLogFileName(file) ? XLOG_FNAME_LEN : strlen(file);

	snprintf(path, MAXPGPATH, "%s/%.*s%s%s", archive_directory, len, file,
			 format->suffix, file + len);
}

static bool
all_zeros(const char *data, size_t len)
{
	return len == 0 || (data[0] == '\0' && memcmp(data, data + 1, len - 1) == 0);
}

/*
 * An archived file, as it decodes, compared with the WAL file.  In a
 * .partial segment, zeros after the end of either count as nothing: whether
 * one is padded depends on who wrote it.
 */
typedef struct Comparison
{
	int			wal_fd;
	bool		partial;
	int			read_errno;		/* the decoder's consumer must not throw */
	char	   *buf;
} Comparison;

static bool
compare_decoded(void *arg, const char *data, size_t len)
{
	Comparison *c = (Comparison *) arg;
	ssize_t		n = archive_read_full(c->wal_fd, c->buf, len);

	if (n < 0)
		c->read_errno = errno;
	return n >= 0 && memcmp(data, c->buf, n) == 0 &&
		((size_t) n == len || (c->partial && all_zeros(data + n, len - n)));
}

/*
 * Does the archived file, decoded, hold what the WAL file at wal_path
 * holds?  If it does not decode, problem (PROBLEM_SIZE bytes) says why;
 * otherwise it is empty.
 */
static bool
same_contents(const char *archived_path, const ArchiveFormat *format,
			  const char *wal_path, bool partial, char *problem)
{
	Comparison	c = {-1, partial, 0, palloc(ARCHIVE_CHUNK_SIZE)};
	int			archived_fd;
	DecodeResult result;
	ssize_t		n = 0;
	bool		same;

	c.wal_fd = archive_open_file(wal_path);
	archived_fd = archive_open_file(archived_path);
	result = decode_archive_file(format->algorithm, archived_fd,
								 compare_decoded, &c, problem, PROBLEM_SIZE);
	if (result == DECODE_FAILED)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not decompress file \"%s\"", archived_path),
				 errdetail_internal("%s", problem)));

	/* The WAL file must end there too, or (a .partial) go on in zeros. */
	same = result == DECODE_DONE;
	while (same && (n = archive_read_full(c.wal_fd, c.buf, ARCHIVE_CHUNK_SIZE)) > 0)
		same = partial && all_zeros(c.buf, n);
	if (n < 0)
		c.read_errno = errno;
	if (c.read_errno != 0)
	{
		errno = c.read_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", wal_path)));
	}

	archive_close_file(c.wal_fd, wal_path);
	archive_close_file(archived_fd, archived_path);
	return same;
}

/*
 * Is the WAL file already in the archive, under its name or (a segment)
 * any of its compressed names?  Every form present must hold its contents,
 * since pg_standby may restore any of them; one that does not is an error,
 * and is never overwritten.
 *
 * Except for a .partial segment.  The server archives one of the timeline
 * it leaves at promotion, while pg_receivewal may have streamed its own
 * NAME.partial (compressed, or unpadded) into the same directory before the
 * failover.  The two differ legitimately, and an error would stop the
 * archiver on this file for good, and every segment of the new timeline
 * behind it.  The archive's file is kept, and the server's is not written
 * beside it: every record in it up to the switch is also in the new
 * timeline's first segment, archived next, and a second .partial under
 * another suffix would change which one pg_standby restores at a later
 * smart failover.
 */
static bool
archived_already(const char *file, const char *path, bool compressible)
{
	bool		partial = IsPartialXLogFileName(file);
	char		found[MAXPGPATH] = "";

	for (int i = 0; i < (compressible ? num_archive_formats : 1); i++)
	{
		const ArchiveFormat *format = &archive_formats[i];
		char		archived_path[MAXPGPATH];
		char		problem[PROBLEM_SIZE];
		struct stat st;

		archive_file_path(archived_path, file, format);
		if (lstat(archived_path, &st) != 0)
		{
			if (errno == ENOENT)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", archived_path)));
		}
		if (!S_ISREG(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_FILE),
					 errmsg("archive file \"%s\" already exists and is not a regular file",
							archived_path)));
		if (same_contents(archived_path, format, path, partial, problem))
		{
			strlcpy(found, archived_path, sizeof(found));
			continue;
		}
		if (partial)
		{
			ereport(LOG,
					(errmsg("keeping archive file \"%s\", which differs from \"%s\"",
							archived_path, path),
					 errdetail("\"%s\" counts as archived: every record in it up to the switch to a new timeline is also in the first segment of that timeline.",
							   path)));
			return true;
		}
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("archive file \"%s\" already exists with different contents",
						archived_path),
				 problem[0] != '\0' ? errdetail_internal("%s", problem) :
				 errdetail("The archive file was left as it is; \"%s\" is not archived.",
						   path),
				 errhint("Is another server archiving into the same directory?")));
	}

	if (found[0] == '\0')
		return false;

	/* An earlier attempt may have failed before the file was durable. */
	(void) fsync_fname_ext(found, false, false, ERROR);
	(void) fsync_fname_ext(archive_directory, true, false, ERROR);
	ereport(DEBUG1,
			(errmsg_internal("\"%s\" is already archived as \"%s\" with the same contents",
							 file, found)));
	return true;
}

/* Is this one of our temporary names, NAME...PID.TIMESTAMP.tmp? */
static bool
is_temp_file_name(const char *name)
{
	size_t		len = strlen(name);
	const char *end = name + len - 4;

	/* the shortest: 8 hexadecimal digits, ".1.1.tmp" */
	if (len < 16 || strcmp(end, ".tmp") != 0 ||
		strspn(name, "0123456789ABCDEF") < 8)
		return false;
	for (int numbers = 0; numbers < 2; numbers++)
	{
		const char *digits = end;

		while (digits > name + 8 && isdigit((unsigned char) digits[-1]))
			digits--;
		if (digits == end || digits[-1] != '.')
			return false;
		end = digits - 1;
	}
	return true;
}

/*
 * Remove a temporary file; never throws.  A failure (a network file system
 * during an outage) is logged and does not stop archiving: the removal is
 * tried again before the next file.
 */
static void
remove_temp_file(const char *path, bool stale)
{
	if (unlink(path) == 0)
	{
		if (stale)
			ereport(LOG,
					(errmsg("removed temporary file \"%s\" left by an earlier attempt",
							path)));
	}
	else if (errno != ENOENT)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", path),
				 errdetail("Removal will be tried again before the next file is archived.")));
		temp_files_to_remove = true;
	}
}

/*
 * Only the process that creates a temporary file renames it, and between
 * two files this archiver has none, so every one in the archive is stale:
 * left by an archiver that died in the middle of a file, or by this one
 * when it could not remove it.
 */
static void
remove_temp_files(void)
{
	DIR		   *dir = AllocateDir(archive_directory);
	struct dirent *de;

	temp_files_to_remove = (dir == NULL);
	while ((de = ReadDirExtended(dir, archive_directory, LOG)) != NULL)
	{
		char		path[MAXPGPATH];

		if (!is_temp_file_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", archive_directory, de->d_name);
		remove_temp_file(path, true);
	}
	if (dir != NULL)
		FreeDir(dir);
}

static void
archive_file_internal(const char *file, const char *path)
{
	pg_compress_specification spec;
	char	   *error;
	bool		compressible;
	struct stat st;
	char		final_path[MAXPGPATH];
	char		temp_path[MAXPGPATH];

	if (stat(archive_directory, &st) != 0)
	{
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("archive directory \"%s\" does not exist",
							archive_directory)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access archive directory \"%s\": %m",
						archive_directory)));
	}
	if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("archive directory \"%s\" is not a directory",
						archive_directory)));

	if (temp_files_to_remove)
		remove_temp_files();

	/* The check hooks accepted the settings. */
	if (!parse_compression(archive_compression, &spec, &error))
		elog(ERROR, "invalid pg_standby_archive.compression: %s", error);

	/* Segments are what pg_standby reads compressed; history files stay. */
	compressible = IsXLogFileName(file) || IsPartialXLogFileName(file);
	if (!compressible)
		spec.algorithm = PG_COMPRESSION_NONE;

	if (archived_already(file, path, compressible))
		return;

	archive_file_path(final_path, file, archive_format_of(spec.algorithm));

	/* A name of our own, never another writer's nor a crash's leftover. */
	snprintf(temp_path, sizeof(temp_path), "%s.%d." INT64_FORMAT ".tmp",
			 final_path, MyProcPid, (int64) GetCurrentTimestamp());
	PG_TRY();
	{
		if (spec.algorithm == PG_COMPRESSION_NONE)
			copy_file(unconstify(char *, path), temp_path);
		else
			archive_compress_file(path, temp_path, &spec);

		/* The server creates files with its mode; the archive has its own. */
		if (chmod(temp_path, (mode_t) strtol(archive_file_mode, NULL, 8)) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not change permissions of file \"%s\": %m",
							temp_path)));

		/* durable_rename() would replace a file that appeared meanwhile. */
		if (lstat(final_path, &st) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_FILE),
					 errmsg("archive file \"%s\" appeared while it was being written",
							final_path),
					 errhint("Is another server archiving into the same directory?")));
		(void) durable_rename(temp_path, final_path, ERROR);
	}
	PG_CATCH();
	{
		/* Gone already if only the synchronization after the rename failed. */
		remove_temp_file(temp_path, false);
		PG_RE_THROW();
	}
	PG_END_TRY();

	ereport(DEBUG1,
			(errmsg_internal("archived \"%s\" as \"%s\"", file, final_path)));
}

/*
 * Archive one file; true when it is in the archive.  PostgreSQL 16 passes
 * every archive module callback a state, which this module does not use.
 *
 * Before PostgreSQL 17 an ERROR escaping an archive module would be FATAL
 * and restart the archiver, so it is caught and reported here, and the files
 * left open closed, as basic_archive does; from 17 on, the archiver does
 * that itself.  Either way the archiver retries the file.
 */
static bool
#if PG_VERSION_NUM >= 160000
archive_file(ArchiveModuleState *state, const char *file, const char *path)
#else
archive_file(const char *file, const char *path)
#endif
{
	ErrorContextCallback errcallback;
	bool		archived = true;
#if PG_VERSION_NUM < 170000
	MemoryContext oldcontext;
#endif

	errcallback.callback = archive_error_context;
	errcallback.arg = unconstify(char *, file);
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
#if PG_VERSION_NUM >= 170000
	archive_file_internal(file, path);
#else
	if (archive_context == NULL)
		archive_context = AllocSetContextCreate(TopMemoryContext,
												"pg_standby_archive",
												ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(archive_context);
	PG_TRY();
	{
		archive_file_internal(file, path);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();
		AtEOSubXact_Files(false, InvalidSubTransactionId, InvalidSubTransactionId);
		RESUME_INTERRUPTS();
		archived = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(archive_context);
#endif
	error_context_stack = errcallback.previous;
	return archived;
}

/*
 * Archiving waits while the directory is unset.  PostgreSQL 17 lets the
 * check callback explain why in the archiver's own warning.
 */
static bool
#if PG_VERSION_NUM >= 160000
check_configured(ArchiveModuleState *state)
#else
check_configured(void)
#endif
{
	if (archive_directory != NULL && archive_directory[0] != '\0')
		return true;
#ifdef arch_module_check_errdetail
	arch_module_check_errdetail("pg_standby_archive cannot archive: \"%s\" is not set.",
								"pg_standby_archive.directory");
#else
	ereport(WARNING,
			(errmsg("pg_standby_archive cannot archive: \"%s\" is not set",
					"pg_standby_archive.directory")));
#endif
	return false;
}

static const ArchiveModuleCallbacks callbacks = {
	.check_configured_cb = check_configured,
	.archive_file_cb = archive_file,
};

#if PG_VERSION_NUM >= 160000
const ArchiveModuleCallbacks *
_PG_archive_module_init(void)
{
	return &callbacks;
}
#else
extern PGDLLEXPORT void _PG_archive_module_init(ArchiveModuleCallbacks *cb);

void
_PG_archive_module_init(ArchiveModuleCallbacks *cb)
{
	*cb = callbacks;
}
#endif

/*
 * Module load: the parameters.  PostgreSQL 15's fmgr.h does not declare
 * _PG_init(); later ones do, and a second declaration does no harm.
 */
extern PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("pg_standby_archive.directory",
							   gettext_noop("Directory that WAL files are archived to, for pg_standby to read."),
							   gettext_noop("Must be an absolute path.  Archiving waits while it is empty."),
							   &archive_directory,
							   "",
							   PGC_SIGHUP,
							   0,
							   check_archive_directory, NULL, NULL);

	DefineCustomStringVariable("pg_standby_archive.compression",
							   gettext_noop("Compression of archived WAL segments: none, gzip, lz4 or zstd, optionally followed by :LEVEL or :level=LEVEL."),
							   gettext_noop("Timeline and backup history files are never compressed."),
							   &archive_compression,
							   "none",
							   PGC_SIGHUP,
							   0,
							   check_archive_compression, NULL, NULL);

	DefineCustomStringVariable("pg_standby_archive.file_mode",
							   gettext_noop("Permissions of the files written to the archive, in octal."),
							   gettext_noop("0640 lets the group of the server's operating system user read them."),
							   &archive_file_mode,
							   "0600",
							   PGC_SIGHUP,
							   0,
							   check_archive_file_mode, NULL, NULL);

	MarkGUCPrefixReserved("pg_standby_archive");
}
