/*-------------------------------------------------------------------------
 *
 * restore.c
 *	  Copy a file from the archive to the place the server asked for.
 *
 * The copy goes to a temporary file beside the restore path and is renamed
 * over it only after every byte of it has been written and checked, so the
 * server never sees a half-written or unchecked file.  Nothing here runs a
 * shell or another process, and the archive is only ever read.
 *
 * This file owns that temporary file for its whole life, including its
 * removal when the server's shutdown ends us mid-copy: the handlers of the
 * signals that end us are here for that reason.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "archive_format.h"
#include "common/logging.h"
#include "copycheck.h"
#include "pg_standby.h"
#include "restore.h"
#include "segbuf.h"
#include "walrecord.h"

/* Chunk size of the copy: large enough that system calls cost nothing. */
#define COPY_CHUNK_SIZE		(1024 * 1024)

/* History files are a few lines; anything this large is not one. */
#define MAX_HISTORY_FILE_SIZE	(1024 * 1024)

/* The temporary file is named after the restore path, with this appended. */
#define TEMPORARY_SUFFIX	".pg_standby.tmp"

/* A segment stored under its longest name: compressed and .partial. */
#define PARTIAL_SUFFIX		".partial"
#define LONGEST_ARCHIVE_SUFFIX	".zst" PARTIAL_SUFFIX

/*
 * The temporary file being written, if any.  Kept in a static buffer so
 * that a signal handler can remove it before the process dies.
 */
static char temporary_path[MAXPGPATH];
static volatile sig_atomic_t temporary_exists = false;

/*
 * Remove the temporary file, if one is being written.  Only async-signal-
 * safe calls: this runs from signal handlers too.
 */
void
remove_temporary_file(void)
{
	if (temporary_exists)
	{
		unlink(temporary_path);
		temporary_exists = false;
	}
}

/*
 * SIGTERM is the server's own shutdown reaching us: die by the same signal,
 * so that the server knows it was not a "not found".
 */
static void
handle_sigterm(int signo)
{
	remove_temporary_file();
	signal(SIGTERM, SIG_DFL);
	raise(SIGTERM);
}

/*
 * SIGQUIT comes with an immediate shutdown or a crash: die at once, by
 * SIGINT so that no core file is written.
 */
static void
handle_sigquit(int signo)
{
	remove_temporary_file();
	signal(SIGINT, SIG_DFL);
	raise(SIGINT);
}

/*
 * Installed first thing, before any file is written, so that SIGTERM and
 * SIGQUIT always remove our temporary file.
 */
void
restore_handle_termination_signals(void)
{
	pqsignal(SIGTERM, handle_sigterm);
	pqsignal(SIGQUIT, handle_sigquit);
}

/* Do the names built from archive_dir and file_name fit in MAXPGPATH? */
bool
archive_path_fits(const char *archive_dir, const char *file_name)
{
	return strlen(archive_dir) + 1 + strlen(file_name) +
		strlen(LONGEST_ARCHIVE_SUFFIX) < MAXPGPATH;
}

/* Does the name of the temporary file beside restore_path fit? */
bool
restore_path_fits(const char *restore_path)
{
	return strlen(restore_path) + strlen(TEMPORARY_SUFFIX) < MAXPGPATH;
}

/*
 * Create the temporary file beside restore_path, with O_EXCL so that
 * nothing already there (a link planted by someone else) is followed.  A
 * file left by an earlier run that was killed is removed first: its name
 * is ours.
 */
static int
create_temporary_file(const char *restore_path, char *problem,
					  size_t problem_size)
{
	int			fd;

	snprintf(temporary_path, sizeof(temporary_path), "%s%s",
			 restore_path, TEMPORARY_SUFFIX);
	if (unlink(temporary_path) != 0 && errno != ENOENT)
	{
		set_problem(problem, problem_size, "Could not remove file \"%s\": %m.", temporary_path);
		return -1;
	}
	fd = open(temporary_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			  S_IRUSR | S_IWUSR);
	if (fd < 0)
	{
		set_problem(problem, problem_size, "Could not create file \"%s\": %m.", temporary_path);
		return -1;
	}
	temporary_exists = true;
	return fd;
}

/* Put the finished temporary file in place of restore_path. */
static bool
install_temporary_file(int fd, const char *restore_path, char *problem,
					   size_t problem_size)
{
	if (close(fd) != 0)
	{
		set_problem(problem, problem_size, "Could not close file \"%s\": %m.", temporary_path);
		remove_temporary_file();
		return false;
	}
	if (rename(temporary_path, restore_path) != 0)
	{
		set_problem(problem, problem_size, "Could not rename file \"%s\" to \"%s\": %m.",
					temporary_path, restore_path);
		remove_temporary_file();
		return false;
	}
	temporary_exists = false;
	return true;
}

