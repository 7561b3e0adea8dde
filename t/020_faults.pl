
# Copyright (c) 2025, PostgreSQL Global Development Group

# Faults around a warm standby in archive recovery (recovery.signal,
# recovery_prefetch = off, no streaming), where any "not available" answer
# from restore_command would end recovery and promote: a wrong answer shows
# as a promotion or as lost rows.  With pg_standby as restore_command, it
# proves that the standby never promotes by accident and loses nothing:
#  1. a copy of another segment under the next segment's name,
#  2. a half-written segment that is later rewritten whole,
#  3. garbage of full segment size, and a file whose first page is right
#     but whose other pages are garbage,
#  4. a real segment of another cluster under the right name,
#     are each refused with one error naming the file (the half file is
#     waited for), the standby stays in recovery, and the correct file,
#     once in place, is replayed;
#  5. an archive directory that is away for a while is reported once and
#     waited for; replay resumes when it is back;
#  6. a pg_wal that cannot be written is retried with back-off (arrivals in
#     the archive do not use up the retries); with enough retries replay
#     resumes, with too few the server stops (FATAL, still in archive
#     recovery) instead of promoting;
#  7. a standby stopped (fast, then immediate) while pg_standby waits leaves
#     no pg_standby behind and resumes replay when started again;
#  8. a pg_standby killed by SIGKILL stops the server (FATAL) instead of
#     promoting it; after a restart replay resumes and a temporary file
#     left in pg_wal is gone;
#  9. a primary killed while a segment is half copied into the archive:
#     the half file is not taken, and the whole one is replayed;
# 10. a smart failover through the trigger file keeps every row that was
#     committed and archived.
# In archive recovery the server asks once: that pg_standby has not answered
# shows as its looking again at the same segment after the fault, before
# the server's state is checked.
use strict;
use warnings;
use File::Basename;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since
  restored_regex switch_wal);
use Time::HiRes qw(time usleep);

my $test_start = time();

my $pg_standby = pg_standby_binary();

my $tempdir = PostgreSQL::Test::Utils::tempdir;

sub read_binary
{
	my ($path, $len) = @_;
	open(my $fh, '<:raw', $path) or die "could not open \"$path\": $!";
	my $data;
	if (defined $len)
	{
		read($fh, $data, $len) == $len or die "could not read \"$path\": $!";
	}
	else
	{
		local $/;
		$data = <$fh>;
	}
	close $fh;
	return $data;
}

# Write $data to $path in place, as a plain, non-atomic copy does.
sub write_in_place
{
	my ($path, $data) = @_;
	open(my $fh, '>:raw', $path) or die "could not open \"$path\": $!";
	print $fh $data or die "could not write \"$path\": $!";
	close $fh or die "could not close \"$path\": $!";
	return;
}

# Put $data at $path atomically: written elsewhere, renamed over it.
sub place_data
{
	my ($path, $data) = @_;
	write_in_place("$path.placing", $data);
	rename("$path.placing", $path) or die "could not rename to \"$path\": $!";
	return;
}

# Change a file's times: an event that makes pg_standby look again.
sub touch_file
{
	my ($path) = @_;
	utime(undef, undef, $path) or die "could not touch \"$path\": $!";
	return;
}

sub next_segment
{
	my ($name) = @_;
	my ($tli, $log, $seg) = map { hex } unpack('A8A8A8', $name);

	# 16MB segments, as initdb makes them by default
	($log, $seg) = ($log + 1, 0) if ++$seg > 0xFF;
	return sprintf('%08X%08X%08X', $tli, $log, $seg);
}

sub count_matches
{
	my ($text, $regex) = @_;
	my $count = () = $text =~ /$regex/g;
	return $count;
}

