--
-- pg_standby restoring what the server archived (backup_functions.sql),
-- run as the server runs a restore_command: from the data directory, so
-- that it checks segments against this instance's pg_control.  The restore
-- paths do not end in RECOVERYXLOG, so pg_standby answers at once and
-- never waits.  What it restores must be byte for byte what was archived;
-- what it refuses must leave nothing behind.
--

-- Run the pg_standby under test, the first on PATH (the one just built, or
-- the installed one); return what it printed and its exit status.
CREATE FUNCTION pg_standby(VARIADIC args text[]) RETURNS SETOF text
LANGUAGE sql
BEGIN ATOMIC
	SELECT mask(line)
	FROM shell((SELECT string_agg(sh_quote(a), ' ' ORDER BY n)
				FROM unnest('pg_standby'::text || args)
					WITH ORDINALITY AS u(a, n)) ||
			   ' 2>&1; echo "exit status $?"')
		WITH ORDINALITY AS l(line, n)
	ORDER BY n;
END;

-- What to ask for: the segment of the WAL switch, which the archive has,
-- the one after it, which it has not, and the backup history file.
CREATE TABLE walfiles AS
	SELECT pg_walfile_name(w.lsn) AS segment,
		pg_walfile_name(w.lsn + pg_size_bytes(current_setting('wal_segment_size')))
			AS next_segment,
		b.history_file
	FROM wal_switch w, backup b;

SELECT shell('mkdir -p ' || sh_quote(regress_path('restored')) || ' ' ||
			 sh_quote(regress_path('forged')));

-- the switched segment, restored byte for byte
SELECT pg_standby(regress_path('archive'), segment,
				  regress_path('restored/segment'))
FROM walfiles;

SELECT md5(pg_read_binary_file(regress_path('restored/segment'))) =
	md5(pg_read_binary_file(regress_path('archive/' || segment)))
	AS segment_identical
FROM walfiles;

-- asked again, as the server may: the same answer
SELECT pg_standby(regress_path('archive'), segment,
				  regress_path('restored/segment'))
FROM walfiles;

SELECT md5(pg_read_binary_file(regress_path('restored/segment'))) =
	md5(pg_read_binary_file(regress_path('archive/' || segment)))
	AS segment_identical
FROM walfiles;

-- the backup history file, restored byte for byte
SELECT pg_standby(regress_path('archive'), history_file,
				  regress_path('restored/backup_history'))
FROM walfiles;

SELECT md5(pg_read_binary_file(regress_path('restored/backup_history'))) =
	md5(pg_read_binary_file(regress_path('archive/' || history_file)))
	AS history_identical
FROM walfiles;

-- the next segment is not archived yet: not available, at once
SELECT pg_standby(regress_path('archive'), next_segment,
				  regress_path('restored/absent'))
FROM walfiles;

-- nor is a timeline history file of a timeline that never existed
SELECT pg_standby(regress_path('archive'), '00000002.history',
				  regress_path('restored/absent_history'));

-- the switched segment copied under the next segment's name is refused
SELECT shell(format('cp %s %s',
					sh_quote(regress_path('archive/' || segment)),
					sh_quote(regress_path('forged/' || next_segment))))
FROM walfiles;

SELECT pg_standby(regress_path('forged'), next_segment,
				  regress_path('restored/renamed'))
FROM walfiles;

-- and so is a copy whose first page names another system identifier
-- (xlp_sysid, bytes 24 to 31 of the long page header, zeroed)
SELECT shell(format('cp %1$s %2$s && dd if=/dev/zero of=%2$s bs=1 seek=24 count=8 conv=notrunc 2>/dev/null',
					sh_quote(regress_path('archive/' || segment)),
					sh_quote(regress_path('forged/' || segment))))
FROM walfiles;

SELECT pg_standby(regress_path('forged'), segment,
				  regress_path('restored/foreign'))
FROM walfiles;

-- a name the server would never ask for is a configuration error
SELECT pg_standby(regress_path('archive'), '../x',
				  regress_path('restored/invalid'));

-- only what was restored is there: nothing from the refusals, no
-- temporary files
SELECT f AS restored_files
FROM pg_ls_dir(regress_path('restored')) AS f
ORDER BY f COLLATE "C";
