
# Copyright (c) 2025, PostgreSQL Global Development Group

# How pg_standby's waits meet the server's own retries, read-ahead and
# streaming, with real servers made from one base backup:
#  1. -w in archive recovery is a fast failover: the server promotes;
#  2. -w in standby mode only ends one wait: the server retries, is never
#     promoted, and replays the next segment when it arrives;
#  3. in standby mode with default settings (recovery_prefetch = try), the
#     read-ahead's request for the next segment never holds back replay of
#     the current one: its rows become visible with no further segment;
#     in archive recovery with recovery_prefetch on, pg_standby detects the
#     setting and warns about it, and replay does fall behind;
#  4. a standby with primary_conninfo restores the archive with pg_standby,
#     then streams from the primary: pg_standby does not keep it waiting;
#     when the primary is gone, a trigger file still promotes it.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since restored_regex
  archiving_primary);
use Time::HiRes qw(time);

my $pg_standby = pg_standby_binary();

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $timeout = $PostgreSQL::Test::Utils::timeout_default;

# 1MB segments, to keep each standby's replay of the archive cheap;
# pg_standby takes the size from each segment's header.
my $seg_size = 1024 * 1024;

sub next_segment
{
	my ($name) = @_;
	my ($tli, $log, $seg) = map { hex } unpack('A8A8A8', $name);
	my $segs_per_id = 2**32 / $seg_size;

	($log, $seg) = ($log + 1, 0) if ++$seg >= $segs_per_id;
	return sprintf('%08X%08X%08X', $tli, $log, $seg);
}

# The primary archives atomically into one directory that every standby
# reads; the standbys neither archive nor clean up (no %r).
my $archive = "$tempdir/archive";
my $primary = archiving_primary($archive);

# Rows committed per round, each in a transaction of its own; each round's
# rows carry its number.
my $rows_per_round = 5;
my $round = 0;
my $last_segment;

sub commit_round
{
	my $n = ++$round;
	$primary->safe_psql('postgres',
		join('', map { "INSERT INTO t VALUES ($n, $_);\n" } 1 .. $rows_per_round));
	return $n;
}

# Switch to a new segment and wait until the one finished is archived;
# return its name.
sub switch_and_archive
{
	my $segment = $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_lsn())');
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	wait_until(sub { -f "$archive/$segment" }, "$segment to be archived")
	  or die "$segment was not archived";
	$last_segment = $segment;
	return $segment;
}

sub archive_round
{
	commit_round();
	return switch_and_archive();
}

sub rows_of_round
{
	my ($node, $n) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE round = $n");
}

sub round_replayed_query
{
	my ($n) = @_;
	return "SELECT count(*) = $rows_per_round FROM t WHERE round = $n";
}

my $table_summary =
  "SELECT string_agg(round || ':' || n, ',' ORDER BY round) FROM "
  . "(SELECT round, count(*) AS n FROM t GROUP BY round) s";

# A standby from the base backup with pg_standby as restore_command, in
# archive recovery ($mode "archive") or standby mode ("standby").
# $params{options}: more pg_standby options; $params{conf}: more settings.
sub make_standby
{
	my ($name, $mode, %params) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $options = $params{options} // '';

	$node->init_from_backup($primary, 'base',
		has_streaming => $params{streaming} // 0);
	$node->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" -d -s 0.2 $options "$archive" %f %p'
hot_standby = on
archive_mode = off
));
	$node->append_conf('postgresql.conf', $params{conf})
	  if defined $params{conf};
	if ($mode eq 'archive')
	{
		$node->set_recovery_mode;
	}
	elsif (!$params{streaming})
	{
		$node->set_standby_mode;
	}
	return $node;
}

sub waiting_regex
{
	my ($segment) = @_;
	return qr/pg_standby: waiting for "\Q$archive\/$segment\E"/;
}

sub giving_up_regex
{
	my ($segment) = @_;
	return qr/pg_standby: waited 1 seconds for "\Q$archive\/$segment\E": giving up/;
}

# Signs in the log that recovery ended or was asked to.
my $promotion_regex =
  qr/promotion of the standby requested|received promote request|selected new timeline ID|archive recovery complete/;

# Rounds archived after the base backup, for every standby to replay.
my $foreign_history = "$tempdir/00000002.history";
archive_round() for 1 .. 2;