# Processes whose command line contains every one of @words; with $comm,
# only those whose process name is $comm.
sub processes
{
	my ($comm, @words) = @_;
	my @pids;

	foreach my $dir (glob('/proc/[0-9]*'))
	{
		my $pid = basename($dir);
		next if $pid == $$;
		if (defined $comm)
		{
			open(my $fh, '<', "$dir/comm") or next;
			my $name = <$fh>;
			close $fh;
			next unless defined $name && $name eq "$comm\n";
		}
		open(my $fh, '<', "$dir/cmdline") or next;
		my $cmdline = do { local $/; <$fh> };
		close $fh;
		next unless defined $cmdline && $cmdline ne '';
		push @pids, $pid unless grep { index($cmdline, $_) < 0 } @words;
	}
	return @pids;
}

sub pg_standby_pids
{
	return processes('pg_standby', @_);
}

# The archive_command of the primary: copy %p as %f into each archive
# directory named, atomically (a temporary name, then a hard link, which
# never replaces an existing file); a file already there with the same
# contents is success (the archiver retries after a crash), different
# contents an error.  While the pause file exists it fails, as
# archive_command = '/bin/false' would: the archiver keeps the segment and
# retries it.
my $archive_script = "$tempdir/archive.sh";
append_to_file(
	$archive_script, q{#!/bin/sh
set -e
pause=$1; src=$2; name=$3
shift 3
[ ! -e "$pause" ] || exit 1
for dir
do
	if [ ! -e "$dir/$name" ]
	then
		tmp="$dir/.$name.$$"
		cp "$src" "$tmp"
		ln "$tmp" "$dir/$name" || { rm -f "$tmp"; exit 1; }
		rm -f "$tmp"
	fi
	cmp -s "$src" "$dir/$name"
done
});
my $pause_file = "$tempdir/archiving_paused";

# The standby's archive, which its %r cleanup prunes, and one that keeps
# everything the primary archived.
my $archive = "$tempdir/archive_faults";
my $archive_keep = "$tempdir/archive_keep";
mkdir $archive;
mkdir $archive_keep;

# Any process the standby's restore_command started (pg_standby, or the
# shell around it): only they have the archive and the server's restore
# path on their command line.
sub restore_command_processes
{
	return processes(undef, $archive, 'pg_wal/RECOVERY');
}

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, has_archiving => 1);
$primary->append_conf('postgresql.conf',
	"archive_command = 'sh \"$archive_script\" \"$pause_file\" \"%p\" \"%f\" \"$archive\" \"$archive_keep\"'"
);
$primary->start;
$primary->safe_psql('postgres',
	'CREATE TABLE t (round int NOT NULL, i int NOT NULL)');
$primary->backup('base');

# Rows committed per round; each round's rows carry its number.
my $rows_per_round = 10;
my $round = 0;

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
	wait_until(sub { -f "$archive_keep/$segment" },
		"$segment to be archived")
	  or die "$segment was not archived";
	return;
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

# With archiving paused: commit a round, finish its segment, and return
# the round, the segment's name and its contents, read from the primary's
# pg_wal where it waits to be archived.
sub unarchived_round
{
	pause_archiving();
	my $n = commit_round();
	my $segment = switch_wal($primary);
	my $ready =
	  $primary->data_dir . "/pg_wal/archive_status/$segment.ready";
	wait_until(sub { -f $ready }, "$segment to be ready for archiving")
	  or die "$segment was not finished";
	return ($n, $segment,
		read_binary($primary->data_dir . "/pg_wal/$segment"));
}

