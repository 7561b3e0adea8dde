# The whole warm-standby system with real servers: a primary archiving
# atomically into a directory, and standbys made from one base backup that
# run in archive recovery (recovery.signal, no streaming) with pg_standby as
# restore_command.  It proves that:
#  1. each new segment is replayed as it arrives;
#  2. a segment copied into the archive slowly, in pieces, is handed over
#     only once it is complete;
#  3. a standby stopped while pg_standby waits resumes replay on restart,
#     and nothing promotes it;
#  4. %r cleanup keeps the archive bounded while the standby keeps every row;
#  5. a smart failover (empty trigger file) loses nothing that is in the
#     archive, even a segment still being copied, and the promoted server
#     works on timeline 2;
#  6. a fast failover ("fast" in the trigger file) ends recovery at once:
#     the very same archive contents that a smart failover replays are
#     left unreplayed, and the trigger file is truncated; a smart failover
#     gives a copy that has stalled a moment, then ends recovery without
#     it, polling meanwhile rather than spinning;
#  7. SIGUSR1 to the waiting pg_standby is a fast failover;
#  8. a second standby from the same base backup replays everything
#     archived again.
use strict;
use warnings;
use File::Basename;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since
  restored_regex read_binary switch_wal);

my $pg_standby = pg_standby_binary();

my $tempdir = PostgreSQL::Test::Utils::tempdir;

# Rows committed per round; each round's rows carry its number.
my $rows_per_round = 10;
my $round = 0;

# Segment files (plain names) in a directory, sorted.
sub archived_segments
{
	my ($dir) = @_;
	opendir(my $dh, $dir) or die "could not open \"$dir\": $!";
	my @names = sort grep { /^[0-9A-F]{24}$/ } readdir($dh);
	closedir($dh);
	return @names;
}

sub next_segment
{
	my ($name) = @_;
	my ($tli, $log, $seg) = map { hex } unpack('A8A8A8', $name);

	# 16MB segments, as initdb makes them by default
	($log, $seg) = ($log + 1, 0) if ++$seg > 0xFF;
	return sprintf('%08X%08X%08X', $tli, $log, $seg);
}

# Write bytes $from .. $from+$len-1 of $data to $path: the first piece
# creates the file under its final name, as a slow, non-atomic copy does.
sub write_piece
{
	my ($path, $data, $from, $len) = @_;
	my $mode = $from == 0 ? '>' : '>>';
	open(my $fh, $mode, $path) or die "could not open \"$path\": $!";
	binmode $fh;
	print $fh substr($data, $from, $len) or die "could not write: $!";
	close $fh or die "could not close \"$path\": $!";
	return;
}

# Put a file in place atomically: a temporary name, then a rename.
sub place_file
{
	my ($src, $dest) = @_;
	copy($src, "$dest.tmp") or die "could not copy \"$src\": $!";
	rename("$dest.tmp", $dest) or die "could not rename to \"$dest\": $!";
	return;
}

# A standby's own archive: a copy of every file archived so far.
sub copy_archive
{
	my ($from, $to) = @_;
	mkdir $to;
	opendir(my $dh, $from) or die "could not open \"$from\": $!";
	foreach my $name (readdir $dh)
	{
		next if $name !~ /^[0-9A-F]{8}(?:[0-9A-F]{16}(?:\.[0-9A-F]{8}\.backup)?|\.history)$/;
		place_file("$from/$name", "$to/$name");
	}
	closedir($dh);
	return;
}

# The archive_command of every server here: copy %p as %f into each archive
# directory named after them, atomically (a temporary name, then a rename),
# never overwriting a different file (identical content is success: the
# archiver retries).  While the file named first exists it fails, as
# archive_command = '/bin/false' does.
my $archive_script = "$tempdir/archive.sh";
append_to_file(
	$archive_script, q{#!/bin/sh
set -e
pause=$1; src=$2; name=$3
shift 3
[ ! -e "$pause" ] || exit 1
for dir
do
	if [ -e "$dir/$name" ]
	then
		cmp -s "$src" "$dir/$name"
	else
		cp "$src" "$dir/$name.tmp"
		mv "$dir/$name.tmp" "$dir/$name"
	fi
done
});
my $pause_file = "$tempdir/archiving_paused";
my $never = "$tempdir/never_exists";