###
### 1. -w in archive recovery: a fast failover once the archive is replayed.
###
{
	my $label = 'archive recovery, -w 1';
	my $node = make_standby('archive_max_wait', 'archive',
		options => '-w 1',
		conf => 'recovery_prefetch = off');
	my $next = next_segment($last_segment);
	my $expected = $primary->safe_psql('postgres', $table_summary);

	$node->start;
	ok($node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		"$label: the server promoted");
	my $log = log_since($node, 0);
	like($log, giving_up_regex($next),
		"$label: pg_standby gave up waiting for the next segment");
	like($log, qr/selected new timeline ID: 2/,
		"$label: the server selected timeline 2");
	unlike($log, qr/promotion of the standby requested/,
		"$label: no promotion request, exit 1 is enough");
	is($node->safe_psql('postgres', $table_summary),
		$expected, "$label: every archived row replayed");
	$node->safe_psql('postgres', 'INSERT INTO t VALUES (-1, 1)');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE round = -1'),
		'1', "$label: an INSERT works");

	# Keep its timeline history file for the failover in 4.
	copy($node->data_dir . '/pg_wal/00000002.history', $foreign_history)
	  or die "could not copy 00000002.history: $!";
	$node->stop;
}

###
### 2. -w in standby mode: the server retries; nothing promotes it.
###
{
	my $label = 'standby mode, -w 1';

	# wal_retrieve_retry_interval: the server's pause between retries,
	# shortened from 5 s so that retry cycles come quickly.  Each cycle
	# is then pg_standby's -w wait and the pause.
	my $node = make_standby('standby_max_wait', 'standby',
		options => '-w 1',
		conf => "wal_retrieve_retry_interval = '100ms'");
	my $next = next_segment($last_segment);
	my $regex = giving_up_regex($next);

	$node->start;
	my $gave_up = 0;
	ok( wait_until(
			sub {
				$gave_up = () = log_since($node, 0) =~ /$regex/g;
				return $gave_up >= 3;
			},
			'pg_standby to give up three times'),
		"$label: pg_standby gave up at least twice (times: $gave_up)");
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "$label: still in recovery after the retries");
	unlike(log_since($node, 0), $promotion_regex,
		"$label: no promotion requested, none happened");
	ok(!-e $node->data_dir . '/promote', "$label: no promote file");

	my $n = commit_round();
	my $segment = switch_and_archive();
	is($segment, $next, "$label: the awaited segment is archived");
	ok($node->poll_query_until('postgres', round_replayed_query($n)),
		"$label: its rows are replayed");
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "$label: still in recovery afterwards");
	unlike(log_since($node, 0), $promotion_regex,
		"$label: still no promotion");
	$node->stop;
}

###
### 3. Read-ahead.  In standby mode with default settings, the server's
### read-ahead asks for the next segment while the current one's records
### are decoded but not yet replayed.  Each round's rows must become
### visible as soon as their segment is restored, with no next segment.
###
{
	my $label = 'standby mode, read-ahead';
	my $node = make_standby('standby_read_ahead', 'standby');

	$node->start;
	ok( $node->poll_query_until('postgres', round_replayed_query($round)),
		"$label: the standby replayed the archive");
	is( $node->safe_psql('postgres', 'SHOW recovery_prefetch'),
		'try', "$label: recovery_prefetch has its default, try");

	for my $i (1 .. 3)
	{
		my $offset = log_position($node);
		my $n = commit_round();
		my $segment = switch_and_archive();
		my $next = next_segment($segment);
		my $start = time();

		ok($node->poll_query_until('postgres', round_replayed_query($n)),
			"$label, round $i: rows visible once $segment is restored");
		note(sprintf("$label, round $i: rows visible %.2f s after archiving",
				time() - $start));
		ok(!-e "$archive/$next",
			"$label, round $i: the next segment, $next, does not exist");
		my $log = log_since($node, $offset);
		like($log, restored_regex($segment),
			"$label, round $i: $segment restored");
		like(
			$log,
			qr/answering the server's first request for "$next" at once/,
			"$label, round $i: the first request for $next answered at once"
		);
		is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
			't', "$label, round $i: still in recovery");
	}
	unlike(log_since($node, 0), $promotion_regex,
		"$label: nothing promoted the standby");
	$node->stop;
}

