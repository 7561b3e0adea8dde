/*-------------------------------------------------------------------------
 *
 * pg_standby_archive.c
 *	  Archive module: the primary's half of a pg_standby warm standby.
 *
 * With archive_library = 'pg_standby_archive', the archiver hands each
 * completed WAL file to this module, which stores it in the directory
 * named by pg_standby_archive.directory, where pg_standby on the standby
 * waits for it.  A file appears there only complete and durable: it is
 * written under a temporary name, fsynced, renamed to its final name, and
 * the directory is fsynced.  WAL segments (and .partial segments) may be
 * compressed with gzip, lz4 or zstd (pg_standby_archive.compression); they
 * are then stored as NAME.gz, NAME.lz4 or NAME.zst (NAME.gz.partial, ...,
 * as pg_receivewal names them, and pg_standby looks for them).  Timeline
 * and backup history files are always stored as they are.
 *
 * The archiver retries a file whose archiving failed, also after a crash
 * that happened after the file was stored but before the server learned
 * it.  So a file that is already in the archive, in any of its forms, with
 * the same contents (compared after decompression) counts as archived; one
 * with different contents is an error, and is never overwritten.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef PG_STANDBY_GZIP
#include <zlib.h>
#endif
#ifdef PG_STANDBY_LZ4
#include <lz4frame.h>
#endif
#ifdef PG_STANDBY_ZSTD
#include <zstd.h>
#endif

#include "access/xlog_internal.h"
#include "common/file_perm.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* PostgreSQL 18 replaced pg_attribute_noreturn() with pg_noreturn. */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

#ifdef PG_MODULE_MAGIC_EXT
PG_MODULE_MAGIC_EXT(.name = "pg_standby_archive",.version = PG_VERSION);
#else
PG_MODULE_MAGIC;
#endif

/* Bytes read, compressed or compared at a time. */
#define CHUNK_SIZE		(128 * 1024)

/*
 * Room left in MAXPGPATH for what follows the directory: a slash, the file
 * name (shorter than MAXFNAMELEN), a compression suffix and a temporary
 * suffix ".PID.TIMESTAMP.tmp".
 */
#define MAX_DIRECTORY_LEN	(MAXPGPATH - 128)

/* How much of a file is written before its writeback is started. */
#define WRITEBACK_INTERVAL	(1024 * 1024)

typedef enum ArchiveCompression
{
	COMPRESSION_NONE,
	COMPRESSION_GZIP,
	COMPRESSION_LZ4,
	COMPRESSION_ZSTD
} ArchiveCompression;

#define NUM_COMPRESSIONS	(COMPRESSION_ZSTD + 1)

/* What each compression is called, how its files end, whether we have it. */
typedef struct CompressionInfo
{
	const char *name;			/* value of pg_standby_archive.compression */
	const char *suffix;			/* appended to the WAL file name */
	const char *library;		/* what a build needs to support it */
	bool		supported;		/* compiled in */
} CompressionInfo;

static const CompressionInfo compressions[NUM_COMPRESSIONS] = {
	[COMPRESSION_NONE] = {"none", "", NULL, true},
#ifdef PG_STANDBY_GZIP
	[COMPRESSION_GZIP] = {"gzip", ".gz", "zlib", true},
#else
	[COMPRESSION_GZIP] = {"gzip", ".gz", "zlib", false},
#endif
#ifdef PG_STANDBY_LZ4
	[COMPRESSION_LZ4] = {"lz4", ".lz4", "liblz4", true},
#else
	[COMPRESSION_LZ4] = {"lz4", ".lz4", "liblz4", false},
#endif
#ifdef PG_STANDBY_ZSTD
	[COMPRESSION_ZSTD] = {"zstd", ".zst", "libzstd", true},
#else
	[COMPRESSION_ZSTD] = {"zstd", ".zst", "libzstd", false},
#endif
};

static const struct config_enum_entry compression_options[] = {
	{"none", COMPRESSION_NONE, false},
	{"gzip", COMPRESSION_GZIP, false},
	{"lz4", COMPRESSION_LZ4, false},
	{"zstd", COMPRESSION_ZSTD, false},
	{NULL, 0, false}
};

/*
 * A file being read: the WAL file, or an archived file, decompressed on the
 * fly when it is compressed.
 */
typedef struct ArchiveReader
{
	const char *path;
	ArchiveCompression compression;
	int			fd;				/* -1 when closed */
	char	   *in;				/* compressed input, CHUNK_SIZE bytes */
	size_t		in_len;			/* bytes in "in" */
	size_t		in_pos;			/* bytes of "in" consumed */
	bool		in_eof;			/* the file has no more bytes */
	bool		frame_done;		/* the last compressed frame is complete */
#ifdef PG_STANDBY_GZIP
	z_stream	zs;
	bool		zs_active;
#endif
#ifdef PG_STANDBY_LZ4
	LZ4F_dctx  *lz4;
#endif
#ifdef PG_STANDBY_ZSTD
	ZSTD_DCtx  *zstd;
#endif
} ArchiveReader;