sub archive_command
{
	my ($pause, @dirs) = @_;
	return "archive_command = 'sh \"$archive_script\" \"$pause\" \"%p\" \"%f\""
	  . join('', map { " \"$_\"" } @dirs) . "'";
}

# The primary archives into two directories: standby A's (which A's %r
# cleanup prunes) and one that keeps everything, from which the later
# standbys' archives are copied.
my $archive_a = "$tempdir/archive_a";
my $archive_all = "$tempdir/archive_all";
mkdir $archive_a;
mkdir $archive_all;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, has_archiving => 1);
$primary->append_conf('postgresql.conf',
	archive_command($pause_file, $archive_a, $archive_all));
$primary->start;
$primary->safe_psql('postgres',
	'CREATE TABLE t (round int NOT NULL, i int NOT NULL)');
$primary->backup('base');

my ($backup_start_segment) =
  slurp_file($primary->backup_dir . '/base/backup_label') =~
  /^START WAL LOCATION: .* \(file ([0-9A-F]{24})\)$/m;
ok(defined $backup_start_segment, 'backup label names its first segment');

# Commit one round of rows, in its own transaction, and return its number.
sub commit_round
{
	my $n = ++$round;
	$primary->safe_psql('postgres',
		"INSERT INTO t SELECT $n, g FROM generate_series(1, $rows_per_round) g"
	);
	return $n;
}

sub wait_archived
{
	my ($segment) = @_;
	wait_until(sub { -f "$archive_all/$segment" }, "$segment to be archived")
	  or die "$segment was not archived";
	return;
}

# While archiving is paused, a finished segment waits in pg_wal.
sub wait_ready
{
	my ($segment) = @_;
	my $ready =
	  $primary->data_dir . "/pg_wal/archive_status/$segment.ready";
	wait_until(sub { -f $ready }, "$segment to be ready for archiving")
	  or die "$segment was not finished";
	return $primary->data_dir . "/pg_wal/$segment";
}

sub pause_archiving
{
	append_to_file($pause_file, '');
	return;
}

# Resume, and wake the archiver, which sleeps after repeated failures.
sub resume_archiving
{
	unlink $pause_file or die "could not remove \"$pause_file\": $!";
	$primary->reload;
	return;
}

sub rows_of_round
{
	my ($node, $n) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE round = $n");
}

sub wait_for_round
{
	my ($node, $n) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = $rows_per_round FROM t WHERE round = $n");
}

my $table_summary =
  "SELECT string_agg(round || ':' || n, ',' ORDER BY round) FROM "
  . "(SELECT round, count(*) AS n FROM t GROUP BY round) s";

# A standby of the primary in archive recovery, with pg_standby reading
# $archive and a trigger file of its own.  -d makes pg_standby log each
# step, which is what the tests wait for; recovery_prefetch must be off in
# archive recovery, where a failed read-ahead request would end recovery.
sub make_standby
{
	my ($name, $archive, %params) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $trigger = "$tempdir/trigger_$name";

	$node->init_from_backup($primary, 'base');
	$node->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" -d -t "$trigger" -s 0.2 "$archive" %f %p %r'
recovery_prefetch = off
hot_standby = on
));
	# Not the primary's archive_command, which the copy inherited.
	if (defined $params{own_archive})
	{
		$node->append_conf('postgresql.conf',
			archive_command($never, $params{own_archive}));
	}
	else
	{
		$node->append_conf('postgresql.conf', 'archive_mode = off');
	}
	$node->set_recovery_mode;
	return ($node, $trigger);
}

