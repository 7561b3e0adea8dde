--
-- pg_standby_archive, the archive module archive_setup.sql set up: its
-- parameters are checked where they are set; a missing archive directory
-- makes archiving fail visibly, and once the directory is back every
-- segment is archived, none skipped; a file already archived with the
-- same contents counts as archived and is left alone; one with different
-- contents is an error and is never overwritten.
--
\getenv abs_builddir PG_ABS_BUILDDIR
\getenv libdir PG_LIBDIR

SELECT :'libdir' || '/pg_standby_archive' AS library,
	:'abs_builddir' || '/log/postmaster.log' AS server_log \gset

-- Wait until the archiver has failed on "walfile" since failed_count was
-- "failed_before", for at most 60 seconds.
CREATE FUNCTION wait_for_failure(walfile text, failed_before bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	give_up timestamptz := clock_timestamp() + interval '60 s';
BEGIN
	LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN (SELECT last_failed_wal = walfile AND
						  failed_count > failed_before
				   FROM pg_stat_archiver);
		IF clock_timestamp() > give_up THEN
			RAISE EXCEPTION 'archiver did not fail on "%" within 60 seconds',
				walfile;
		END IF;
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;

-- Write some WAL and switch to the next segment; return the name of the
-- segment switched away from.
CREATE TABLE filler (n int);
CREATE FUNCTION next_segment() RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO filler VALUES (1);
	RETURN pg_walfile_name(pg_switch_wal());
END
$$;

-- Did the server log this line since the test started?
CREATE FUNCTION logged(line text) RETURNS boolean
LANGUAGE sql
RETURN strpos(pg_read_file(:'server_log'), line) > 0;

-- A segment's number from its name, and the name of a segment number on a
-- timeline.
CREATE FUNCTION segments_per_id() RETURNS bigint
LANGUAGE sql STABLE
RETURN 4294967296 / pg_size_bytes(current_setting('wal_segment_size'));

CREATE FUNCTION segno(walfile text) RETURNS bigint
LANGUAGE sql STABLE
RETURN ('x' || substr(walfile, 9, 8))::bit(32)::bigint * segments_per_id() +
	('x' || substr(walfile, 17, 8))::bit(32)::bigint;

CREATE FUNCTION segment_name(tli text, segno bigint) RETURNS text
LANGUAGE sql STABLE
RETURN tli || lpad(upper(to_hex(segno / segments_per_id())), 8, '0') ||
	lpad(upper(to_hex(segno % segments_per_id())), 8, '0');

--
-- The parameters, checked where they are set
--
LOAD :'library';
ALTER SYSTEM SET pg_standby_archive.compression = 'bogus';
ALTER SYSTEM SET pg_standby_archive.directory = 'relative/archive';
SELECT mask(current_setting('pg_standby_archive.directory')) AS directory;

--
-- A missing archive directory
--
CREATE TABLE missing (first_segment text, last_segment text,
					  failed_before bigint, archived_before bigint);

-- start with everything archived
SELECT wait_for_archiver(next_segment());
INSERT INTO missing (failed_before, archived_before)
	SELECT failed_count, archived_count FROM pg_stat_archiver;

SELECT shell(format('mv %s %s', sh_quote(regress_path('archive')),
					sh_quote(regress_path('archive.away'))));

-- three segments to archive, and nowhere to put them
UPDATE missing SET first_segment = next_segment();
SELECT next_segment() IS NOT NULL AS switched;
UPDATE missing SET last_segment = next_segment();

SELECT wait_for_failure(first_segment, failed_before) FROM missing;

-- the archiver is stuck on the first, and says why
SELECT a.last_failed_wal = m.first_segment AS failed_on_first,
	a.failed_count > m.failed_before AS failed_count_grew,
	a.archived_count = m.archived_before AS nothing_archived
FROM pg_stat_archiver a, missing m;

SELECT logged(format('ERROR:  archive directory "%s" does not exist',
					 regress_path('archive'))) AS error_logged,
	logged(format('CONTEXT:  archiving write-ahead log file "%s"',
				  first_segment)) AS file_named
FROM missing;

-- meanwhile, the first segment reaches the archive by other means, with
-- its time stamp set in the past
SELECT shell(format('cp pg_wal/%1$s %2$s/%1$s && touch -d "2000-01-01 00:00:00 UTC" %2$s/%1$s',
					first_segment, sh_quote(regress_path('archive.away'))))
FROM missing;

-- the directory is back; a new segment wakes the archiver up
SELECT shell(format('mv %s %s', sh_quote(regress_path('archive.away')),
					sh_quote(regress_path('archive'))));
UPDATE missing SET last_segment = next_segment();
SELECT wait_for_archiver(last_segment) FROM missing;

-- every segment from the first to the last is archived, in full
SELECT count(*) AS segments,
	count(*) FILTER (WHERE (pg_stat_file(regress_path('archive/' || name),
										 true)).size =
					 pg_size_bytes(current_setting('wal_segment_size')))
		AS archived_in_full
FROM missing,
	generate_series(segno(first_segment), segno(last_segment)) AS s,
	segment_name(substr(first_segment, 1, 8), s) AS name;

-- the one already there counted as archived, and was left as it was
SELECT a.archived_count = m.archived_before + 4 AS all_four_counted,
	(pg_stat_file(regress_path('archive/' || m.first_segment))).modification =
		'2000-01-01 00:00:00+00' AS first_left_alone
FROM pg_stat_archiver a, missing m;

--
-- A file already archived with different contents
--
CREATE TABLE forged (segment text, failed_before bigint);

INSERT INTO filler VALUES (1);
INSERT INTO forged
	SELECT pg_walfile_name(pg_current_wal_insert_lsn()), failed_count
	FROM pg_stat_archiver;

SELECT shell(format('printf "not a WAL segment" > %s',
					sh_quote(regress_path('archive/' || segment))))
FROM forged;

SELECT pg_walfile_name(pg_switch_wal()) = segment AS switched_forged_segment
FROM forged;

SELECT wait_for_failure(segment, failed_before) FROM forged;

SELECT logged(format('ERROR:  archive file "%s" already exists with different contents',
					 regress_path('archive/' || segment))) AS error_logged
FROM forged;

-- not overwritten, also when retried
SELECT wait_for_failure(segment, failed_before + 1) FROM forged;

SELECT pg_read_file(regress_path('archive/' || segment)) AS forged_contents
FROM forged;

-- once it is out of the way, the segment is archived
SELECT shell(format('rm %s', sh_quote(regress_path('archive/' || segment))))
FROM forged;
SELECT wait_for_archiver(next_segment());

SELECT (pg_stat_file(regress_path('archive/' || segment))).size =
	pg_size_bytes(current_setting('wal_segment_size')) AS archived_in_full
FROM forged;

-- no temporary files left behind
SELECT count(*) AS stray_files
FROM pg_ls_dir(regress_path('archive')) AS f
WHERE f !~ '^[0-9A-F]{24}(\.[0-9A-F]{8}\.backup)?$';