# The fault is over: the primary archives the segment (the archive already
# holds the same contents, which the archive_command accepts).
sub archive_again
{
	my ($segment) = @_;
	resume_archiving();
	wait_archived($segment);
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

sub in_recovery
{
	my ($node) = @_;
	return $node->safe_psql('postgres', 'SELECT pg_is_in_recovery()');
}

my $table_summary =
  "SELECT string_agg(round || ':' || n, ',' ORDER BY round) FROM "
  . "(SELECT round, count(*) AS n FROM t GROUP BY round) s";

###########################################################################
# The standby, in archive recovery: every "not available" would promote it.
###########################################################################
my $standby = PostgreSQL::Test::Cluster->new('standby');
my $trigger = "$tempdir/trigger";
my $standby_wal = $standby->data_dir . '/pg_wal';
my $temporary_file = "$standby_wal/RECOVERYXLOG.pg_standby.tmp";

# -d: pg_standby says when it sees a file that is not complete yet.
sub set_restore_command
{
	my ($options) = @_;
	$standby->append_conf('postgresql.conf',
		"restore_command = '\"$pg_standby\" -d $options -t \"$trigger\" -s 0.2 \"$archive\" %f %p %r'"
	);
	return;
}

$standby->init_from_backup($primary, 'base');
$standby->append_conf(
	'postgresql.conf', q(
recovery_prefetch = off
hot_standby = on
archive_mode = off
));
set_restore_command('-r 100');
$standby->set_recovery_mode;
$standby->start;

sub cannot_restore_regex
{
	my ($segment, $reason) = @_;
	$reason = qr/.*/ unless defined $reason;
	return qr/pg_standby: error: could not restore file "\Q$archive\/$segment\E"\npg_standby: detail: $reason/;
}

# Wait until pg_standby waits for $segment (one process with it on its
# command line), and return its process ID, or undef.
sub waiting_pg_standby
{
	my ($segment, @words) = @_;
	my @pids;
	wait_until(
		sub {
			@pids = pg_standby_pids($archive, $segment, @words);
			return @pids == 1;
		},
		"pg_standby to wait for $segment");
	return @pids == 1 ? $pids[0] : undef;
}

# The pg_standby that was waiting has not answered the server: still alive
# after what it logged.  (One that answers exits right after its message.)
sub still_waits
{
	my ($pid) = @_;
	return defined $pid && kill(0, $pid) == 1;
}

# The server stopped by itself: wait until its postmaster is gone, and let
# the test framework know.
sub wait_server_gone
{
	my ($node) = @_;
	my $pidfile = $node->data_dir . '/postmaster.pid';
	my $gone = wait_until(sub { !-e $pidfile }, 'the server to stop');
	$node->stop('fast', fail_ok => 1);
	return $gone;
}

sub cluster_state
{
	my ($node) = @_;
	my ($stdout) = run_command([ 'pg_controldata', '-D', $node->data_dir ]);
	my ($state) = $stdout =~ /^Database cluster state:\s+(.*)$/m;
	return $state // '';
}

# Ending recovery shows in the log as one of these.
my $promotion_regex = qr/selected new timeline ID|archive recovery complete/;

# pg_standby, waiting for $segment, has looked at it once more since
# $offset: it logs each look at a file shorter than a page (with -d).  Had
# it answered the server before, the server would not have asked again:
# in archive recovery it would have ended recovery.
sub wait_for_another_look
{
	my ($segment, $bytes, $offset) = @_;
	$standby->wait_for_log(
		qr/waiting for "\Q$archive\/$segment\E"\n[^\n]*detail: The file has (?:only $bytes|$bytes of its \d+) bytes so far\./,
		$offset);
	return;
}

# A fault where the archive holds a file that is not the segment asked
# for, and pg_standby has logged that it saw it.  pg_standby must go on
# waiting, the standby must stay in recovery without the round, and must
# replay it once the correct file replaces the wrong one.
sub check_refused_then_replayed
{
	my ($what, $pid, $n, $segment, $data, $offset) = @_;

	# The beginning of the right file, as a copy that has just begun.
	my $look = log_position($standby);
	place_data("$archive/$segment", substr($data, 0, 100));
	wait_for_another_look($segment, 100, $look);

	ok(still_waits($pid), "$what: pg_standby goes on waiting");
	is(in_recovery($standby), 't', "$what: standby still in recovery");
	is(rows_of_round($standby, $n), 0, "$what: the round is not replayed");
	ok(!$standby->log_contains(restored_regex($segment), $offset),
		"$what: the file was not handed to the server");
	ok(!-e $temporary_file, "$what: no temporary file left in pg_wal");

	place_data("$archive/$segment", $data);
	ok(wait_for_round($standby, $n),
		"$what: the correct file, once in place, is replayed");
	ok(!$standby->log_contains($promotion_regex, $offset),
		"$what: recovery never ended");
	return;
}

# Catch up, so that the standby waits for the next segment.
{
	my $n = commit_round();
	my $segment = switch_wal($primary);
	ok(wait_for_round($standby, $n), 'standby replays archived WAL');
	ok(defined waiting_pg_standby(next_segment($segment)),
		'pg_standby waits for the next segment');
}

###
### 1. Another segment, renamed to the name of the next.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();
	my $pid = waiting_pg_standby($segment);
	my @kept = sort grep { /^[0-9A-F]{24}$/ } slurp_dir($archive_keep);
	my $other = $kept[-1];

	place_data("$archive/$segment", read_binary("$archive_keep/$other"));
	$standby->wait_for_log(
		cannot_restore_regex($segment, qr/The page address is [0-9A-F]+\/[0-9A-F]+, but the file name says [0-9A-F]+\/[0-9A-F]+\./),
		$offset);
	check_refused_then_replayed("$other renamed to $segment", $pid, $n,
		$segment, $data, $offset);
	archive_again($segment);
}