###
### The contrast: archive recovery with recovery_prefetch on.  There
### pg_standby must wait (an answer of 1 would end recovery), so it warns
### that replay is held back while it waits.  (The standby starts with the
### read-ahead off and turns it on once open: with it on from the start,
### replay lags so far behind the restores that the hot standby does not
### open until more WAL comes.  pg_standby reads the setting afresh on each
### call.)
###
{
	my $label = 'archive recovery, recovery_prefetch = try';
	my $node = make_standby('archive_read_ahead', 'archive',
		conf => 'recovery_prefetch = off');

	$node->start;
	ok( $node->poll_query_until('postgres', round_replayed_query($round)),
		"$label: the standby replayed the archive");
	$node->wait_for_log(waiting_regex(next_segment($last_segment)), 0);
	$node->append_conf('postgresql.conf', 'recovery_prefetch = try');
	$node->reload;

	my $n = commit_round();
	my $segment = switch_and_archive();
	my $next = next_segment($segment);
	ok( wait_until(
			sub {
				$node->log_contains(
					qr/pg_standby: warning: recovery_prefetch is on: replay of WAL already restored is held back while waiting for "$next"/
				);
			},
			'the warning about recovery_prefetch'),
		"$label: pg_standby warned that recovery_prefetch is on");
	ok($node->log_contains(qr/pg_standby: hint: Set recovery_prefetch = off/),
		"$label: and said what to do");
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "$label: pg_standby waits; recovery does not end");

	# How far behind does replay fall?  Add segments one at a time; while
	# pg_standby waits, the server's startup process does nothing else, so
	# what is visible then is settled.  The read-ahead decodes records of
	# several of these small segments before it replays any.
	my $segments = 0;
	my $visible = rows_of_round($node, $n);
	isnt($visible, $rows_per_round,
		"$label: replay of $segment is held back while pg_standby waits for $next"
	);
	while ($visible != $rows_per_round && $segments < 30)
	{
		my $arrived = archive_round();
		$segments++;
		$node->wait_for_log(waiting_regex(next_segment($arrived)), 0);
		$visible = rows_of_round($node, $n);
	}
	note("$label: rows of $segment visible after $segments more segments");
	is($visible, $rows_per_round,
		"$label: the rows of $segment are replayed once more segments arrive");
	$node->stop;
}

###
### 4. Streaming: with primary_conninfo, pg_standby restores what is in
### the archive and never waits, so the server goes on to stream.  When
### the primary is gone, the server turns to the archive again, where
### pg_standby finds the trigger file and has the standby promoted.
###
{
	my $label = 'streaming standby';
	my $trigger = "$tempdir/trigger_streaming";
	my $node = make_standby('standby_streaming', 'standby',
		streaming => 1,
		options => "-t \"$trigger\"");

	$node->start;
	ok( $node->poll_query_until(
			'postgres',
			"SELECT status = 'streaming' FROM pg_stat_wal_receiver",
			't'),
		"$label: the WAL receiver is streaming");

	# A row in the current segment, which nobody archives: only
	# streaming can bring it.
	$primary->safe_psql('postgres', 'INSERT INTO t VALUES (-2, 1)');
	my $current = $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_lsn())');
	ok($node->poll_query_until('postgres',
			'SELECT count(*) = 1 FROM t WHERE round = -2'),
		"$label: a row never archived is replayed");
	ok(!-e "$archive/$current", "$label: its segment, $current, is not archived");

	my $log = log_since($node, 0);
	like($log, restored_regex($last_segment),
		"$label: pg_standby restored the archived segments first");
	like($log, qr/pg_standby: primary_conninfo is set: not waiting/,
		"$label: pg_standby saw primary_conninfo");
	unlike($log, qr/pg_standby: waiting for/, "$label: pg_standby never waited");
	unlike($log, $promotion_regex, "$label: nothing promoted it");

	# Failover: the trigger appears, the primary goes away.  Timeline 2
	# is taken already (another server's history file is in the archive),
	# so the promotion must pick timeline 3.
	copy($foreign_history, "$archive/00000002.history.tmp")
	  && rename("$archive/00000002.history.tmp", "$archive/00000002.history")
	  or die "could not place 00000002.history: $!";
	my $expected = $primary->safe_psql('postgres', $table_summary);
	my $offset = log_position($node);
	append_to_file($trigger, '');
	$primary->stop;
	ok($node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		"$label: promoted once the primary is gone");
	$log = log_since($node, $offset);
	like(
		$log,
		qr/pg_standby: trigger file "\Q$trigger\E" found: smart failover/,
		"$label: pg_standby found the trigger file");
	like($log, qr/pg_standby: promotion of the standby requested/,
		"$label: pg_standby requested the promotion");
	# At the end of recovery the server reads its last segment again,
	# which is not in the archive: that is no reason to ask again.
	ok(!-e $node->data_dir . '/promote',
		"$label: no promote file left behind");
	is($node->safe_psql('postgres', $table_summary),
		$expected, "$label: every row of the primary, streamed ones too");
	my ($selected) = $log =~ /selected new timeline ID: (\d+)/;
	is($selected, 3,
		"$label: the server selected timeline 3, past the archive's 00000002.history"
	);
	$node->stop;
}

done_testing();
