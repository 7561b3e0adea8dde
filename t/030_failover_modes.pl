
# Copyright (c) 2025, PostgreSQL Global Development Group

# Every way to fail over, in both recovery modes, with real servers.  Each
# failover gets a standby of its own, made from one shared base backup and
# reading the primary's archive with pg_standby, while pg_standby waits for
# the next segment:
#  - archive recovery (recovery.signal, recovery_prefetch = off), where
#    pg_standby's exit 1 ends recovery;
#  - standby mode (standby.signal, default settings, no primary_conninfo),
#    where the server would only retry, so pg_standby asks it to promote as
#    pg_ctl promote does (how trigger files keep working on PostgreSQL 16+,
#    which removed promote_trigger_file).
# The ways: (a) an empty trigger file, a smart failover that first replays
# the segments archived before it; (b) "fast" in the trigger file, which is
# then truncated; (c) SIGUSR1 to the waiting pg_standby; (d) pg_ctl promote
# and (e) SELECT pg_promote(), whose "promote" file ends pg_standby's wait
# at once, so that the server's own promotion never hangs behind it.
# After each, the server is out of recovery on timeline 2, accepts writes,
# and has every row archived before the failover; a smart trigger file is
# left in place.
use strict;
use warnings;
use File::Basename;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since restored_regex);
use Time::HiRes qw(time);

my $pg_standby = pg_standby_binary();

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $timeout = $PostgreSQL::Test::Utils::timeout_default;

# 1MB segments: ten standbys each replay the whole archive from the base
# backup, and smaller segments make that cheap.  pg_standby takes the size
# from each segment's header.
my $seg_size = 1024 * 1024;

sub next_segment
{
	my ($name) = @_;
	my ($tli, $log, $seg) = map { hex } unpack('A8A8A8', $name);
	my $segs_per_id = 2**32 / $seg_size;

	($log, $seg) = ($log + 1, 0) if ++$seg >= $segs_per_id;
	return sprintf('%08X%08X%08X', $tli, $log, $seg);
}

# The primary archives atomically (a temporary name, then a rename) into
# one directory that every standby reads.  The standbys leave it alone:
# their restore_command has no %r (cleanup would take segments the next
# standby needs) and they do not archive.
my $archive = "$tempdir/archive";
mkdir $archive;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, extra => ["--wal-segsize=1"]);
$primary->append_conf(
	'postgresql.conf', qq(
archive_mode = on
archive_command = 'cp "%p" "$archive/%f.tmp" && mv "$archive/%f.tmp" "$archive/%f"'
));
$primary->start;
is( $primary->safe_psql('postgres',
		"SELECT pg_size_bytes(current_setting('wal_segment_size'))"),
	$seg_size,
	'the primary has 1MB segments');
$primary->safe_psql('postgres',
	'CREATE TABLE t (round int NOT NULL, i int NOT NULL)');
$primary->backup('base');

# Rows committed per round; each round's rows carry its number.
my $rows_per_round = 10;
my $round = 0;
my $last_segment;

# Commit a round of rows, switch to a new segment and return the one
# finished, without waiting for it to be archived.
sub commit_round_and_switch
{
	my $n = ++$round;
	$primary->safe_psql('postgres',
		"INSERT INTO t SELECT $n, g FROM generate_series(1, $rows_per_round) g"
	);
	my $segment = $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_lsn())');
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	$last_segment = $segment;
	return $segment;
}

sub wait_archived
{
	my ($segment) = @_;
	wait_until(sub { -f "$archive/$segment" }, "$segment to be archived")
	  or die "$segment was not archived";
	return;
}

sub archive_round
{
	my $segment = commit_round_and_switch();
	wait_archived($segment);
	return $segment;
}

my $table_summary =
  "SELECT string_agg(round || ':' || n, ',' ORDER BY round) FROM "
  . "(SELECT round, count(*) AS n FROM t GROUP BY round) s";

# A standby from the base backup, with pg_standby as restore_command and a
# trigger file of its own (whose name also tells its pg_standby apart).
# $mode is "archive" or "standby"; -s is 0.2 unless given, for speed
# (arrivals are noticed at once anyway, the poll is only the fallback).
sub make_standby
{
	my ($name, $mode, %params) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $trigger = "$tempdir/trigger_$name";
	my $sleep = $params{sleep} // '0.2';

	$node->init_from_backup($primary, 'base');
	$node->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" -d -s $sleep -t "$trigger" "$archive" %f %p'
hot_standby = on
archive_mode = off
));
	if ($mode eq 'archive')
	{
		# the classic setup: pg_standby's waits must not hold back replay
		$node->append_conf('postgresql.conf', 'recovery_prefetch = off');
		$node->set_recovery_mode;
	}
	else
	{
		# default settings: recovery_prefetch = try, no primary_conninfo
		$node->set_standby_mode;
	}
	return ($node, $trigger);
}