###
### 2. Half a segment, written in place; later the whole file, in place.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();
	my $half = length($data) / 2;
	my $pid = waiting_pg_standby($segment);

	write_in_place("$archive/$segment", substr($data, 0, $half));
	wait_for_another_look($segment, $half, $offset);
	touch_file("$archive/$segment");
	wait_for_another_look($segment, $half, log_position($standby));
	ok(still_waits($pid), 'half segment: pg_standby goes on waiting');
	ok(!$standby->log_contains(cannot_restore_regex($segment), $offset),
		'half segment: waited for, not refused');
	is(in_recovery($standby), 't', 'half segment: standby still in recovery');
	is(rows_of_round($standby, $n), 0, 'half segment: round not replayed');
	ok(!$standby->log_contains(restored_regex($segment), $offset),
		'half segment: not handed to the server');

	write_in_place("$archive/$segment", $data);
	ok(wait_for_round($standby, $n),
		'half segment: replayed once the whole file is written');
	archive_again($segment);
}

###
### 3. Garbage of full segment size; then a right first page with garbage
###    after it.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();
	my $garbage = read_binary('/dev/urandom', length($data));
	my $pid = waiting_pg_standby($segment);

	place_data("$archive/$segment", $garbage);
	$standby->wait_for_log(cannot_restore_regex($segment), $offset);
	is(in_recovery($standby), 't', 'garbage: standby still in recovery');

	# One error per problem: the next one is logged when the file changes.
	my $offset2 = log_position($standby);
	place_data("$archive/$segment",
		substr($data, 0, 8192) . substr($garbage, 8192));
	$standby->wait_for_log(
		cannot_restore_regex($segment,
			qr/The page header at offset 8192 is not that of the next page of this segment\./),
		$offset2);
	is(count_matches(log_since($standby, $offset), cannot_restore_regex($segment)),
		2, 'garbage: one error for each of the two wrong files');
	check_refused_then_replayed('garbage', $pid, $n, $segment, $data,
		$offset);
	archive_again($segment);
}

###
### 4. A real segment of another cluster, under the very name the standby
###    waits for.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();
	my $pid = waiting_pg_standby($segment);

	# Another cluster that archives, moved to the same WAL position; made
	# by initdb, not copied from the initdb template that the tests in a
	# source tree use, whose system identifier the primary has.
	my $other = PostgreSQL::Test::Cluster->new('other');
	$other->init(allows_streaming => 1, has_archiving => 1, force_initdb => 1);
	command_ok([ 'pg_resetwal', '-l', $segment, '-D', $other->data_dir ],
		'other cluster: WAL moved to the segment the standby waits for');
	$other->start;
	$other->safe_psql('postgres',
		'CREATE TABLE other_t AS SELECT 1 AS a; SELECT pg_switch_wal()');
	$other->poll_query_until('postgres',
		"SELECT last_archived_wal = '$segment' FROM pg_stat_archiver")
	  or die "the other cluster did not archive $segment";
	my $foreign = read_binary($other->archive_dir . "/$segment");
	$other->stop;
	ok(length($foreign) == length($data) && $foreign ne $data,
		'other cluster: a different segment of the same name and size');

	place_data("$archive/$segment", $foreign);
	$standby->wait_for_log(
		cannot_restore_regex($segment, qr/The WAL file's system identifier is \d+, but this server's is \d+\./),
		$offset);
	check_refused_then_replayed('other cluster', $pid, $n, $segment, $data,
		$offset);
	archive_again($segment);
}

