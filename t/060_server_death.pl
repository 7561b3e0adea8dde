
# Copyright (c) 2025, PostgreSQL Global Development Group

# pg_standby never outlives the server that runs it.  While pg_standby
# waits for the next segment (with the default -w 0 and a poll interval of
# a minute, so that only its watch of the server can end the wait):
#  1. the postmaster is killed by SIGKILL, as the OOM killer does, in
#     archive recovery and in standby mode: pg_standby exits with a status
#     that stops the server rather than promoting it, the orphaned startup
#     process then exits and releases the shared memory, so that a plain
#     "pg_ctl start" works at once; the server, started again, is still in
#     recovery and replays new segments;
#  2. the startup process is killed by SIGKILL (the postmaster then shuts
#     down): the orphaned pg_standby exits instead of waiting on, so that
#     no stale pg_standby can write into pg_wal after the server is started
#     again; replay resumes after the start.
use strict;
use warnings;
use File::Basename;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position
  archiving_primary archive_round wait_for_round pg_standby_node start_caught_up
  promotion_regex);
use Time::HiRes qw(time);

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

my $archive = "$tempdir/archive";
my $primary = archiving_primary($archive);

# The fields of /proc/PID/stat after the command name: state, parent.
sub process_state
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return ('', 0);
	my $stat = <$fh>;
	close $fh;
	my ($state, $ppid) = $stat =~ /\) (\S) (\d+)/;
	return ($state // '', $ppid // 0);
}

# Gone, or a zombie that nobody reaps: either way it has exited.
sub exited
{
	my ($pid) = @_;
	my ($state) = process_state($pid);
	return $state eq '' || $state eq 'Z' || $state eq 'X';
}

sub children_of
{
	my ($parent) = @_;
	return grep { (process_state($_))[1] == $parent }
	  map { basename($_) } glob('/proc/[0-9]*');
}

sub cmdline
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/cmdline") or return '';
	my $cmdline = do { local $/; <$fh> };
	close $fh;
	return $cmdline // '';
}

# The pg_standby processes that wait for a segment (one standby runs at a
# time).
sub pg_standby_pids
{
	return grep {
		my $cmdline = cmdline($_);
		index($cmdline, $archive) >= 0
		  && index($cmdline, 'pg_wal/RECOVERYXLOG') >= 0
		  && slurp_file("/proc/$_/comm") eq "pg_standby\n"
		  && !exited($_);
	} map { basename($_) } glob('/proc/[0-9]*');
}

sub waiting_pg_standby
{
	my @pids;
	wait_until(sub { @pids = pg_standby_pids(); return @pids == 1; },
		'pg_standby to wait');
	return @pids == 1 ? $pids[0] : undef;
}

my $promotion_regex = promotion_regex();

# A standby waiting for the next segment, with a poll interval of a minute.
sub make_standby
{
	my ($name, $mode) = @_;
	return start_caught_up(
		pg_standby_node($name, $primary, $mode, "-s 60 \"$archive\""),
		$primary, $archive);
}

###
### 1. The postmaster killed while pg_standby waits, in each mode.
###
foreach my $mode ('archive', 'standby')
{
	my $node = make_standby("postmaster_$mode", $mode);
	my $offset = log_position($node);
	my $pid = waiting_pg_standby();
	ok(defined $pid, "$mode: pg_standby waits");

	my $postmaster = $node->{_pid};
	my @children = children_of($postmaster);
	my $killed_at = time();
	$node->kill9;
	ok(wait_until(sub { exited($pid) }, 'pg_standby to exit'),
		"$mode: pg_standby exits when the postmaster is killed");
	note(sprintf('pg_standby exited %.2f s after the postmaster was killed',
			time() - $killed_at));
	ok( wait_until(sub { !grep { !exited($_) } @children },
			'the server processes to exit'),
		"$mode: no server process is left behind");

	like(
		slurp_file($node->logfile, $offset),
		qr/pg_standby: error: the postmaster \(PID $postmaster\) has exited/,
		"$mode: pg_standby says why it stopped waiting");
	ok(!$node->log_contains($promotion_regex, $offset),
		"$mode: recovery did not end");

	# The killed postmaster's parent (init here) must reap it: until then,
	# a zombie with its PID makes the lock file look in use.
	wait_until(sub { !kill(0, $postmaster) }, 'the postmaster to be reaped');
	ok($node->start(fail_ok => 1), "$mode: pg_ctl start works at once");
	my ($n) = archive_round($primary, $archive);
	ok(wait_for_round($node, $n), "$mode: replays new segments after restart");
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "$mode: still in recovery");
	ok(!$node->log_contains($promotion_regex, $offset),
		"$mode: recovery never ended");
	$node->stop;
}

###
### 2. The startup process killed while pg_standby waits.
###
{
	my $node = make_standby('startup', 'standby');
	my $offset = log_position($node);
	my $pid = waiting_pg_standby();
	ok(defined $pid, 'startup: pg_standby waits');
	my $startup = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'");

	kill('KILL', $startup);
	ok(wait_until(sub { exited($pid) }, 'pg_standby to exit'),
		'startup: the orphaned pg_standby exits');

	# The postmaster shuts down when the startup process fails.
	ok( wait_until(sub { !-e $node->data_dir . '/postmaster.pid' },
			'the server to shut down'),
		'startup: the server shuts down');
	$node->_update_pid(0);
	ok($node->start(fail_ok => 1), 'startup: pg_ctl start works');
	my ($n) = archive_round($primary, $archive);
	ok(wait_for_round($node, $n), 'startup: replay resumes');
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', 'startup: still in recovery');
	$node->stop;
}

done_testing();