# The pg_standby processes (not the shell around them) whose command line
# contains every one of @words.
sub pg_standby_pids
{
	my (@words) = @_;
	my @pids;

	foreach my $dir (glob('/proc/[0-9]*'))
	{
		my ($comm, $cmdline);
		open(my $fh, '<', "$dir/comm") or next;
		$comm = <$fh>;
		close $fh;
		next unless defined $comm && $comm eq "pg_standby\n";
		open($fh, '<', "$dir/cmdline") or next;
		$cmdline = do { local $/; <$fh> };
		close $fh;
		next unless defined $cmdline;
		push @pids, basename($dir)
		  unless grep { index($cmdline, $_) < 0 } @words;
	}
	return @pids;
}

sub waiting_regex
{
	my ($archive, $segment) = @_;
	return qr/pg_standby: waiting for "\Q$archive\/$segment\E"/;
}

sub incomplete_regex
{
	my ($archive, $segment, $size) = @_;
	return
	  qr/waiting for "\Q$archive\/$segment\E"\n[^\n]*detail: The file has $size of its \d+ bytes so far\./;
}

# Ending recovery shows in the log as one of these.
my $promotion_regex = qr/selected new timeline ID|archive recovery complete/;

###########################################################################
# Standby A: the classic warm standby, fed live by the primary's archiving.
###########################################################################
my $a_own_archive = "$tempdir/archive_a_promoted";
mkdir $a_own_archive;
my ($standby_a, $trigger_a) =
  make_standby('standby_a', $archive_a, own_archive => $a_own_archive);
$standby_a->start;

###
### 1. Each new segment is replayed as it arrives.
###
for my $i (1 .. 3)
{
	my $offset = log_position($standby_a);
	my $n = commit_round();
	my $segment = switch_wal($primary);

	ok(wait_for_round($standby_a, $n),
		"round $n: rows replayed once segment $segment is archived");
	ok($standby_a->log_contains(restored_regex($segment), $offset),
		"round $n: $segment restored by pg_standby");
}
is($standby_a->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'standby A is still in recovery');

###
### 2. A segment copied slowly, in pieces, is never handed over early.
###
{
	pause_archiving();
	my $n = commit_round();
	my $segment = switch_wal($primary);
	my $data = read_binary(wait_ready($segment));
	my $size = length($data);
	my $target = "$archive_a/$segment";
	my $offset = log_position($standby_a);

	# pg_standby is waiting for exactly this segment
	$standby_a->wait_for_log(waiting_regex($archive_a, $segment), 0);

	my $first = 1024 * 1024 + 100;
	write_piece($target, $data, 0, $first);
	$standby_a->wait_for_log(incomplete_regex($archive_a, $segment, $first),
		$offset);

	my $second = $size / 2 + 4321;
	write_piece($target, $data, $first, $second - $first);
	$standby_a->wait_for_log(
		incomplete_regex($archive_a, $segment, $second), $offset);

	ok( !$standby_a->log_contains(restored_regex($segment), $offset),
		'segment in pieces: not restored while incomplete');
	is(rows_of_round($standby_a, $n),
		0, 'segment in pieces: its rows are not visible while incomplete');

	write_piece($target, $data, $second, $size - $second);
	ok(wait_for_round($standby_a, $n),
		'segment in pieces: rows replayed once the file is complete');

	my $log = log_since($standby_a, $offset);
	ok($log =~ restored_regex($segment),
		'segment in pieces: restored once complete');
	unlike(
		$log,
		qr/could not restore file|wrong size|FATAL|PANIC/,
		'segment in pieces: no error and no refusal in the log');

	resume_archiving();
}