###
### 5. The archive directory is away for a while.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();
	my $away = "$archive.away";

	my $pid = waiting_pg_standby($segment);
	ok(defined $pid, 'archive away: pg_standby waits');
	rename($archive, $away) or die "could not rename \"$archive\": $!";
	my $missing_regex = cannot_restore_regex($segment,
		qr/Could not access archive directory "\Q$archive\E": No such file or directory\./
	);
	$standby->wait_for_log($missing_regex, $offset);

	# Not a wait for anything: pg_standby looks again every -s (0.2)
	# seconds, and these two seconds, ten looks, are its chance to log the
	# problem again.  That it keeps looking shows below, when the archive
	# comes back.
	usleep(2_000_000);
	is(count_matches(log_since($standby, $offset), $missing_regex),
		1, 'archive away: the problem is logged once');
	ok(still_waits($pid), 'archive away: pg_standby goes on waiting');
	is(in_recovery($standby), 't', 'archive away: standby still in recovery');
	is(rows_of_round($standby, $n), 0, 'archive away: round not replayed');

	place_data("$away/$segment", $data);
	rename($away, $archive) or die "could not rename \"$away\": $!";
	ok(wait_for_round($standby, $n),
		'archive back: replay resumes with the segment it holds');
	ok(!$standby->log_contains($promotion_regex, $offset),
		'archive away: recovery never ended');
	archive_again($segment);
}

###
### 6. pg_wal cannot be written: retried with back-off, not promoted.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();
	my $attempt_regex = sub {
		my ($k) = @_;
		return
		  qr/could not restore file "\Q$archive\/$segment\E" \(attempt $k of 101\)\npg_standby: detail: Could not create file "pg_wal\/RECOVERYXLOG\.pg_standby\.tmp": Permission denied\./;
	};

	my $pid = waiting_pg_standby($segment);
	ok(defined $pid, 'pg_wal read-only: pg_standby waits');
	chmod(0500, $standby_wal) or die "could not chmod \"$standby_wal\": $!";
	place_data("$archive/$segment", $data);
	$standby->wait_for_log($attempt_regex->(1), $offset);
	my $first_failure = time();

	# Files arriving in the archive while the copy keeps failing must not
	# make pg_standby retry at once: the back-off is what keeps -r tries
	# from being used up in a moment.
	for my $i (1 .. 25)
	{
		append_to_file("$archive/unrelated.$i", 'x');
		usleep(20_000);
	}
	my $elapsed = time() - $first_failure;
	my $attempts =
	  count_matches(log_since($standby, $offset), qr/\(attempt \d+ of 101\)/);

	# attempt k comes 0.2 * (1 + ... + (k - 1)) seconds after the first,
	# which came a little before it was seen in the log
	my $allowed = 1;
	$allowed++ while 0.1 * $allowed * ($allowed + 1) <= $elapsed + 0.5;
	cmp_ok($attempts, '<=', $allowed,
		sprintf('pg_wal read-only: back-off kept (%d attempts in %.2f s)',
			$attempts, $elapsed));
	unlink glob("$archive/unrelated.*");

	# A second attempt: the first failure was not an answer to the server.
	$standby->wait_for_log($attempt_regex->(2), $offset);
	ok(still_waits($pid), 'pg_wal read-only: pg_standby goes on trying');

	is(in_recovery($standby), 't', 'pg_wal read-only: standby still in recovery');
	is(rows_of_round($standby, $n), 0, 'pg_wal read-only: round not replayed');

	chmod(0700, $standby_wal) or die "could not chmod \"$standby_wal\": $!";
	ok(wait_for_round($standby, $n),
		'pg_wal writable again: the segment is restored and replayed');
	my $log = log_since($standby, $offset);
	unlike($log, qr/giving up/, 'pg_wal read-only: pg_standby did not give up');
	unlike($log, $promotion_regex, 'pg_wal read-only: recovery never ended');
	archive_again($segment);
}