/* A file being written, compressed on the fly when asked to. */
typedef struct ArchiveWriter
{
	const char *path;
	ArchiveCompression compression;
	int			fd;				/* -1 when closed */
	bool		created;		/* path exists, and is ours to remove */
	off_t		written;		/* bytes written to fd so far */
	off_t		flushed;		/* bytes whose writeback was started */
	char	   *out;			/* compressed output */
	size_t		out_size;
#ifdef PG_STANDBY_GZIP
	z_stream	zs;
	bool		zs_active;
#endif
#ifdef PG_STANDBY_LZ4
	LZ4F_cctx  *lz4;
#endif
#ifdef PG_STANDBY_ZSTD
	ZSTD_CCtx  *zstd;
#endif
} ArchiveWriter;

/*
 * Everything archiving one file may hold that an error must release: open
 * files, compression libraries' state (allocated outside palloc) and the
 * temporary file, which must not outlive a failure.
 */
typedef struct ArchiveJob
{
	ArchiveReader wal;			/* the WAL file in pg_wal */
	ArchiveReader archived;		/* a file already in the archive */
	ArchiveWriter temp;			/* the temporary file being written */
	char		temp_path[MAXPGPATH];
} ArchiveJob;

static ArchiveJob job = {.wal.fd = -1,.archived.fd = -1,.temp.fd = -1};

/* GUC variables */
static char *archive_directory = NULL;
static int	archive_compression = COMPRESSION_NONE;

/* Reset after each file, so that nothing leaks across files. */
static MemoryContext archive_context = NULL;

/* Has this archiver looked for temporary files a crashed one left? */
static bool stale_temp_files_removed = false;

static bool check_archive_directory(char **newval, void **extra,
									GucSource source);
static bool check_archive_compression(int *newval, void **extra,
									  GucSource source);
static const char *unconfigured_reason(void);
static void archive_file_path(char *path, const char *file,
							  ArchiveCompression compression);
static bool archive_file(const char *file, const char *path);
static void archive_file_internal(const char *file, const char *path);
static bool archived_already(const char *file, const char *path,
							 bool compressible);
static bool same_contents(const char *archived_path,
						  ArchiveCompression compression,
						  const char *wal_path);
static void write_temp_file(const char *path, const char *temp_path,
							ArchiveCompression compression);
static void remove_stale_temp_files(void);
static bool is_temp_file_name(const char *name);
static void fsync_path(const char *path, bool isdir);
static void archive_error_context(void *arg);
static void release_job(void);

static void reader_open(ArchiveReader *r, const char *path,
						ArchiveCompression compression);
static size_t reader_read(ArchiveReader *r, char *buf, size_t len);
static size_t reader_read_full(ArchiveReader *r, char *buf, size_t len);
static void reader_close(ArchiveReader *r);
static void reader_release(ArchiveReader *r);
static void writer_open(ArchiveWriter *w, const char *path,
						ArchiveCompression compression, off_t size);
static void writer_write(ArchiveWriter *w, const char *data, size_t len);
static void writer_finish(ArchiveWriter *w);
static void writer_release(ArchiveWriter *w);
static void write_all(ArchiveWriter *w, const char *data, size_t len);
pg_noreturn static void compression_error(const char *path, const char *action,
										  const char *reason);

/*
 * The archiver is the only process that loads this module.  A value it
 * refuses when the configuration is reloaded is reported at DEBUG2 only
 * (the postmaster reports reload errors, and it has not loaded us), and the
 * old value stays in force: say so where the administrator looks.
 */
static void
report_refused_reload(const char *name, const char *value, GucSource source)
{
	if (source == PGC_S_FILE && MyBackendType == B_ARCHIVER)
		ereport(WARNING,
				(errmsg("pg_standby_archive refuses %s = \"%s\"; the previous value stays in force",
						name, value)));
}

/*
 * GUC check hook for pg_standby_archive.directory.  Empty means unset, and
 * the archiver waits (see unconfigured_reason()).  A relative path would be
 * taken from the data directory, where an archive has no place.
 */
static bool
check_archive_directory(char **newval, void **extra, GucSource source)
{
	const char *dir = *newval;

	if (dir == NULL || dir[0] == '\0')
		return true;

	if (!is_absolute_path(dir))
	{
		GUC_check_errdetail("The archive directory must be an absolute path.");
		report_refused_reload("pg_standby_archive.directory", dir, source);
		return false;
	}

	if (strlen(dir) > MAX_DIRECTORY_LEN)
	{
		GUC_check_errdetail("The archive directory path is longer than %d bytes.",
							MAX_DIRECTORY_LEN);
		report_refused_reload("pg_standby_archive.directory", dir, source);
		return false;
	}

	return true;
}

/*
 * GUC check hook for pg_standby_archive.compression: every value is known,
 * but only the compressions this build has a library for can be chosen.
 */
