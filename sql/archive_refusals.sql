--
-- What pg_standby_archive refuses, after archive_module.sql, whose helpers
-- it uses: an archive directory too long for the names of the files in it
-- is refused where it is set; a file that is not a regular file under a
-- segment's archive name, and an archive directory that is not a
-- directory, make archiving fail, and once either is put right the
-- segment is archived.
--

\getenv libdir PG_LIBDIR

-- Run the shell command "command" (format()'s %1$s: the archive name of the
-- current segment, %2$s: the archive directory, both quoted) and switch to
-- the next segment; return the name of the segment switched away from
-- once archiving it has failed.
CREATE FUNCTION archiving_fails_after(command text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	failed_before bigint;
	segment text;
BEGIN
	PERFORM pg_stat_clear_snapshot();
	SELECT failed_count INTO failed_before FROM pg_stat_archiver;
	INSERT INTO filler VALUES (1);
	segment := pg_walfile_name(pg_current_wal_insert_lsn());
	PERFORM shell(format(command, sh_quote(regress_path('archive/' || segment)),
						 sh_quote(regress_path('archive'))));
	IF pg_walfile_name(pg_switch_wal()) <> segment THEN
		RAISE EXCEPTION 'did not switch away from segment "%"', segment;
	END IF;
	PERFORM wait_for_failure(segment, failed_before);
	RETURN segment;
END
$$;

-- Run "command" (as above, for "segment"): is "segment" then archived, in
-- full?
CREATE FUNCTION archived_after(segment text, command text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM shell(format(command, sh_quote(regress_path('archive/' || segment)),
						 sh_quote(regress_path('archive'))));
	PERFORM wait_for_archiver(next_segment());
	RETURN (pg_stat_file(regress_path('archive/' || segment))).size =
		pg_size_bytes(current_setting('wal_segment_size'));
END
$$;

--
-- A directory path that leaves no room for the file names (checked once
-- the module is loaded: until then, the parameter is a placeholder)
--
SELECT :'libdir' || '/pg_standby_archive' AS library,
	'/' || repeat('x', 1000) AS long_directory \gset
LOAD :'library';
ALTER SYSTEM SET pg_standby_archive.directory = :'long_directory';
SELECT mask(current_setting('pg_standby_archive.directory')) AS directory;

--
-- Something other than a regular file under the segment's name
--
SELECT archiving_fails_after('mkdir %1$s') AS occupied \gset
SELECT logged(format('ERROR:  archive file "%s" already exists and is not a regular file',
					 regress_path('archive/' || :'occupied'))) AS error_logged;
SELECT archived_after(:'occupied', 'rmdir %1$s') AS archived_once_removed;

--
-- An archive directory that is a regular file
--
SELECT archiving_fails_after('mv %2$s %2$s.away && touch %2$s') AS displaced \gset
SELECT logged(format('ERROR:  archive directory "%s" is not a directory',
					 regress_path('archive'))) AS error_logged;
SELECT archived_after(:'displaced', 'rm %2$s && mv %2$s.away %2$s')
	AS archived_once_back;
