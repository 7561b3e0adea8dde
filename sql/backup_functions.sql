--
-- What an archiving primary hands to the archive, which pg_standby then
-- restores (restore_command.sql): pg_backup_start() and pg_backup_stop()
-- with the backup label and the backup history file, and pg_switch_wal()
-- with what pg_stat_archiver reports of it.  Values that change from run
-- to run are masked, and checked against each other instead.
--

--
-- A base backup: its label and its backup history file
--
CREATE TABLE backup (start_lsn pg_lsn, stop_lsn pg_lsn, labelfile text,
					 history_file text);

-- fast = true: an immediate checkpoint
INSERT INTO backup (start_lsn)
	SELECT pg_backup_start('pg_standby regress', true);

-- waits until the archiver has the last segment and the history file;
-- if archiving is broken, that would be forever
SET statement_timeout = '60s';
UPDATE backup SET (stop_lsn, labelfile) =
	(SELECT lsn, labelfile FROM pg_backup_stop(wait_for_archive => true));
RESET statement_timeout;

-- the backup history file is named after the start of the backup, with
-- its offset in the segment in eight hex digits
UPDATE backup SET history_file =
	(SELECT file_name || '.' || lpad(upper(to_hex(file_offset)), 8, '0') ||
			'.backup'
	 FROM pg_walfile_name_offset(start_lsn));

SELECT mask(line) AS backup_label
FROM backup,
	regexp_split_to_table(rtrim(labelfile, E'\n'), E'\n') WITH ORDINALITY AS l(line, n)
ORDER BY n;

SELECT starts_with(labelfile,
				   format(E'START WAL LOCATION: %s (file %s)\n',
						  start_lsn, pg_walfile_name(start_lsn)))
		AS start_is_pg_backup_start,
	substring(labelfile from E'\nCHECKPOINT LOCATION: ([0-9A-F/]+)\n')::pg_lsn
		BETWEEN start_lsn AND stop_lsn AS checkpoint_within_backup,
	start_lsn < stop_lsn AS stop_after_start
FROM backup;

-- the archive has exactly one backup history file, under that name
SELECT f = history_file AS history_file_name_is_start
FROM backup, pg_ls_dir(regress_path('archive')) AS f
WHERE f LIKE '%.backup';

CREATE TABLE backup_history AS
	SELECT pg_read_file(regress_path('archive/' || history_file)) AS contents
	FROM backup;

SELECT mask(line) AS backup_history_file
FROM backup_history,
	regexp_split_to_table(rtrim(contents, E'\n'), E'\n') WITH ORDINALITY AS l(line, n)
ORDER BY n;

-- the label's first line, the stop location, the rest of the label, then
-- the stop time and timeline
SELECT split_part(h.contents, E'\n', 1) = split_part(b.labelfile, E'\n', 1)
		AS start_as_in_label,
	split_part(h.contents, E'\n', 2) =
		format('STOP WAL LOCATION: %s (file %s)',
			   b.stop_lsn, pg_walfile_name(b.stop_lsn))
		AS stop_is_pg_backup_stop,
	h.contents = format(E'%s\n%s\n%sSTOP TIME: %s\nSTOP TIMELINE: 1\n',
						split_part(h.contents, E'\n', 1),
						split_part(h.contents, E'\n', 2),
						substr(b.labelfile, strpos(b.labelfile, E'\n') + 1),
						substring(h.contents from E'\nSTOP TIME: ([^\n]+)\n'))
		AS rest_as_in_label
FROM backup b, backup_history h;

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