static bool
check_archive_compression(int *newval, void **extra, GucSource source)
{
	const CompressionInfo *info = &compressions[*newval];

	if (info->supported)
		return true;

	GUC_check_errmsg("compression \"%s\" is not supported by this build of pg_standby_archive",
					 info->name);
	GUC_check_errdetail("pg_standby_archive was built without %s.",
						info->library);
	GUC_check_errhint("Rebuild it with the development files of %s installed, or choose another compression.",
					  info->library);
	report_refused_reload("pg_standby_archive.compression", info->name, source);
	return false;
}

/*
 * Why the module cannot archive yet, or NULL if it can.  Returning false
 * from the check callback keeps the archiver waiting, with every WAL file
 * kept in pg_wal, until the configuration is complete.
 */
static const char *
unconfigured_reason(void)
{
	if (archive_directory == NULL || archive_directory[0] == '\0')
		return _("\"pg_standby_archive.directory\" is not set (or its value was refused)");

	return NULL;
}

/*
 * Where the archive keeps "file" compressed as given: the compression's
 * suffix goes before a .partial suffix.
 */
static void
archive_file_path(char *path, const char *file, ArchiveCompression compression)
{
	const char *suffix = compressions[compression].suffix;

	if (IsPartialXLogFileName(file))
		snprintf(path, MAXPGPATH, "%s/%.*s%s.partial",
				 archive_directory, XLOG_FNAME_LEN, file, suffix);
	else
		snprintf(path, MAXPGPATH, "%s/%s%s", archive_directory, file, suffix);
}

/*
 * Archive one WAL file; true when it is in the archive.
 *
 * Errors are raised with ereport(ERROR) where they are found, and caught
 * here: before PostgreSQL 17 an ERROR escaping an archive callback would
 * become FATAL and restart the archiver.  Caught, it is reported, whatever
 * the file had open or half-written is released, and false makes the
 * archiver retry the file later.
 */
static bool
archive_file(const char *file, const char *path)
{
	ErrorContextCallback errcallback;
	MemoryContext oldcontext;
	volatile bool archived = false;

	errcallback.callback = archive_error_context;
	errcallback.arg = unconstify(char *, file);
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	if (archive_context == NULL)
		archive_context = AllocSetContextCreate(TopMemoryContext,
												"pg_standby_archive",
												ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(archive_context);

	PG_TRY();
	{
		archive_file_internal(file, path);
		archived = true;
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(archive_context);
		EmitErrorReport();
		FlushErrorState();
		release_job();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();

	release_job();
	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(archive_context);
	error_context_stack = errcallback.previous;

	return archived;
}

static void
archive_file_internal(const char *file, const char *path)
{
	ArchiveCompression compression;
	bool		compressible;
	struct stat st;
	char		final_path[MAXPGPATH];

	/* The archiver only passes plain names; anything else is a bug. */
	if (file[0] == '\0' || strchr(file, '/') != NULL ||
		strcmp(file, ".") == 0 || strcmp(file, "..") == 0 ||
		strlen(file) >= MAXFNAMELEN)
		elog(ERROR, "invalid WAL file name \"%s\"", file);

	/* Tell a missing archive directory from the failures that follow it. */
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

	if (!stale_temp_files_removed)
		remove_stale_temp_files();

	/*
	 * Segments are what pg_standby can read compressed; the history files
	 * stay as they are, for it and for anyone else who reads them.
	 */
	compressible = IsXLogFileName(file) || IsPartialXLogFileName(file);
	compression = compressible ? (ArchiveCompression) archive_compression :
		COMPRESSION_NONE;

	if (archived_already(file, path, compressible))
		return;

	archive_file_path(final_path, file, compression);

	/*
	 * A name of our own: another writer's temporary file (a second server
	 * archiving here by mistake) is never ours to truncate, and a file left
	 * by a crash is never reused.
	 */
	snprintf(job.temp_path, sizeof(job.temp_path), "%s.%d." INT64_FORMAT ".tmp",
			 final_path, MyProcPid, (int64) GetCurrentTimestamp());

	write_temp_file(path, job.temp_path, compression);

	/*
	 * The final name was free a moment ago; it may not be now, and rename()
	 * would replace it.  The next attempt compares it.
	 */
	if (lstat(final_path, &st) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("archive file \"%s\" appeared while it was being written",
						final_path),
				 errhint("Is another server archiving into the same directory?")));
	else if (errno != ENOENT)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", final_path)));

	if (rename(job.temp_path, final_path) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not rename file \"%s\" to \"%s\": %m",
						job.temp_path, final_path)));
	job.temp.created = false;

	/* The file's data was fsynced before; now its name. */
	fsync_path(archive_directory, true);

	ereport(DEBUG1,
			(errmsg_internal("archived \"%s\" as \"%s\"", file, final_path)));
}

/*
 * Is the WAL file already in the archive, under its name or (for segments)
 * compressed under any of its compressed names?  Every form present must
 * hold the WAL file's contents: pg_standby may read any of them.  One that
 * does not is an error, and stays as it is.
 */