###
### 7. The standby stopped while pg_standby waits: fast, then immediate.
###
foreach my $mode ('fast', 'immediate')
{
	my $offset = log_position($standby);
	my $n = commit_round();
	my $segment = switch_wal($primary);
	ok(wait_for_round($standby, $n), "stop $mode: rows replayed");

	my $waiting_for = next_segment($segment);
	my $pid = waiting_pg_standby($waiting_for);
	ok(defined $pid, "stop $mode: pg_standby waits");

	$standby->stop($mode);
	ok( wait_until(
			sub { !kill(0, $pid) && !restore_command_processes() },
			'pg_standby to exit'),
		"stop $mode: no pg_standby (or shell) left behind");

	# Before the last start, make pg_standby give up early, for the next test.
	set_restore_command('--max-retries=1') if $mode eq 'immediate';
	$standby->start;
	ok(defined waiting_pg_standby($waiting_for),
		"start after $mode: pg_standby waits");
	is(in_recovery($standby), 't', "start after $mode: still in recovery");

	$n = commit_round();
	$segment = switch_wal($primary);
	ok(wait_for_round($standby, $n), "start after $mode: replay resumes");
	ok(!$standby->log_contains($promotion_regex, $offset),
		"stop $mode: recovery never ended");
}

###
### 6b. pg_wal cannot be written and pg_standby gives up: the server stops.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();

	ok(defined waiting_pg_standby($segment, '--max-retries=1'),
		'give up: pg_standby with --max-retries=1 waits');
	chmod(0500, $standby_wal) or die "could not chmod \"$standby_wal\": $!";
	place_data("$archive/$segment", $data);

	$standby->wait_for_log(
		qr/FATAL:  could not restore file "$segment" from archive: child process exited with exit code 255/,
		$offset);
	ok(wait_server_gone($standby), 'give up: the server stopped');
	chmod(0700, $standby_wal) or die "could not chmod \"$standby_wal\": $!";

	my $log = log_since($standby, $offset);
	like($log, qr/attempt 2 of 2\)\n[^\n]*detail: [^\n]*\n[^\n]*giving up/,
		'give up: after the second failed attempt');
	unlike($log, $promotion_regex, 'give up: recovery did not end');
	is(cluster_state($standby), 'in archive recovery',
		'give up: control file says in archive recovery');
	ok(!restore_command_processes(), 'give up: no pg_standby left behind');

	set_restore_command('-r 100');
	$standby->start;
	ok(wait_for_round($standby, $n), 'give up: replay resumes after restart');
	is(in_recovery($standby), 't', 'give up: still in recovery');
	archive_again($segment);
}

###
### 8. pg_standby killed by SIGKILL while it waits.
###
{
	my $offset = log_position($standby);
	my $n = commit_round();
	my $segment = switch_wal($primary);
	ok(wait_for_round($standby, $n), 'SIGKILL: rows replayed');
	my $waiting_for = next_segment($segment);
	my $pid = waiting_pg_standby($waiting_for);
	ok(defined $pid, 'SIGKILL: pg_standby waits');

	kill('KILL', $pid);
	$standby->wait_for_log(
		qr/FATAL:  could not restore file "$waiting_for" from archive: child process (?:was terminated by signal 9|exited with exit code 137)/,
		$offset);
	ok(wait_server_gone($standby), 'SIGKILL: the server stopped');
	ok(!$standby->log_contains($promotion_regex, $offset),
		'SIGKILL: recovery did not end');
	is(cluster_state($standby), 'in archive recovery',
		'SIGKILL: control file says in archive recovery');
	ok(!restore_command_processes(), 'SIGKILL: nothing left running');

	# What a pg_standby killed in the middle of a copy leaves behind.
	append_to_file($temporary_file, 'left by a killed copy');

	$standby->start;
	$n = commit_round();
	$segment = switch_wal($primary);
	ok(wait_for_round($standby, $n), 'SIGKILL: replay resumes after restart');
	is(in_recovery($standby), 't', 'SIGKILL: still in recovery');
	ok(!-e $temporary_file, 'SIGKILL: the temporary file is gone');
}

