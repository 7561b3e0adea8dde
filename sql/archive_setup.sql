--
-- Archiving for the tests that follow, and the helpers they share.
--
-- The temporary instance starts with archive_mode = on and no
-- archive_command (sql/archiving.conf), so completed segments wait in
-- pg_wal until this file points the archiver at a directory.  All files
-- the tests make live in the temporary instance's directory: pg_regress
-- removes it after a successful run and keeps it for inspection otherwise.
--
\getenv abs_builddir PG_ABS_BUILDDIR
\getenv libdir PG_LIBDIR

-- Absolute path of a file under the temporary instance's directory.
CREATE FUNCTION regress_path(name text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN :'abs_builddir' || '/tmp_regress/' || name;

-- Quote a string as one word for the shell.
CREATE FUNCTION sh_quote(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
RETURN '''' || replace(s, '''', '''\''''') || '''';

-- Run a shell command the way the server runs archive_command and
-- restore_command, from the data directory, and return its output lines.
-- A command that exits with a non-zero status raises an error.
CREATE TABLE shell_output (n bigserial, line text);
CREATE FUNCTION shell(command text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM shell_output;
	EXECUTE format('COPY shell_output (line) FROM PROGRAM %L', command);
	RETURN QUERY SELECT line FROM shell_output ORDER BY n;
END
$$;

-- Mask what differs from run to run: the test directory, this instance's
-- system identifier, WAL file names, LSNs and times.
CREATE FUNCTION mask(s text) RETURNS text
LANGUAGE sql STABLE
RETURN regexp_replace(regexp_replace(regexp_replace(
	replace(replace(s, regress_path(''), '@tmp_regress@/'),
			(SELECT system_identifier::text FROM pg_control_system()), 'SYSID'),
	'\m[0-9A-F]{24}\M', 'WALFILE', 'g'),
	'\m[0-9A-F]{1,8}/[0-9A-F]{1,8}\M', 'X/X', 'g'),
	'\m\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+', 'TIME', 'g');

-- Wait until the archiver has archived "walfile" (or a later file: it
-- archives in name order), for at most 60 seconds.
CREATE FUNCTION wait_for_archiver(walfile text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	give_up timestamptz := clock_timestamp() + interval '60 s';
BEGIN
	LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN (SELECT last_archived_wal COLLATE "C" >= walfile
				   FROM pg_stat_archiver);
		IF clock_timestamp() > give_up THEN
			RAISE EXCEPTION 'archiver did not archive "%" within 60 seconds',
				walfile;
		END IF;
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;

-- The archive, and pg_standby_archive, the primary's half of pg_standby,
-- archiving into it: it never overwrites a file and never leaves a
-- half-written one under its final name (archive_module.sql).  It is
-- loaded from pg_regress's --dlpath (the build directory, or the installed
-- pkglibdir); loading it here too makes its parameters known, so that
-- ALTER SYSTEM accepts them.
SELECT shell('mkdir -p ' || sh_quote(regress_path('archive')));
SELECT :'libdir' || '/pg_standby_archive' AS library,
	regress_path('archive') AS directory \gset
LOAD :'library';
ALTER SYSTEM SET archive_library TO :'library';
ALTER SYSTEM SET pg_standby_archive.directory TO :'directory';

-- A new archive_library makes the archiver exit.  The postmaster starts a
-- new one, which loads the module, only 10 seconds after the last start,
-- and checks again when it wakes up: a reload wakes it.
CREATE TABLE old_archiver AS
	SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver';

DO $$
DECLARE
	give_up timestamptz := clock_timestamp() + interval '60 s';
BEGIN
	LOOP
		PERFORM pg_reload_conf();
		PERFORM pg_sleep(0.2);
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN EXISTS (SELECT FROM pg_stat_activity
						  WHERE backend_type = 'archiver'
							AND pid NOT IN (SELECT pid FROM old_archiver));
		IF clock_timestamp() > give_up THEN
			RAISE EXCEPTION 'no new archiver within 60 seconds';
		END IF;
	END LOOP;
END
$$;

SELECT replace(current_setting('archive_library'), :'libdir',
			   '@libdir@') AS archive_library,
	mask(current_setting('pg_standby_archive.directory')) AS directory;