static bool
archived_already(const char *file, const char *path, bool compressible)
{
	char		found[MAXPGPATH] = "";

	for (int c = 0; c < (compressible ? NUM_COMPRESSIONS : 1); c++)
	{
		const CompressionInfo *info = &compressions[c];
		char		archived_path[MAXPGPATH];
		struct stat st;

		archive_file_path(archived_path, file, (ArchiveCompression) c);

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

		if (!info->supported)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot compare archive file \"%s\" with \"%s\"",
							archived_path, path),
					 errdetail("pg_standby_archive was built without %s.",
							   info->library)));

		if (!same_contents(archived_path, (ArchiveCompression) c, path))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_FILE),
					 errmsg("archive file \"%s\" already exists with different contents",
							archived_path),
					 errdetail("The archive file was left as it is; \"%s\" is not archived.",
							   path),
					 errhint("Is another server archiving into the same directory?")));

		strlcpy(found, archived_path, sizeof(found));
	}

	if (found[0] == '\0')
		return false;

	/*
	 * An earlier attempt may have stored the file and failed before its name
	 * was durable; make sure it is now.
	 */
	fsync_path(found, false);
	fsync_path(archive_directory, true);

	ereport(DEBUG1,
			(errmsg_internal("\"%s\" is already archived as \"%s\" with the same contents",
							 file, found)));
	return true;
}

/* Does archived_path, decompressed, hold exactly what wal_path holds? */
static bool
same_contents(const char *archived_path, ArchiveCompression compression,
			  const char *wal_path)
{
	char	   *wal_buf = palloc(CHUNK_SIZE);
	char	   *archived_buf = palloc(CHUNK_SIZE);
	bool		same = true;

	reader_open(&job.wal, wal_path, COMPRESSION_NONE);
	reader_open(&job.archived, archived_path, compression);

	if (compression == COMPRESSION_NONE)
	{
		struct stat wal_st;
		struct stat archived_st;

		if (fstat(job.wal.fd, &wal_st) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", wal_path)));
		if (fstat(job.archived.fd, &archived_st) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", archived_path)));
		same = wal_st.st_size == archived_st.st_size;
	}

	while (same)
	{
		size_t		wal_len = reader_read_full(&job.wal, wal_buf, CHUNK_SIZE);
		size_t		archived_len = reader_read_full(&job.archived, archived_buf,
													CHUNK_SIZE);

		if (wal_len != archived_len ||
			memcmp(wal_buf, archived_buf, wal_len) != 0)
			same = false;
		else if (wal_len == 0)
			break;
	}

	reader_close(&job.wal);
	reader_close(&job.archived);
	pfree(wal_buf);
	pfree(archived_buf);

	return same;
}

/*
 * Copy the WAL file at path to temp_path, compressed as asked, and fsync
 * it.  If this fails, release_job() removes temp_path.
 */
static void
write_temp_file(const char *path, const char *temp_path,
				ArchiveCompression compression)
{
	char	   *buf = palloc(CHUNK_SIZE);
	struct stat st;
	size_t		len;

	reader_open(&job.wal, path, COMPRESSION_NONE);
	if (fstat(job.wal.fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));

	writer_open(&job.temp, temp_path, compression, st.st_size);

	while ((len = reader_read_full(&job.wal, buf, CHUNK_SIZE)) > 0)
		writer_write(&job.temp, buf, len);

	writer_finish(&job.temp);
	reader_close(&job.wal);
	pfree(buf);
}

/*
 * Remove the temporary files that an archiver killed in the middle of a
 * file left behind.  Only the process that creates a temporary file ever
 * renames it, and a new archiver process starts only after the previous
 * one has exited, so at our first file every temporary file in the archive
 * is stale (unless another server archives into the same directory, which
 * is a mistake: its retry would find its file gone and start again).
 * Housekeeping only: a failure here is logged, and does not stop archiving.
 */
static void
remove_stale_temp_files(void)
{
	DIR		   *dir;
	struct dirent *de;

	dir = AllocateDir(archive_directory);
	if (dir == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not open archive directory \"%s\": %m",
						archive_directory)));
		return;
	}

	while ((de = ReadDirExtended(dir, archive_directory, LOG)) != NULL)
	{
		char		path[MAXPGPATH];

		if (!is_temp_file_name(de->d_name))
			continue;

		snprintf(path, sizeof(path), "%s/%s", archive_directory, de->d_name);
		if (unlink(path) != 0)
		{
			if (errno != ENOENT)
				ereport(LOG,
						(errcode_for_file_access(),
						 errmsg("could not remove file \"%s\": %m", path)));
		}
		else
			ereport(LOG,
					(errmsg("removed temporary file \"%s\" left by an earlier archiver",
							path)));
	}
	FreeDir(dir);

	stale_temp_files_removed = true;
}

/*
 * Is this a name archive_file_internal() gives temporary files: an archive
 * file name (eight hexadecimal digits first), ".PID.TIMESTAMP.tmp"?
 */
