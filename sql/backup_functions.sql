--
-- The backup functions as a warm-standby set-up uses them, with
-- pg_standby_archive archiving: pg_backup_start(), a copy of the data
-- directory, pg_backup_stop() waiting for the archive, the label written
-- into the copy; then a WAL switch.  Asserted is only what the set-up and
-- pg_standby rely on, never the server's own label lines or NOTICE texts,
-- which change between major versions: the label starts with the start
-- location, the backup history file is in the archive under the name the
-- server asks for and starts as the label does (pg_standby checks that
-- line), and every segment from the start to the stop location is archived
-- and restored by pg_standby, run in the copy as its restore_command would
-- be.  restore_command.sql goes on from what is archived here.
--

--
-- A base backup
--
CREATE TABLE backup (start_lsn pg_lsn, stop_lsn pg_lsn, labelfile text,
					 history_file text);

-- fast = true: an immediate checkpoint
INSERT INTO backup (start_lsn)
	SELECT pg_backup_start('pg_standby regress', true);

-- The copy, as a warm standby is made: everything but the contents of
-- pg_wal (the standby restores those from the archive) and the postmaster's
-- own files.  Files that change while tar reads them are expected (tar then
-- exits with 1, which the pipeline ignores): the backup's WAL repairs them.
SELECT shell(format('mkdir -p %1$s/pg_wal && (cd %2$s && tar --exclude=./pg_wal --exclude=./postmaster.pid --exclude=./postmaster.opts -cf - .) | tar -C %1$s -xf -',
					sh_quote(regress_path('standby')),
					sh_quote(current_setting('data_directory'))));

-- Waits until the archiver has the last segment and the history file; if
-- archiving is broken, that would be forever.  Its NOTICE is left out: its
-- text is the server's.
SET statement_timeout = '60s';
SET client_min_messages = warning;
UPDATE backup SET (stop_lsn, labelfile) =
	(SELECT lsn, labelfile FROM pg_backup_stop(wait_for_archive => true));
RESET client_min_messages;
RESET statement_timeout;

-- the label, written into the copy as backup_label
SELECT shell(format('printf %%s %s >%s', sh_quote(labelfile),
					sh_quote(regress_path('standby/backup_label'))))
FROM backup;

SELECT pg_read_file(regress_path('standby/backup_label')) = labelfile
		AS label_written,
	starts_with(labelfile,
				format(E'START WAL LOCATION: %s (file %s)\n',
					   start_lsn, pg_walfile_name(start_lsn)))
		AS label_starts_at_start,
	start_lsn < stop_lsn AS stop_after_start
FROM backup;

-- the backup history file is named after the start of the backup, with
-- its offset in the segment in eight hex digits
UPDATE backup SET history_file =
	(SELECT file_name || '.' || lpad(upper(to_hex(file_offset)), 8, '0') ||
			'.backup'
	 FROM pg_walfile_name_offset(start_lsn));

-- the archive has exactly one backup history file, under that name, and
-- it starts with the label's first line
SELECT f = history_file AS history_file_name_is_start,
	starts_with(pg_read_file(regress_path('archive/' || f)),
				split_part(labelfile, E'\n', 1) || E'\n')
		AS history_file_starts_as_label
FROM backup, pg_ls_dir(regress_path('archive')) AS f
WHERE f LIKE '%.backup';

-- every segment from the start to the stop location, restored from the
-- archive by pg_standby in the copy (whose pg_control has this cluster's
-- system identifier), byte for byte
CREATE TABLE backup_segments AS
	SELECT DISTINCT pg_walfile_name(start_lsn + g * seg_size) AS segment
	FROM backup,
		pg_size_bytes(current_setting('wal_segment_size')) AS seg_size,
		generate_series(0, ((stop_lsn - start_lsn) / seg_size)::int + 1) AS g
	WHERE pg_walfile_name(start_lsn + g * seg_size) <= pg_walfile_name(stop_lsn);

CREATE TABLE backup_restores AS
	SELECT segment,
		(SELECT string_agg(line, E'\n')
		 FROM shell(format('cd %s && %s %s %s %s 2>&1; echo "exit status $?"',
						   sh_quote(regress_path('standby')),
						   'pg_standby',
						   sh_quote(regress_path('archive')), segment,
						   'pg_wal/' || segment)) AS line) AS output
	FROM backup_segments;

SELECT count(*) > 0 AS some_segments,
	bool_and(output = 'exit status 0') AS all_restored,
	bool_and(md5(pg_read_binary_file(regress_path('standby/pg_wal/' || segment))) =
			 md5(pg_read_binary_file(regress_path('archive/' || segment))))
		AS all_identical
FROM backup_restores;

--
-- A WAL switch, seen by the archiver
--
CREATE TABLE wal_switch AS
	SELECT archived_count AS archived_before, NULL::pg_lsn AS lsn
	FROM pg_stat_archiver;

-- creating that table wrote WAL, so there is a segment to switch away from
UPDATE wal_switch SET lsn = pg_switch_wal();

SELECT wait_for_archiver(pg_walfile_name(lsn)) FROM wal_switch;

SELECT a.last_archived_wal = pg_walfile_name(w.lsn) AS last_archived_is_switched,
	a.archived_count > w.archived_before AS archived_count_grew,
	a.failed_count = 0 AS no_failures
FROM pg_stat_archiver a, wal_switch w;

-- the switched segment has the full size, and the archive holds nothing
-- but segments and backup history files: no temporary files
SELECT (pg_stat_file(regress_path('archive/' || pg_walfile_name(lsn)))).size =
	pg_size_bytes(current_setting('wal_segment_size')) AS full_segment
FROM wal_switch;

SELECT count(*) AS stray_files
FROM pg_ls_dir(regress_path('archive')) AS f
WHERE f !~ '^[0-9A-F]{24}(\.[0-9A-F]{8}\.backup)?$';