static void
abandon_temporary_file(int fd)
{
	close(fd);
	remove_temporary_file();
}

static bool
write_all(int fd, const char *data, size_t len, char *problem,
		  size_t problem_size)
{
	while (len > 0)
	{
		ssize_t		written = write(fd, data, len);

		if (written < 0)
		{
			if (errno == EINTR)
				continue;
			set_problem(problem, problem_size, "Could not write file \"%s\": %m.", temporary_path);
			return false;
		}
		data += written;
		len -= written;
	}
	return true;
}

static ssize_t
read_retrying(int fd, char *buffer, size_t len)
{
	ssize_t		n;

	do
		n = read(fd, buffer, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/*
 * Open a file of the archive for reading.  An absent file is not an error;
 * one that cannot be opened for another reason is the archive's trouble.
 */
static RestoreResult
open_archive_file(const char *archive_path, int *fd, struct stat *st,
				  char *problem, size_t problem_size)
{
	*fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
	{
		if (errno == ENOENT)
			return RESTORE_ABSENT;
		set_problem(problem, problem_size, "Could not open file \"%s\": %m.", archive_path);
		return RESTORE_ARCHIVE_ERROR;
	}
	if (fstat(*fd, st) != 0)
	{
		set_problem(problem, problem_size, "Could not stat file \"%s\": %m.", archive_path);
		close(*fd);
		return RESTORE_ARCHIVE_ERROR;
	}
	if (!S_ISREG(st->st_mode))
	{
		set_problem(problem, problem_size, "File \"%s\" is not a regular file.", archive_path);
		close(*fd);
		return RESTORE_INVALID;
	}
	return RESTORE_DONE;
}

/*
 * Read and check the first page of a segment, plain in the archive or
 * already decompressed into our temporary file, to learn its size.
 */
static RestoreResult
read_segment_size(int fd, const SegmentExpectation *expect,
				  uint32 *seg_size, char *problem, size_t problem_size)
{
	char		page[XLOG_BLCKSZ];
	ssize_t		n;

	n = pread(fd, page, XLOG_BLCKSZ, 0);
	if (n < 0)
	{
		set_problem(problem, problem_size, "Could not read file: %m.");
		return RESTORE_COPY_ERROR;
	}
	if (n < XLOG_BLCKSZ)
	{
		set_problem(problem, problem_size, "The file has only %zd bytes so far.", n);
		return RESTORE_INCOMPLETE;
	}
	if (!check_first_page(expect, page, n, seg_size, problem, problem_size))
		return RESTORE_INVALID;
	return RESTORE_DONE;
}

/*
 * Copy "size" bytes from in_fd to out_fd.  copy_file_range() lets the
 * kernel copy without passing the data through us, and clone it on file
 * systems that can (XFS, Btrfs); where it is not available between these
 * two files, read and write instead.
 *
 * copy_file_range() returning 0 before "size" bytes means either that the
 * file shrank or that the file system copies nothing this way: procfs and
 * sysfs files, and some FUSE and network file systems, report 0 where a
 * read() would return data.  Only read() can tell the two apart, so the
 * copy goes on with read and write from where it is; a file that really
 * shrank is found there, as it is on any file system without
 * copy_file_range().  (t/003_copy_fallback.pl preloads a copy_file_range()
 * that fails in each of these ways, as no file system it can mount does.)
 */
static RestoreResult
copy_contents(int in_fd, int out_fd, off_t size, char *problem,
			  size_t problem_size)
{
	static char *buffer = NULL;
	off_t		copied = 0;

	while (copied < size)
	{
		ssize_t		n = copy_file_range(in_fd, NULL, out_fd, NULL,
										size - copied, 0);

		if (n > 0)
		{
			copied += n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (copied == 0 && (errno == EXDEV || errno == ENOSYS ||
							errno == EOPNOTSUPP || errno == EINVAL))
			break;
		set_problem(problem, problem_size, "Could not copy file: %m.");
		return RESTORE_COPY_ERROR;
	}

	/* not pg_malloc(): running out of memory must not exit with 1 */
	if (buffer == NULL && copied < size &&
		(buffer = malloc(COPY_CHUNK_SIZE)) == NULL)
	{
		set_problem(problem, problem_size, "Out of memory.");
		return RESTORE_COPY_ERROR;
	}
	while (copied < size)
	{
		ssize_t		n = read_retrying(in_fd, buffer,
									  Min(COPY_CHUNK_SIZE, size - copied));

		if (n < 0)
		{
			set_problem(problem, problem_size, "Could not read file: %m.");
			return RESTORE_COPY_ERROR;
		}
		if (n == 0)
		{
			set_problem(problem, problem_size, "The file shrank while being copied.");
			return RESTORE_INCOMPLETE;
		}
		if (!write_all(out_fd, buffer, n, problem, problem_size))
			return RESTORE_COPY_ERROR;
		copied += n;
	}
	return RESTORE_DONE;
}

/*
 * Check the copy, not the original: the temporary file is ours alone, so
 * what is checked here is exactly what the server will read, whatever
 * happens to the archive meanwhile.  Page headers first, then every record
 * (walrecord.c), in a mapping of the copy, or where the file system
 * cannot map it in a buffer read from it (segbuf.c).
 */
static RestoreResult
check_copy(int fd, off_t size, const SegmentExpectation *expect,
		   char *problem, size_t problem_size)
{
	WalRecordSummary summary;
	const char *contents;
	bool		mapped;
	bool		valid;

	contents = map_segment_copy(fd, size);
	mapped = contents != NULL;
	if (!mapped)
		contents = read_whole_segment(fd, size, problem, problem_size);
	if (contents == NULL)
		return RESTORE_COPY_ERROR;
	valid = check_segment_contents(expect, contents, size, problem,
								   problem_size) &&
		check_segment_records(contents, size, &summary, problem,
							  problem_size);
	if (mapped)
		unmap_segment_copy(contents, size);
	return valid ? RESTORE_DONE : RESTORE_INVALID;
}

/* Where decompressed data goes: our temporary file. */
typedef struct DecodedOutput
{
	int			fd;
	uint64		written;
	char	   *problem;
	size_t		problem_size;
} DecodedOutput;

static bool
write_decoded(void *arg, const char *data, size_t len)
{
	DecodedOutput *out = (DecodedOutput *) arg;

	if (!write_all(out->fd, data, len, out->problem, out->problem_size))
		return false;
	out->written += len;
	return true;
}

/*
 * Decompress a compressed segment into out_fd, by the rule pg_standby_archive
 * follows too (archive_format.c).  A stream that stops short is still being
 * written.  pg_standby --verify decompresses the same way (verify.c).
 */
RestoreResult
decompress_segment(pg_compress_algorithm compression, int in_fd, int out_fd,
				   uint64 *size, char *problem, size_t problem_size)
{
	DecodedOutput out = {out_fd, 0, problem, problem_size};
	RestoreResult result;

	switch (decode_archive_file(compression, in_fd, write_decoded, &out,
								problem, problem_size))
	{
		case DECODE_DONE:
			result = RESTORE_DONE;
			break;
		case DECODE_TRUNCATED:
			result = RESTORE_INCOMPLETE;
			break;
		case DECODE_INVALID:
			result = RESTORE_INVALID;
			break;
		default:
			result = RESTORE_COPY_ERROR;
			break;
	}
	*size = out.written;
	return result;
}

/*
 * Put a plain segment into out_fd and check the copy, the two at once
 * where the file system can map the copy (copycheck.c).  A segment
 * shorter than its header says is still being written.
 */
static RestoreResult
copy_plain_segment(int in_fd, const struct stat *st, int out_fd,
				   const SegmentExpectation *expect, uint32 *seg_size,
				   char *problem, size_t problem_size)
{
	RestoreResult result;

	result = read_segment_size(in_fd, expect, seg_size, problem,
							   problem_size);
	if (result != RESTORE_DONE)
		return result;
	if (st->st_size < *seg_size)
	{
		set_problem(problem, problem_size, "The file has %lld of its %u bytes so far.",
					(long long) st->st_size, *seg_size);
		return RESTORE_INCOMPLETE;
	}
	if (st->st_size > *seg_size)
	{
		set_problem(problem, problem_size, "The file has %lld bytes, but the segment size is %u.",
					(long long) st->st_size, *seg_size);
		return RESTORE_INVALID;
	}
	if (copy_and_check_segment(in_fd, out_fd, *seg_size, expect,
							   copy_contents, &result, problem, problem_size))
		return result;
	result = copy_contents(in_fd, out_fd, *seg_size, problem, problem_size);
	if (result == RESTORE_DONE)
		result = check_copy(out_fd, *seg_size, expect, problem, problem_size);
	return result;
}

/*
 * A .partial segment ends where its writer stopped: a compressed one
 * usually inside its stream, an unpadded plain one anywhere.  What is there
 * is all there is, and is used.  A last page cut inside its header is
 * dropped (it holds no record), and the file is made at least one page
 * long so that its header can be read; the caller then pads it with zeros
 * to the segment size, which read as the end of WAL.
 */
static RestoreResult
trim_partial_segment(int fd, uint64 *size, char *problem, size_t problem_size)
{
	uint64		in_last_page = *size % XLOG_BLCKSZ;

	if (in_last_page > 0 && in_last_page < SizeOfXLogLongPHD)
		*size -= in_last_page;
	if (*size == 0)
	{
		set_problem(problem, problem_size, "The partial segment ends before its first page header.");
		return RESTORE_INVALID;
	}
	if (*size < XLOG_BLCKSZ)
		*size = XLOG_BLCKSZ;
	if (ftruncate(fd, *size) != 0)
	{
		set_problem(problem, problem_size, "Could not truncate file \"%s\": %m.", temporary_path);
		return RESTORE_COPY_ERROR;
	}
	return RESTORE_DONE;
}

/*
 * Restore one WAL segment from one of its stored forms: copy or decompress
 * it into a temporary file, check that copy page by page, and rename it
 * over restore_path only if every check passed.  A .partial segment (the
 * one pg_receivewal was streaming, used at failover) is padded with zeros
 * to the full size, as the server expects.
 */
static RestoreResult
restore_segment_from(const char *archive_path,
					 pg_compress_algorithm compression,
					 bool partial, const char *restore_path,
					 const SegmentExpectation *expect, uint32 *seg_size,
					 char *problem, size_t problem_size)
{
	struct stat st;
	RestoreResult result;
	uint64		size = 0;
	bool		checked = false;
	int			in_fd;
	int			out_fd;

	result = open_archive_file(archive_path, &in_fd, &st, problem,
							   problem_size);
	if (result != RESTORE_DONE)
		return result;
	out_fd = create_temporary_file(restore_path, problem, problem_size);
	if (out_fd < 0)
	{
		close(in_fd);
		return RESTORE_COPY_ERROR;
	}

	if (compression != PG_COMPRESSION_NONE)
		result = decompress_segment(compression, in_fd, out_fd, &size,
									problem, problem_size);
	else if (!partial)
	{
		result = copy_plain_segment(in_fd, &st, out_fd, expect, seg_size,
									problem, problem_size);
		checked = true;
	}
	else if (st.st_size > WalSegMaxSize)
	{
		set_problem(problem, problem_size, "The file has %lld bytes, more than any WAL segment.",
					(long long) st.st_size);
		result = RESTORE_INVALID;
	}
	else
	{
		size = st.st_size;
		result = copy_contents(in_fd, out_fd, size, problem, problem_size);
	}
	close(in_fd);
	if (partial && (result == RESTORE_DONE || result == RESTORE_INCOMPLETE))
		result = trim_partial_segment(out_fd, &size, problem, problem_size);

	if (result == RESTORE_DONE && !checked)
		result = read_segment_size(out_fd, expect, seg_size, problem,
								   problem_size);
	if (result == RESTORE_DONE && partial && size < *seg_size)
	{
		if (ftruncate(out_fd, *seg_size) != 0)
		{
			set_problem(problem, problem_size, "Could not extend file \"%s\": %m.", temporary_path);
			result = RESTORE_COPY_ERROR;
		}
		size = *seg_size;
	}
	if (result == RESTORE_DONE && !checked)
		result = check_copy(out_fd, size, expect, problem, problem_size);

	if (result != RESTORE_DONE)
	{
		abandon_temporary_file(out_fd);
		return result;
	}
	if (!install_temporary_file(out_fd, restore_path, problem, problem_size))
		return RESTORE_COPY_ERROR;
	return RESTORE_DONE;
}

/*
 * Restore the segment expect->name from archive_dir.  It may be archived
 * plain or compressed: the first form present is the one used, in the
 * documented order of archive_formats[]; with "partial", the same names
 * with .partial appended are used instead.  "source" (MAXPGPATH bytes)
 * receives the path of the form used, or the plain name if none is
 * present, for the caller's messages.
 */
RestoreResult
restore_segment(const char *archive_dir, const SegmentExpectation *expect,
				bool partial, const char *restore_path, uint32 *seg_size,
				char *source, char *problem, size_t problem_size)
{
	for (int i = 0; i < num_archive_formats; i++)
	{
		RestoreResult result;

		if (!archive_formats[i].supported)
			continue;
		snprintf(source, MAXPGPATH, "%s/%s%s%s", archive_dir, expect->name,
				 archive_formats[i].suffix, partial ? PARTIAL_SUFFIX : "");
		result = restore_segment_from(source, archive_formats[i].algorithm,
									  partial, restore_path, expect,
									  seg_size, problem, problem_size);
		if (result != RESTORE_ABSENT)
			return result;
	}
	snprintf(source, MAXPGPATH, "%s/%s", archive_dir, expect->name);
	return RESTORE_ABSENT;
}

/*
 * Is the requested segment in the server's own pg_wal, under its name, and
 * valid: the right page addresses and system identifier, full size?  Then
 * the server can read it there (it tries pg_wal as soon as restore_command
 * says "not available": XLogFileReadAnyTLI()).  A recycled segment, an old
 * file that a restartpoint renamed to a future name, has the page addresses
 * of its old name and is never taken for it.
 *
 * "written_to_end" also requires that the segment's WAL goes on in the
 * next one: in archive recovery the server ends recovery where the WAL it
 * reads ends, so a segment whose WAL simply stops (one being written when a
 * base backup copied it) could end recovery there.  The record walk tells:
 * the WAL ends with an XLOG_SWITCH record, or its last record continues
 * into the next segment.
 */
bool
segment_in_server_wal(const char *restore_path,
					  const SegmentExpectation *expect, bool written_to_end)
{
	char		path[MAXPGPATH];
	char		problem[256] = "";
	struct stat st;
	char	   *contents;
	WalRecordSummary summary;
	bool		valid;
	int			fd;

	strlcpy(path, restore_path, sizeof(path));
	get_parent_directory(path);
	if (path[0] != '\0')
		strlcat(path, "/", sizeof(path));
	strlcat(path, expect->name, sizeof(path));

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		st.st_size < XLOG_BLCKSZ || st.st_size > WalSegMaxSize)
	{
		close(fd);
		return false;
	}
	contents = read_whole_segment(fd, st.st_size, problem, sizeof(problem));
	close(fd);
	valid = contents != NULL &&
		check_segment_contents(expect, contents, st.st_size, problem,
							   sizeof(problem)) &&
		check_segment_records(contents, st.st_size, &summary, problem,
							  sizeof(problem));
	if (valid && written_to_end && !summary.switched && !summary.continues)
	{
		valid = false;
		set_problem(problem, sizeof(problem),
					"Its WAL ends inside it, which could end recovery early.");
	}
	if (!valid)
	{
		pg_log_debug("not using \"%s\"", path);
		pg_log_debug_detail("%s", problem);
	}
	return valid;
}

/*
 * Restore a timeline history or backup history file: small text files,
 * read whole, checked, then written.
 */
RestoreResult
restore_history(const char *archive_path, const char *restore_path,
				WalFileKind kind, TimeLineID file_tli,
				char *problem, size_t problem_size)
{
	struct stat st;
	RestoreResult result;
	char	   *contents;
	ssize_t		n;
	int			in_fd;
	int			out_fd;

	result = open_archive_file(archive_path, &in_fd, &st, problem,
							   problem_size);
	if (result != RESTORE_DONE)
		return result;
	if (st.st_size > MAX_HISTORY_FILE_SIZE)
	{
		set_problem(problem, problem_size, "The file has %lld bytes, too large for a history file.",
					(long long) st.st_size);
		close(in_fd);
		return RESTORE_INVALID;
	}

	contents = malloc(st.st_size + 1);
	if (contents == NULL)
	{
		set_problem(problem, problem_size, "Out of memory.");
		close(in_fd);
		return RESTORE_COPY_ERROR;
	}
	n = read_retrying(in_fd, contents, st.st_size + 1);
	close(in_fd);
	if (n < 0)
	{
		set_problem(problem, problem_size, "Could not read file \"%s\": %m.", archive_path);
		result = RESTORE_COPY_ERROR;
	}
	else if (n != st.st_size)
	{
		set_problem(problem, problem_size, "The file changed size while being read.");
		result = RESTORE_INCOMPLETE;
	}
	else if (!check_history_contents(kind, file_tli, contents, n, problem,
									 problem_size))
		result = RESTORE_INVALID;
	else if ((out_fd = create_temporary_file(restore_path, problem,
											 problem_size)) < 0)
		result = RESTORE_COPY_ERROR;
	else if (!write_all(out_fd, contents, n, problem, problem_size))
	{
		abandon_temporary_file(out_fd);
		result = RESTORE_COPY_ERROR;
	}
	else if (!install_temporary_file(out_fd, restore_path, problem,
									 problem_size))
		result = RESTORE_COPY_ERROR;

	free(contents);
	return result;
}