static bool
is_temp_file_name(const char *name)
{
	size_t		len = strlen(name);
	int			numbers = 0;

	if (len <= 4 || strcmp(name + len - 4, ".tmp") != 0)
		return false;
	len -= 4;

	/* two dot-separated numbers before ".tmp" */
	while (numbers < 2)
	{
		size_t		digits = 0;

		while (len > 0 && isdigit((unsigned char) name[len - 1]))
		{
			len--;
			digits++;
		}
		if (digits == 0 || len == 0 || name[len - 1] != '.')
			return false;
		len--;
		numbers++;
	}

	return len >= 8 && strspn(name, "0123456789ABCDEF") >= 8;
}

/*
 * fsync a file or directory.  fsync_fname() would PANIC on failure unless
 * data_sync_retry is on; a failure here concerns the archive, not the data
 * directory, so it is an ERROR and the archiver retries.
 */
static void
fsync_path(const char *path, bool isdir)
{
	int			fd;

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));

	/* Some systems cannot fsync a directory, or a file opened read-only. */
	if (pg_fsync(fd) != 0 && errno != EBADF && errno != EINVAL)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", path)));
	}

	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", path)));
}

static void
archive_error_context(void *arg)
{
	errcontext("archiving write-ahead log file \"%s\"", (const char *) arg);
}

/*
 * Release what the current file holds; after success there is nothing left
 * but a no-op.  Never raises an error: it runs while one is handled.
 */