sub waiting_regex
{
	my ($segment) = @_;
	return qr/pg_standby: waiting for "\Q$archive\/$segment\E"/;
}

# Start the standby and wait until it has replayed the whole archive and
# pg_standby waits for the segment after it.  Returns that segment.
sub start_caught_up
{
	my ($node, $label) = @_;
	my $next = next_segment($last_segment);

	$node->start;
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = $rows_per_round FROM t WHERE round = $round"),
		"$label: the standby replayed the archive");
	$node->wait_for_log(waiting_regex($next), 0);
	return $next;
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

# What every failover must leave: a server out of recovery, on a new
# timeline ($tli, 2 unless given), with every row of the primary archived
# before the failover ($expected), that accepts writes.  $offset is where
# the failover's part of the log starts.
sub promoted_ok
{
	my ($node, $label, $offset, $expected, $tli) = @_;

	$tli //= 2;
	ok($node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		"$label: out of recovery");
	my $log = log_since($node, $offset);
	my ($selected) = $log =~ /selected new timeline ID: (\d+)/;
	is($selected, $tli, "$label: the server selected timeline $tli");
	is( $node->safe_psql(
			'postgres',
			'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)'),
		sprintf('%08X', $tli),
		"$label: WAL is written on timeline $tli");
	is($node->safe_psql('postgres', $table_summary),
		$expected, "$label: every row archived before the failover");
	$node->safe_psql('postgres', 'INSERT INTO t VALUES (-1, 1)');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE round = -1'),
		'1', "$label: an INSERT works");
	unlike($log, qr/FATAL|PANIC/, "$label: no FATAL or PANIC in the log");
	return $log;
}

# In standby mode, pg_standby's own failovers ask the server to promote,
# and the server consumes the request.  (In archive recovery the server
# never looks for a "promote" file: pg_ctl promote leaves it behind there.)
sub promotion_request_ok
{
	my ($mode, $node, $log, $label) = @_;

	return if $mode ne 'standby';
	like(
		$log,
		qr/pg_standby: promotion of the standby requested.*received promote request/s,
		"$label: pg_standby requested the promotion, the server received it");
	no_promote_file_ok($mode, $node, $label);
	return;
}

sub no_promote_file_ok
{
	my ($mode, $node, $label) = @_;

	return if $mode ne 'standby';
	ok(!-e $node->data_dir . '/promote',
		"$label: no promote file left behind");
	return;
}

# A few rounds archived after the base backup, for every standby to replay.
my $foreign_history = "$tempdir/00000002.history";
archive_round() for 1 .. 2;