###
### 9. The primary dies while a segment is half copied into the archive.
###
{
	my $offset = log_position($standby);
	my ($n, $segment, $data) = unarchived_round();
	my $half = length($data) / 2;

	my $pid = waiting_pg_standby($segment);

	write_in_place("$archive/$segment", substr($data, 0, $half));
	$primary->stop('immediate');
	wait_for_another_look($segment, $half, $offset);
	touch_file("$archive/$segment");
	wait_for_another_look($segment, $half, log_position($standby));
	ok(still_waits($pid), 'primary killed: pg_standby goes on waiting');
	is(in_recovery($standby), 't', 'primary killed: standby still in recovery');
	is(rows_of_round($standby, $n), 0, 'primary killed: round not replayed');
	ok(!$standby->log_contains(restored_regex($segment), $offset),
		'primary killed: the half file was not handed over');

	# The copy completes.
	append_to_file("$archive/$segment", substr($data, $half));
	ok(wait_for_round($standby, $n),
		'primary killed: the completed segment is replayed');
	ok(!$standby->log_contains($promotion_regex, $offset),
		'primary killed: recovery never ended');

	$primary->start;
	archive_again($segment);
}

my $before_failover = log_position($standby);
my $standby_log = log_since($standby, 0);
unlike($standby_log, $promotion_regex,
	'no promotion through all the faults');
unlike(
	$standby_log,
	qr/invalid magic number|unexpected pageaddr|different database system|wrong size|incorrect prev-link|invalid record length|invalid resource manager/,
	'the server never read a wrong segment');

###
### 10. Smart failover: every row committed and archived is kept.
###
{
	my $offset = log_position($standby);
	my @rounds;
	my @segments;
	my @data;

	pause_archiving();
	for my $i (1 .. 3)
	{
		push @rounds, commit_round();
		push @segments, switch_wal($primary);
	}
	my $pid = waiting_pg_standby($segments[0]);
	ok(defined $pid, 'failover: pg_standby waits');
	foreach my $segment (@segments)
	{
		my $ready =
		  $primary->data_dir . "/pg_wal/archive_status/$segment.ready";
		wait_until(sub { -f $ready }, "$segment to be ready")
		  or die "$segment was not finished";
		push @data, read_binary($primary->data_dir . "/pg_wal/$segment");
	}

	# The segments and the trigger appear at the same moment for
	# pg_standby, which is stopped meanwhile.
	kill('STOP', $pid);
	place_data("$archive/$segments[$_]", $data[$_]) for 0 .. $#segments;
	append_to_file($trigger, '');
	kill('CONT', $pid);

	ok($standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		'failover: the standby is promoted');
	my $log = log_since($standby, $offset);
	like(
		$log,
		qr/pg_standby: trigger file "\Q$trigger\E" found: smart failover/,
		'failover: pg_standby reported a smart failover');
	ok(!grep({ $log !~ restored_regex($_) } @segments),
		'failover: every segment in the archive restored');

	resume_archiving();
	ok( $primary->poll_query_until('postgres',
			"SELECT last_archived_wal = '$segments[-1]' FROM pg_stat_archiver"),
		'failover: the primary archived everything it committed');
	is($standby->safe_psql('postgres', $table_summary),
		$primary->safe_psql('postgres', $table_summary),
		'failover: every row archived is on the promoted standby');
	is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
		$rows_per_round * $round, 'failover: every round committed');
	is($standby->safe_psql('postgres',
		'SELECT timeline_id FROM pg_control_checkpoint()'),
		'2', 'failover: new timeline 2');
}

note(sprintf('020_faults ran for %.1f s', time() - $test_start));

done_testing();