static void
release_job(void)
{
	reader_release(&job.wal);
	reader_release(&job.archived);
	writer_release(&job.temp);

	if (job.temp.created)
	{
		if (unlink(job.temp.path) != 0 && errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", job.temp.path)));
		job.temp.created = false;
	}
}

/*
 * Reading: the WAL file as it is, or an archived file through the
 * decompressor its name says it needs.  Concatenated gzip members, lz4 and
 * zstd frames read as one stream, as gzip -dc, lz4 -dc and zstd -dc read
 * them.
 */
static void
reader_open(ArchiveReader *r, const char *path, ArchiveCompression compression)
{
	Assert(compressions[compression].supported);

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->path = path;
	r->compression = compression;

	if (compression != COMPRESSION_NONE)
		r->in = palloc(CHUNK_SIZE);

	switch (compression)
	{
		case COMPRESSION_NONE:
			break;
		case COMPRESSION_GZIP:
#ifdef PG_STANDBY_GZIP
			/* 15 + 16: a 32 kB window, gzip format only */
			if (inflateInit2(&r->zs, 15 + 16) != Z_OK)
				compression_error(path, "decompress",
								  r->zs.msg ? r->zs.msg : "out of memory");
			r->zs_active = true;
#endif
			break;
		case COMPRESSION_LZ4:
#ifdef PG_STANDBY_LZ4
			{
				LZ4F_errorCode_t status;

				status = LZ4F_createDecompressionContext(&r->lz4, LZ4F_VERSION);
				if (LZ4F_isError(status))
					compression_error(path, "decompress",
									  LZ4F_getErrorName(status));
			}
#endif
			break;
		case COMPRESSION_ZSTD:
#ifdef PG_STANDBY_ZSTD
			r->zstd = ZSTD_createDCtx();
			if (r->zstd == NULL)
				compression_error(path, "decompress", "out of memory");
#endif
			break;
	}

	r->fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (r->fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
}

/* Read up to len bytes from the file itself. */
static size_t
read_raw(ArchiveReader *r, char *buf, size_t len)
{
	ssize_t		nread;

	do
	{
		nread = read(r->fd, buf, len);
	} while (nread < 0 && errno == EINTR);

	if (nread < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", r->path)));
	return (size_t) nread;
}

/*
 * Up to len decompressed bytes, at least one unless the stream has ended.
 * A stream that stops in the middle of a frame, or holds anything that
 * does not decompress, is an error.
 */
static size_t
reader_read(ArchiveReader *r, char *buf, size_t len)
{
	if (r->compression == COMPRESSION_NONE)
		return read_raw(r, buf, len);

	for (;;)
	{
		size_t		produced = 0;
		size_t		consumed = 0;

		if (r->in_pos == r->in_len && !r->in_eof)
		{
			r->in_len = read_raw(r, r->in, CHUNK_SIZE);
			r->in_pos = 0;
			r->in_eof = r->in_len == 0;
		}

		/* Nothing more to read, and no frame left open: the end. */
		if (r->in_pos == r->in_len && r->frame_done)
			return 0;

		switch (r->compression)
		{
			case COMPRESSION_NONE:
				break;
			case COMPRESSION_GZIP:
#ifdef PG_STANDBY_GZIP
				{
					int			status;

					/* another member follows the one that ended */
					if (r->frame_done && inflateReset(&r->zs) != Z_OK)
						compression_error(r->path, "decompress", r->zs.msg);
					r->zs.next_in = (Bytef *) r->in + r->in_pos;
					r->zs.avail_in = r->in_len - r->in_pos;
					r->zs.next_out = (Bytef *) buf;
					r->zs.avail_out = len;
					status = inflate(&r->zs, Z_NO_FLUSH);
					if (status != Z_OK && status != Z_STREAM_END &&
						status != Z_BUF_ERROR)
						compression_error(r->path, "decompress",
										  r->zs.msg ? r->zs.msg : "invalid data");
					consumed = (r->in_len - r->in_pos) - r->zs.avail_in;
					produced = len - r->zs.avail_out;
					r->frame_done = status == Z_STREAM_END;
				}
#endif
				break;
			case COMPRESSION_LZ4:
#ifdef PG_STANDBY_LZ4
				{
					size_t		hint;

					consumed = r->in_len - r->in_pos;
					produced = len;
					hint = LZ4F_decompress(r->lz4, buf, &produced,
										   r->in + r->in_pos, &consumed, NULL);
					if (LZ4F_isError(hint))
						compression_error(r->path, "decompress",
										  LZ4F_getErrorName(hint));
					r->frame_done = hint == 0;
				}
#endif
				break;
			case COMPRESSION_ZSTD:
#ifdef PG_STANDBY_ZSTD
				{
					ZSTD_inBuffer in = {r->in, r->in_len, r->in_pos};
					ZSTD_outBuffer out = {buf, len, 0};
					size_t		hint;

					hint = ZSTD_decompressStream(r->zstd, &out, &in);
					if (ZSTD_isError(hint))
						compression_error(r->path, "decompress",
										  ZSTD_getErrorName(hint));
					consumed = in.pos - r->in_pos;
					produced = out.pos;
					r->frame_done = hint == 0;
				}
#endif
				break;
		}

		r->in_pos += consumed;
		if (produced > 0)
			return produced;

		if (r->in_pos == r->in_len && r->in_eof)
		{
			if (r->frame_done)
				return 0;
			compression_error(r->path, "decompress", "unexpected end of file");
		}
		if (consumed == 0 && r->in_pos < r->in_len)
			compression_error(r->path, "decompress", "no progress");
	}
}

/* Exactly len decompressed bytes, fewer only at the end of the stream. */
static size_t
reader_read_full(ArchiveReader *r, char *buf, size_t len)
{
	size_t		total = 0;

	while (total < len)
	{
		size_t		n = reader_read(r, buf + total, len - total);

		if (n == 0)
			break;
		total += n;
	}
	return total;
}

static void
reader_close(ArchiveReader *r)
{
	int			fd = r->fd;

	r->fd = -1;
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", r->path)));
	reader_release(r);
}

/* Free the decompressor and close the file, if still open; no errors. */
static void
reader_release(ArchiveReader *r)
{
	if (r->fd >= 0)
	{
		CloseTransientFile(r->fd);
		r->fd = -1;
	}
#ifdef PG_STANDBY_GZIP
	if (r->zs_active)
	{
		inflateEnd(&r->zs);
		r->zs_active = false;
	}
#endif
#ifdef PG_STANDBY_LZ4
	if (r->lz4 != NULL)
	{
		LZ4F_freeDecompressionContext(r->lz4);
		r->lz4 = NULL;
	}
#endif
#ifdef PG_STANDBY_ZSTD
	if (r->zstd != NULL)
	{
		ZSTD_freeDCtx(r->zstd);
		r->zstd = NULL;
	}
#endif
}

/*
 * Writing: create path (which must not exist), compressing what is written
 * to it as asked; "size" is the number of bytes that will be written, which
 * lz4 and zstd record in their frame headers.  Once the file is created,
 * w->created says so until the caller renames it, and release_job()
 * removes it.
 */
static void
writer_open(ArchiveWriter *w, const char *path, ArchiveCompression compression,
			off_t size)
{
	Assert(compressions[compression].supported);

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->path = path;
	w->compression = compression;

	w->fd = OpenTransientFilePerm(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY,
								  pg_file_create_mode);
	if (w->fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	w->created = true;

	switch (compression)
	{
		case COMPRESSION_NONE:
			break;
		case COMPRESSION_GZIP:
#ifdef PG_STANDBY_GZIP
			/* 15 + 16: a 32 kB window, gzip format */
			if (deflateInit2(&w->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16,
							 8, Z_DEFAULT_STRATEGY) != Z_OK)
				compression_error(path, "compress",
								  w->zs.msg ? w->zs.msg : "out of memory");
			w->zs_active = true;
			w->out_size = CHUNK_SIZE;
			w->out = palloc(w->out_size);
#endif
			break;
		case COMPRESSION_LZ4:
#ifdef PG_STANDBY_LZ4
			{
				LZ4F_preferences_t prefs;
				size_t		status;

				/* a checksum of the contents, and their size, in the frame */
				memset(&prefs, 0, sizeof(prefs));
				prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
				prefs.frameInfo.contentSize = (unsigned long long) size;

				status = LZ4F_createCompressionContext(&w->lz4, LZ4F_VERSION);
				if (LZ4F_isError(status))
					compression_error(path, "compress",
									  LZ4F_getErrorName(status));

				/* room for the header, for one chunk, or for the frame's end */
				w->out_size = Max(LZ4F_HEADER_SIZE_MAX,
								  LZ4F_compressBound(CHUNK_SIZE, &prefs));
				w->out = palloc(w->out_size);

				status = LZ4F_compressBegin(w->lz4, w->out, w->out_size, &prefs);
				if (LZ4F_isError(status))
					compression_error(path, "compress",
									  LZ4F_getErrorName(status));
				write_all(w, w->out, status);
			}
#endif
			break;
		case COMPRESSION_ZSTD:
#ifdef PG_STANDBY_ZSTD
			{
				size_t		status;

				w->zstd = ZSTD_createCCtx();
				if (w->zstd == NULL)
					compression_error(path, "compress", "out of memory");

				/* a checksum of the contents, and their size, in the frame */
				status = ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_compressionLevel,
												ZSTD_CLEVEL_DEFAULT);
				if (!ZSTD_isError(status))
					status = ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_checksumFlag, 1);
				if (!ZSTD_isError(status))
					status = ZSTD_CCtx_setPledgedSrcSize(w->zstd,
														 (unsigned long long) size);
				if (ZSTD_isError(status))
					compression_error(path, "compress", ZSTD_getErrorName(status));

				w->out_size = ZSTD_CStreamOutSize();
				w->out = palloc(w->out_size);
			}
#endif
			break;
	}
}

/* Append len bytes (at most CHUNK_SIZE) to the file, compressed as asked. */
static void
writer_write(ArchiveWriter *w, const char *data, size_t len)
{
	Assert(len <= CHUNK_SIZE);

	switch (w->compression)
	{
		case COMPRESSION_NONE:
			write_all(w, data, len);
			break;
		case COMPRESSION_GZIP:
#ifdef PG_STANDBY_GZIP
			w->zs.next_in = (Bytef *) unconstify(char *, data);
			w->zs.avail_in = len;
			while (w->zs.avail_in > 0)
			{
				w->zs.next_out = (Bytef *) w->out;
				w->zs.avail_out = w->out_size;
				if (deflate(&w->zs, Z_NO_FLUSH) == Z_STREAM_ERROR)
					compression_error(w->path, "compress", w->zs.msg);
				write_all(w, w->out, w->out_size - w->zs.avail_out);
			}
#endif
			break;
		case COMPRESSION_LZ4:
#ifdef PG_STANDBY_LZ4
			{
				size_t		status;

				status = LZ4F_compressUpdate(w->lz4, w->out, w->out_size,
											 data, len, NULL);
				if (LZ4F_isError(status))
					compression_error(w->path, "compress",
									  LZ4F_getErrorName(status));
				write_all(w, w->out, status);
			}
#endif
			break;
		case COMPRESSION_ZSTD:
#ifdef PG_STANDBY_ZSTD
			{
				ZSTD_inBuffer in = {data, len, 0};

				while (in.pos < in.size)
				{
					ZSTD_outBuffer out = {w->out, w->out_size, 0};
					size_t		status;

					status = ZSTD_compressStream2(w->zstd, &out, &in,
												  ZSTD_e_continue);
					if (ZSTD_isError(status))
						compression_error(w->path, "compress",
										  ZSTD_getErrorName(status));
					write_all(w, w->out, out.pos);
				}
			}
#endif
			break;
	}
}

/* End the compressed stream, fsync and close the file. */
static void
writer_finish(ArchiveWriter *w)
{
	int			fd;

	switch (w->compression)
	{
		case COMPRESSION_NONE:
			break;
		case COMPRESSION_GZIP:
#ifdef PG_STANDBY_GZIP
			{
				int			status;

				w->zs.next_in = NULL;
				w->zs.avail_in = 0;
				do
				{
					w->zs.next_out = (Bytef *) w->out;
					w->zs.avail_out = w->out_size;
					status = deflate(&w->zs, Z_FINISH);
					if (status != Z_OK && status != Z_STREAM_END)
						compression_error(w->path, "compress",
										  w->zs.msg ? w->zs.msg : "deflate failed");
					write_all(w, w->out, w->out_size - w->zs.avail_out);
				} while (status != Z_STREAM_END);
			}
#endif
			break;
		case COMPRESSION_LZ4:
#ifdef PG_STANDBY_LZ4
			{
				size_t		status;

				status = LZ4F_compressEnd(w->lz4, w->out, w->out_size, NULL);
				if (LZ4F_isError(status))
					compression_error(w->path, "compress",
									  LZ4F_getErrorName(status));
				write_all(w, w->out, status);
			}
#endif
			break;
		case COMPRESSION_ZSTD:
#ifdef PG_STANDBY_ZSTD
			{
				ZSTD_inBuffer in = {NULL, 0, 0};
				size_t		remaining;

				do
				{
					ZSTD_outBuffer out = {w->out, w->out_size, 0};

					remaining = ZSTD_compressStream2(w->zstd, &out, &in,
													 ZSTD_e_end);
					if (ZSTD_isError(remaining))
						compression_error(w->path, "compress",
										  ZSTD_getErrorName(remaining));
					write_all(w, w->out, out.pos);
				} while (remaining != 0);
			}
#endif
			break;
	}

	if (pg_fsync(w->fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", w->path)));

	fd = w->fd;
	w->fd = -1;
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", w->path)));

	writer_release(w);
}

/* Free the compressor and close the file, if still open; no errors. */
static void
writer_release(ArchiveWriter *w)
{
	if (w->fd >= 0)
	{
		CloseTransientFile(w->fd);
		w->fd = -1;
	}
#ifdef PG_STANDBY_GZIP
	if (w->zs_active)
	{
		deflateEnd(&w->zs);
		w->zs_active = false;
	}
#endif
#ifdef PG_STANDBY_LZ4
	if (w->lz4 != NULL)
	{
		LZ4F_freeCompressionContext(w->lz4);
		w->lz4 = NULL;
	}
#endif
#ifdef PG_STANDBY_ZSTD
	if (w->zstd != NULL)
	{
		ZSTD_freeCCtx(w->zstd);
		w->zstd = NULL;
	}
#endif
}

static void
write_all(ArchiveWriter *w, const char *data, size_t len)
{
	while (len > 0)
	{
		ssize_t		written = write(w->fd, data, len);

		if (written < 0 && errno == EINTR)
			continue;
		if (written <= 0)
		{
			/* a write that does nothing and sets no errno: out of space */
			if (written == 0 || errno == 0)
				errno = ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write to file \"%s\": %m", w->path)));
		}
		data += written;
		len -= written;
		w->written += written;
	}

	/*
	 * Start writeback every megabyte, as PostgreSQL's own file copies do: the
	 * final fsync then has little left to wait for, and the disk works while
	 * we read and compress the next part.
	 */
	if (w->written - w->flushed >= WRITEBACK_INTERVAL)
	{
		pg_flush_data(w->fd, w->flushed, w->written - w->flushed);
		w->flushed = w->written;
	}
}

static void
compression_error(const char *path, const char *action, const char *reason)
{
	if (strcmp(action, "compress") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compress data into file \"%s\": %s",
						path, reason ? reason : "unknown error")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("could not decompress file \"%s\": %s",
					path, reason ? reason : "unknown error")));
}