###
### 3. A restart while pg_standby waits resumes replay; nothing promotes.
###
{
	my $offset = log_position($standby_a);
	my $n = commit_round();
	my $segment = switch_wal($primary);

	ok(wait_for_round($standby_a, $n), 'before restart: rows replayed');
	my $waiting_for = next_segment($segment);
	$standby_a->wait_for_log(waiting_regex($archive_a, $waiting_for),
		$offset);
	my @pids = pg_standby_pids($archive_a, $waiting_for);
	is(scalar(@pids), 1, 'before restart: one pg_standby waits');

	$standby_a->stop('fast');
	ok(wait_until(sub { !kill(0, @pids) }, 'pg_standby to exit'),
		'stop: the waiting pg_standby is gone');

	my $restart_offset = log_position($standby_a);
	$standby_a->start;
	$standby_a->wait_for_log(waiting_regex($archive_a, $waiting_for),
		$restart_offset);
	is($standby_a->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', 'after restart: still in recovery');

	$n = commit_round();
	$segment = switch_wal($primary);
	ok(wait_for_round($standby_a, $n),
		'after restart: replay resumes with the next segment');
	is($standby_a->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', 'after restart: still in recovery after more replay');

	my $log = log_since($standby_a, $offset);
	unlike($log, $promotion_regex, 'restart: recovery never ended');
	ok(!-e $standby_a->data_dir . '/promote',
		'restart: no promotion requested');
	is($standby_a->safe_psql('postgres',
		'SELECT timeline_id FROM pg_control_checkpoint()'),
		'1', 'restart: still on timeline 1');
}

###
### 4. %r cleanup keeps the archive bounded; the standby keeps every row.
###
{
	my $offset = log_position($standby_a);
	my @counts;
	my $switches = 12;

	for my $i (1 .. $switches)
	{
		my $n = commit_round();

		# a checkpoint record for the standby to make a restartpoint at
		$primary->safe_psql('postgres', 'CHECKPOINT');
		my $segment = switch_wal($primary);
		wait_for_round($standby_a, $n)
		  or die "round $n was not replayed";
		$standby_a->safe_psql('postgres', 'CHECKPOINT');

		push @counts, scalar(archived_segments($archive_a));
	}
	note("segments in A's archive after each round: @counts");

	# The first rounds remove what piled up before any restartpoint.
	my ($most) = sort { $b <=> $a } @counts[3 .. $#counts];

	my @left = archived_segments($archive_a);
	my @all = archived_segments($archive_all);
	note("archive of standby A after cleanup: @left");
	cmp_ok(scalar(@all), '>=', $switches + 5,
		'cleanup: the primary archived every segment');
	cmp_ok($most, '<=', 4,
		"cleanup: at most 4 segments in the standby's archive (most: $most)");
	ok(!-e "$archive_a/$backup_start_segment",
		'cleanup: the base backup\'s first segment is gone from A\'s archive');
	ok(-e "$archive_all/$backup_start_segment",
		'cleanup: the other archive directory is untouched');
	ok($standby_a->log_contains(qr/pg_standby: removed \d+ files older than/,
			$offset),
		'cleanup: pg_standby reported its removals');
	is( $standby_a->safe_psql('postgres', $table_summary),
		$primary->safe_psql('postgres', $table_summary),
		'cleanup: the standby has every row of the primary');
}

###
### 5. Smart failover: everything in the archive is replayed, even a
###    segment still being copied when the trigger appears.
###
my ($smart_round_1, $smart_round_2);
{
	pause_archiving();
	$smart_round_1 = commit_round();
	my $segment_1 = switch_wal($primary);
	$smart_round_2 = commit_round();
	my $segment_2 = switch_wal($primary);
	my $data = read_binary(wait_ready($segment_1));
	my $offset = log_position($standby_a);

	$standby_a->wait_for_log(waiting_regex($archive_a, $segment_1), 0);
	my $first = 1024 * 1024;
	write_piece("$archive_a/$segment_1", $data, 0, $first);
	$standby_a->wait_for_log(incomplete_regex($archive_a, $segment_1, $first),
		$offset);
	place_file(wait_ready($segment_2), "$archive_a/$segment_2");

	# The trigger appears while the first segment is still being copied.
	append_to_file($trigger_a, '');
	write_piece("$archive_a/$segment_1", $data, $first,
		length($data) - $first);

	ok( $standby_a->poll_query_until('postgres',
			'SELECT NOT pg_is_in_recovery()'),
		'smart failover: standby A promoted');
	my $log = log_since($standby_a, $offset);
	like(
		$log,
		qr/pg_standby: trigger file "\Q$trigger_a\E" found: smart failover/,
		'smart failover: pg_standby reported it');
	ok($log =~ restored_regex($segment_1) && $log =~ restored_regex($segment_2),
		'smart failover: both segments in the archive restored');
	is(rows_of_round($standby_a, $smart_round_1),
		$rows_per_round, 'smart failover: rows of the segment being copied');
	is(rows_of_round($standby_a, $smart_round_2),
		$rows_per_round, 'smart failover: rows of the last archived segment');
	is( $standby_a->safe_psql('postgres', $table_summary),
		$primary->safe_psql('postgres', $table_summary),
		'smart failover: nothing archived was lost');

	is($standby_a->safe_psql('postgres',
		'SELECT timeline_id FROM pg_control_checkpoint()'),
		'2', 'smart failover: new timeline 2');
	$standby_a->safe_psql('postgres', 'INSERT INTO t VALUES (-1, 1)');
	is($standby_a->safe_psql('postgres', 'SELECT count(*) FROM t WHERE round = -1'),
		'1', 'smart failover: the promoted server accepts writes');
	ok( wait_until(sub { -f "$a_own_archive/00000002.history" },
			'the timeline history file to be archived'),
		'smart failover: 00000002.history in the promoted server\'s archive');

	$standby_a->stop;
	resume_archiving();
	wait_archived($segment_2);
}

###########################################################################
# Standby B: the same base backup again, with a fresh trigger path.
###########################################################################

###
### 8. Everything archived is replayed again from the same base backup.
###
my $archive_b = "$tempdir/archive_b";
copy_archive($archive_all, $archive_b);
my ($standby_b, $trigger_b) = make_standby('standby_b', $archive_b);
$standby_b->start;
{
	my $expected = $primary->safe_psql('postgres', $table_summary);

	ok( $standby_b->poll_query_until('postgres', $table_summary, $expected),
		'same base backup: the second standby replays every row');
	ok($standby_b->log_contains(restored_regex($backup_start_segment), 0),
		'same base backup: replay started at the backup\'s first segment');
	is($standby_b->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', 'same base backup: still in recovery');
}

###
### 7. SIGUSR1 to the waiting pg_standby is a fast failover.
###
{
	my $waiting_for = next_segment((archived_segments($archive_b))[-1]);
	my $offset = log_position($standby_b);

	$standby_b->wait_for_log(waiting_regex($archive_b, $waiting_for), 0);
	my @pids = pg_standby_pids($archive_b, $waiting_for);
	is(scalar(@pids), 1, 'SIGUSR1: one pg_standby waits');
	kill('USR1', @pids);

	ok( $standby_b->poll_query_until('postgres',
			'SELECT NOT pg_is_in_recovery()'),
		'SIGUSR1: standby B promoted');
	like(
		log_since($standby_b, $offset),
		qr/pg_standby: SIGUSR1 received: fast failover/,
		'SIGUSR1: pg_standby reported it');
	ok(!-e $trigger_b, 'SIGUSR1: no trigger file involved');
	is( $standby_b->safe_psql('postgres', $table_summary),
		$primary->safe_psql('postgres', $table_summary),
		'SIGUSR1: every row archived before the signal');
	$standby_b->stop;
}

###########################################################################
# Standby C: the smart failover's situation again, with a fast trigger.
###########################################################################

###
### 6. Fast failover ends recovery at once.
###
my $archive_c = "$tempdir/archive_c";
copy_archive($archive_all, $archive_c);
my ($standby_c, $trigger_c) = make_standby('standby_c', $archive_c);
$standby_c->start;
{
	ok( $standby_c->poll_query_until(
			'postgres', $table_summary,
			$primary->safe_psql('postgres', $table_summary)),
		'fast failover: standby C caught up');

	pause_archiving();
	my $n1 = commit_round();
	my $segment_1 = switch_wal($primary);
	my $n2 = commit_round();
	my $segment_2 = switch_wal($primary);
	my $data = read_binary(wait_ready($segment_1));
	my $offset = log_position($standby_c);

	$standby_c->wait_for_log(waiting_regex($archive_c, $segment_1), 0);
	my $first = 1024 * 1024;
	write_piece("$archive_c/$segment_1", $data, 0, $first);
	$standby_c->wait_for_log(incomplete_regex($archive_c, $segment_1, $first),
		$offset);
	place_file(wait_ready($segment_2), "$archive_c/$segment_2");

	# Same archive contents as at the smart failover above.
	append_to_file($trigger_c, 'fast');
	write_piece("$archive_c/$segment_1", $data, $first,
		length($data) - $first);

	ok( $standby_c->poll_query_until('postgres',
			'SELECT NOT pg_is_in_recovery()'),
		'fast failover: standby C promoted');
	my $log = log_since($standby_c, $offset);
	like(
		$log,
		qr/pg_standby: trigger file "\Q$trigger_c\E" found: fast failover/,
		'fast failover: pg_standby reported it');
	ok(!($log =~ restored_regex($segment_1) || $log =~ restored_regex($segment_2)),
		'fast failover: neither segment in the archive restored');
	is(rows_of_round($standby_c, $n1) + rows_of_round($standby_c, $n2),
		0, 'fast failover: fewer rows than the smart failover replayed');
	ok(-e $trigger_c && -z $trigger_c,
		'fast failover: trigger file truncated to empty');
	is($standby_c->safe_psql('postgres',
		'SELECT timeline_id FROM pg_control_checkpoint()'),
		'2', 'fast failover: new timeline 2');

	$standby_c->stop;
	resume_archiving();
	wait_archived($segment_2);
}

###########################################################################
# Standby D: a smart failover while a copy into the archive has stalled.
###########################################################################
my $archive_d = "$tempdir/archive_d";
copy_archive($archive_all, $archive_d);
my ($standby_d, $trigger_d) = make_standby('standby_d', $archive_d);
$standby_d->start;
{
	ok( $standby_d->poll_query_until(
			'postgres', $table_summary,
			$primary->safe_psql('postgres', $table_summary)),
		'stalled copy: standby D caught up');

	pause_archiving();
	my $n = commit_round();
	my $segment = switch_wal($primary);
	my $data = read_binary(wait_ready($segment));
	my $first = 1024 * 1024;

	$standby_d->wait_for_log(waiting_regex($archive_d, $segment), 0);
	write_piece("$archive_d/$segment", $data, 0, $first);
	$standby_d->wait_for_log(incomplete_regex($archive_d, $segment, $first),
		0);

	my $offset = log_position($standby_d);
	append_to_file($trigger_d, '');
	ok( $standby_d->poll_query_until('postgres',
			'SELECT NOT pg_is_in_recovery()'),
		'stalled copy: standby D promoted');

	my $log = log_since($standby_d, $offset);
	like(
		$log,
		qr/pg_standby: trigger file "\Q$trigger_d\E" found: smart failover/,
		'stalled copy: smart failover reported');
	unlike($log, restored_regex($segment),
		'stalled copy: the incomplete segment was not handed over');
	is(rows_of_round($standby_d, $n), 0,
		'stalled copy: its rows are not there');

	# With -d, pg_standby logs each look at the file.  Over the two
	# seconds it gives a stalled copy, a wait that polls looks a few dozen
	# times at most; one that spins looks thousands of times.
	my $looks = () = $log =~ /${\incomplete_regex($archive_d, $segment, $first)}/g;
	note("looks at the stalled copy after the trigger: $looks");
	cmp_ok($looks, '<=', 60,
		'stalled copy: pg_standby polls, it does not spin');

	$standby_d->stop;
	resume_archiving();
}

done_testing();