for my $mode ('archive', 'standby')
{
	###
	### (a) Smart failover: an empty trigger file.  Replay is paused while
	### two more segments are archived, the trigger appears, and replay
	### resumes: both segments are replayed before recovery ends.
	###
	{
		my $label = "$mode, smart trigger";
		my ($node, $trigger) = make_standby("${mode}_smart", $mode);
		my $next = start_caught_up($node, $label);

		$node->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
		my $segment_1 = archive_round();
		my $segment_2 = archive_round();
		is($segment_1, $next, "$label: the first new segment is awaited");

		# Replay pauses once the first of them is restored.
		ok( $node->poll_query_until(
				'postgres', 'SELECT pg_get_wal_replay_pause_state()',
				'paused'),
			"$label: replay paused");
		my $expected = $primary->safe_psql('postgres', $table_summary);
		my $offset = log_position($node);

		append_to_file($trigger, '');
		$node->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');

		my $log = promoted_ok($node, $label, $offset, $expected);
		like(
			$log,
			qr/pg_standby: trigger file "\Q$trigger\E" found: smart failover/,
			"$label: pg_standby reported it");
		if ($mode eq 'archive')
		{
			# Without read-ahead the second segment is asked for only
			# once the first is replayed, after the trigger appeared.
			like($log, restored_regex($segment_2),
				"$label: the segment archived before the trigger was restored after it"
			);
		}
		promotion_request_ok($mode, $node, $log, $label);
		ok(-e $trigger && -z $trigger,
			"$label: the trigger file is left in place");

		# Keep a timeline history file of a real failover for (d) and (e).
		copy($node->data_dir . '/pg_wal/00000002.history',
			$foreign_history)
		  or die "could not copy 00000002.history: $!"
		  unless -e $foreign_history;
		$node->stop;
	}

	###
	### (b) Fast failover: "fast" in the trigger file.
	###
	{
		my $label = "$mode, fast trigger";
		my ($node, $trigger) = make_standby("${mode}_fast", $mode);
		start_caught_up($node, $label);
		my $expected = $primary->safe_psql('postgres', $table_summary);
		my $offset = log_position($node);

		# Written whole, under a temporary name: created empty, the file
		# could be read as a smart trigger before "fast" is in it.
		append_to_file("$trigger.tmp", 'fast');
		rename("$trigger.tmp", $trigger)
		  or die "could not rename to \"$trigger\": $!";
		my $log = promoted_ok($node, $label, $offset, $expected);
		like(
			$log,
			qr/pg_standby: trigger file "\Q$trigger\E" found: fast failover/,
			"$label: pg_standby reported it");
		promotion_request_ok($mode, $node, $log, $label);
		ok(-e $trigger, "$label: the trigger file is left in place");
		is(-s $trigger, 0, "$label: the trigger file is truncated to empty");
		$node->stop;
	}

	###
	### (c) SIGUSR1 to the waiting pg_standby.
	###
	{
		my $label = "$mode, SIGUSR1";
		my ($node, $trigger) = make_standby("${mode}_sigusr1", $mode);
		my $next = start_caught_up($node, $label);
		my $expected = $primary->safe_psql('postgres', $table_summary);
		my $offset = log_position($node);

		my @pids = pg_standby_pids($trigger, $next);
		is(scalar(@pids), 1, "$label: one pg_standby waits");
		kill('USR1', @pids);

		my $log = promoted_ok($node, $label, $offset, $expected);
		like(
			$log,
			qr/pg_standby: SIGUSR1 received: fast failover/,
			"$label: pg_standby reported it");
		promotion_request_ok($mode, $node, $log, $label);
		ok(!-e $trigger, "$label: no trigger file involved");
		$node->stop;
	}

	###
	### (d) pg_ctl promote, and (e) SELECT pg_promote(): the server's own
	### promotion.  -s 60: pg_standby must notice the "promote" file as it
	### appears, not at its next poll, so the promotion must complete well
	### within that minute.
	###
	### Meanwhile 00000002.history of another server's failover appears in
	### the archive: a promotion must see it while it picks the new
	### timeline, and take timeline 3.  (Removed afterwards: standbys that
	### start later would follow it.)
	###
	for my $how ('pg_ctl promote', 'pg_promote()')
	{
		my $label = "$mode, $how";
		my $name = $how eq 'pg_ctl promote' ? 'pg_ctl' : 'pg_promote';
		my ($node, $trigger) =
		  make_standby("${mode}_$name", $mode, sleep => 60);
		start_caught_up($node, $label);
		copy($foreign_history, "$archive/00000002.history.tmp")
		  && rename("$archive/00000002.history.tmp",
			"$archive/00000002.history")
		  or die "could not place 00000002.history: $!";
		my $expected = $primary->safe_psql('postgres', $table_summary);
		my $offset = log_position($node);
		my $start = time();

		if ($how eq 'pg_ctl promote')
		{
			is( system_log(
					'pg_ctl', '-D', $node->data_dir, '-t', $timeout,
					'promote'),
				0,
				"$label: pg_ctl promote succeeded");
		}
		else
		{
			is( $node->safe_psql(
					'postgres', "SELECT pg_promote(true, $timeout)"),
				't',
				"$label: pg_promote() returned true");
		}
		my $elapsed = time() - $start;
		note("$label: promotion took $elapsed s");
		cmp_ok($elapsed, '<', 45,
			"$label: promotion completed without waiting for pg_standby's poll"
		);

		my $log = promoted_ok($node, $label, $offset, $expected, 3);
		like(
			$log,
			qr/pg_standby: promotion requested: fast failover/,
			"$label: pg_standby ended its wait for the promotion");
		no_promote_file_ok($mode, $node, $label);
		unlink("$archive/00000002.history")
		  or die "could not remove 00000002.history: $!";
		$node->stop;
	}
}

done_testing();