/*
 * The archive module API.  PostgreSQL 16 moved it to archive_module.h,
 * passes a state to every callback and has _PG_archive_module_init()
 * return the callbacks; PostgreSQL 17 lets the check callback explain
 * itself in the archiver's own warning.  Only this section knows.
 */
#if PG_VERSION_NUM >= 160000

#include "archive/archive_module.h"

static bool
check_configured_cb(ArchiveModuleState *state)
{
	const char *reason = unconfigured_reason();

	if (reason == NULL)
		return true;
#ifdef arch_module_check_errdetail
	arch_module_check_errdetail("pg_standby_archive cannot archive: %s.", reason);
#else
	ereport(WARNING,
			(errmsg("pg_standby_archive cannot archive: %s", reason)));
#endif
	return false;
}

static bool
archive_file_cb(ArchiveModuleState *state, const char *file, const char *path)
{
	return archive_file(file, path);
}

static const ArchiveModuleCallbacks callbacks = {
	.startup_cb = NULL,
	.check_configured_cb = check_configured_cb,
	.archive_file_cb = archive_file_cb,
	.shutdown_cb = NULL
};

const ArchiveModuleCallbacks *
_PG_archive_module_init(void)
{
	return &callbacks;
}

#else							/* PostgreSQL 15 */

#include "postmaster/pgarch.h"

extern PGDLLEXPORT void _PG_archive_module_init(ArchiveModuleCallbacks *cb);

static bool
check_configured_cb(void)
{
	const char *reason = unconfigured_reason();

	if (reason == NULL)
		return true;
	ereport(WARNING,
			(errmsg("pg_standby_archive cannot archive: %s", reason)));
	return false;
}

void
_PG_archive_module_init(ArchiveModuleCallbacks *cb)
{
	cb->check_configured_cb = check_configured_cb;
	cb->archive_file_cb = archive_file;
	cb->shutdown_cb = NULL;
}

#endif							/* PG_VERSION_NUM >= 160000 */

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

	DefineCustomEnumVariable("pg_standby_archive.compression",
							 gettext_noop("Compression of archived WAL segments."),
							 gettext_noop("Timeline and backup history files are never compressed."),
							 &archive_compression,
							 COMPRESSION_NONE,
							 compression_options,
							 PGC_SIGHUP,
							 0,
							 check_archive_compression, NULL, NULL);

	MarkGUCPrefixReserved("pg_standby_archive");
}
