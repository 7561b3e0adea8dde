
# Copyright (c) 2025, PostgreSQL Global Development Group

# Fault soak: a primary under pgbench, a warm standby in standby mode fed by
# pg_standby from the primary's archive, and, at random moments, random
# faults.  Run by "make soak" (scripts/soak.sh); not part of "make
# installcheck".  SOAK_SECONDS (default 180) bounds the run, SOAK_SEED
# (default: the time) seeds every random choice and is printed, so that a
# run can be repeated.
#
# Faults: SIGKILL of the waiting pg_standby, of the standby's postmaster,
# of the primary's archiver and of the primary; the archive directory
# renamed away and back; a truncated, a corrupt, a renamed (an older
# segment) and another cluster's segment dropped into the archive under
# the name of the segment the standby waits for; pg_wal full for a while
# (only with the small file system that scripts/test.sh mounts as root,
# else that kind is skipped, and said so); fast restarts of either server.
# A server that stopped (the standby stops when its restore_command is
# killed) is started again by the soak, as a service manager would: that
# is the only help it gets.
#
# Invariants, checked after every fault: the standby is in recovery (never
# promoted without a trigger), and it comes back by itself: it replays a
# marker committed on the primary after the fault, within 180 s.  At the
# end, with the load stopped and everything archived, a smart failover
# through the trigger file, and the promoted standby must have every row
# the primary committed, compared by content.  A file that is not the
# primary's, replayed, would show as a failed replay or as a difference.
#
# Figures: faults by kind, rows compared, rows lost, accidental promotions,
# longest time to recover from each kind of fault.
use strict;
use warnings;
use File::Copy;
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use FindBin;
use lib "$FindBin::RealBin/../t";
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since
  archiving_primary promotion_regex);

my $seconds = $ENV{SOAK_SECONDS} // 180;
my $seed = $ENV{SOAK_SEED} // time() % 1_000_000;
srand($seed);
diag("soak: seed $seed (SOAK_SEED=$seed repeats this run), $seconds s");

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $small_fs = $ENV{PG_STANDBY_SMALL_FS};
$small_fs = undef unless defined $small_fs && -d $small_fs;
diag('soak: no small file system (PG_STANDBY_SMALL_FS, needs root): '
	  . 'faults of kind "pg_wal full" are skipped')
  unless defined $small_fs;

my $archive = "$tempdir/archive";
my $primary = archiving_primary($archive);
# Frequent checkpoints on the primary allow frequent restartpoints on the
# standby, which keep its pg_wal (on the small file system) small.
$primary->append_conf(
	'postgresql.conf', q(
archive_timeout = 2s
checkpoint_timeout = 30s
max_wal_size = 16MB
min_wal_size = 4MB
));
$primary->restart;
$primary->safe_psql('postgres',
	'CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker VALUES (0)');
$primary->command_ok([ 'pgbench', '-i', '-s', '2', '-q', 'postgres' ],
	'pgbench tables');
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('soak_base');

# Another cluster, whose segment is a valid one of the wrong system.
my $other = PostgreSQL::Test::Cluster->new('other');
$other->init(extra => ['--wal-segsize=1']);
$other->start;
my $other_segment = $other->safe_psql('postgres',
	'SELECT pg_walfile_name(pg_current_wal_lsn())');
$other->stop;
my $other_wal = slurp_file($other->data_dir . "/pg_wal/$other_segment");

# The standby, in standby mode, pg_wal on the small file system if any.
my $trigger = "$tempdir/trigger";
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'soak_base');
$standby->append_conf(
	'postgresql.conf', qq(
restore_command = '"$pg_standby" -r 2 -s 1 -t "$trigger" "$archive" %f %p'
wal_retrieve_retry_interval = 1s
checkpoint_timeout = 30s
max_wal_size = 16MB
min_wal_size = 4MB
hot_standby = on
archive_mode = off
));
$standby->set_standby_mode;
if (defined $small_fs)
{
	my $pg_wal = $standby->data_dir . '/pg_wal';
	make_path("$small_fs/soak_wal");
	system('cp', '-a', "$pg_wal/.", "$small_fs/soak_wal") == 0
	  or die "could not copy $pg_wal";
	system('rm', '-rf', $pg_wal) == 0 or die "could not remove $pg_wal";
	symlink("$small_fs/soak_wal", $pg_wal) or die "could not link: $!";
}
$standby->start;

my $promotion_regex = promotion_regex();
my %faults;
my %longest;
my $accidental_promotions = 0;
my $not_back = 0;
my $marker = 0;

# pgbench in the background, at a bounded rate (two cores for everything),
# restarted whenever it has ended (a killed primary ends it).
my $pgbench;
my ($pgbench_out, $pgbench_err) = ('', '');

sub ensure_load
{
	return if defined $pgbench && $pgbench->pumpable;
	$pgbench->finish if defined $pgbench;
	$pgbench = IPC::Run::start(
		[
			'pgbench', '-n', '-c', '2', '-R', '50', '-T', '3600', '-h',
			$primary->host, '-p', $primary->port, 'postgres'
		],
		'<', \undef, '>', \$pgbench_out, '2>', \$pgbench_err);
	return;
}

sub stop_load
{
	return unless defined $pgbench;
	$pgbench->kill_kill;
	$pgbench->finish;
	undef $pgbench;
	return;
}

sub server_running
{
	my ($node) = @_;
	my $pid = postmaster_pid($node);
	return $pid > 0 && kill(0, $pid);
}

# Start a server that has stopped (or was killed), as a service manager
# would.
sub keep_running
{
	my ($node) = @_;
	return if server_running($node);
	$node->_update_pid(-1);
	wait_until(sub { $node->start(fail_ok => 1) }, $node->name . ' to start',
		60);
	return;
}

sub restart
{
	my ($node) = @_;
	$node->stop('fast', fail_ok => 1);
	keep_running($node);
	return;
}

# Processes named $comm, with $word on their command line, and, when
# $parent is given, that process as their parent: only ever this soak's
# own processes (other servers may run on the machine).
sub pids_of
{
	my ($comm, $word, $parent) = @_;
	my @pids;
	foreach my $dir (glob('/proc/[0-9]*'))
	{
		open(my $fh, '<', "$dir/stat") or next;
		my $stat = <$fh> // '';
		close $fh;
		my ($name, $ppid) = $stat =~ /^\d+ \((.*)\) \S (\d+)/ or next;
		next if $name ne $comm || (defined $parent && $ppid != $parent);
		open($fh, '<', "$dir/cmdline") or next;
		my $cmdline = do { local $/; <$fh> } // '';
		close $fh;
		push @pids, substr($dir, 6) if index($cmdline, $word) >= 0;
	}
	return @pids;
}

sub postmaster_pid
{
	my ($node) = @_;
	my $pidfile = $node->data_dir . '/postmaster.pid';
	return -1 unless -e $pidfile;
	my ($pid) = split /\n/, slurp_file($pidfile);
	return $pid;
}

# The segment the standby will ask for next: the primary's current one
# (not archived yet).
sub next_segment
{
	return $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
}

sub place_file
{
	my ($name, $data) = @_;
	my $path = "$archive/$name";
	open(my $fh, '>:raw', "$path.soak") or die "could not open: $!";
	print $fh $data;
	close $fh;

	# a link never replaces the real segment, had it just been archived
	link("$path.soak", $path);
	unlink("$path.soak");
	return;
}

sub archived_segment
{
	my @segments = sort grep { /\/[0-9A-F]{24}$/ } glob("$archive/0*");
	return @segments ? slurp_file($segments[-1]) : undef;
}

my %fault_kinds = (
	'SIGKILL pg_standby' => sub {
		kill('KILL', $_) foreach pids_of('pg_standby', $archive);
	},
	'SIGKILL standby postmaster' => sub { $standby->kill9 },
	'SIGKILL primary archiver' => sub {
		kill('KILL', $_)
		  foreach pids_of('postgres', 'archiver', postmaster_pid($primary));
	},
	'SIGKILL primary' => sub { $primary->kill9 },
	'archive renamed away and back' => sub {
		rename($archive, "$archive.away") or die "could not rename: $!";
		sleep(1 + rand(4));
		rename("$archive.away", $archive) or die "could not rename: $!";
	},
	'truncated segment' => sub {
		my $data = archived_segment();
		place_file(next_segment(), substr($data, 0, int(rand(length($data)))))
		  if defined $data;
	},
	'corrupt segment' => sub {
		my $data = archived_segment();
		return unless defined $data;
		my $at = 8192 + int(rand(length($data) - 16384));
		substr($data, $at, 100) = 'x' x 100;
		place_file(next_segment(), $data);
	},
	'renamed segment' => sub {
		my $data = archived_segment();
		place_file(next_segment(), $data) if defined $data;
	},
	"other cluster's segment" => sub {
		place_file(next_segment(), $other_wal);
	},
	'restart standby' => sub { restart($standby) },
	'restart primary' => sub { restart($primary) },);
if (defined $small_fs)
{
	$fault_kinds{'pg_wal full'} = sub {
		my $filler = "$small_fs/filler";
		open(my $fh, '>:raw', $filler) or die "could not open: $!";
		my $block = "\0" x 65536;
		while (syswrite($fh, $block)) { }
		close $fh;
		sleep(2 + rand(5));
		unlink $filler;
	};
}
my @kinds = sort keys %fault_kinds;

# Has the standby come back: up, in recovery, and replayed a marker the
# primary committed now?  Returns the seconds it took, or undef.
sub recovered
{
	my $id = ++$marker;
	my $start = time();
	my $deadline = $start + 180;
	while (time() < $deadline)
	{
		keep_running($primary);
		keep_running($standby);
		ensure_load();
		my ($rc) = $primary->psql('postgres',
			"INSERT INTO marker VALUES ($id) ON CONFLICT DO NOTHING");
		if ($rc == 0)
		{
			my ($rc2, $out) = $standby->psql('postgres',
				"SELECT pg_is_in_recovery(), count(*) FROM marker WHERE id = $id"
			);
			if ($rc2 == 0 && $out eq 'f|0' || $rc2 == 0 && $out eq 'f|1')
			{
				$accidental_promotions++;
				return undef;
			}
			return time() - $start if $rc2 == 0 && $out eq 't|1';
		}
		sleep(0.5);
	}
	return undef;
}

my $standby_log_start = log_position($standby);
my $end = time() + $seconds;
ensure_load();
while (time() < $end)
{
	sleep(rand(5));
	my $kind = $kinds[ int(rand(@kinds)) ];
	$faults{$kind}++;
	note("fault: $kind");
	$fault_kinds{$kind}->();
	my $took = recovered();
	if (!defined $took)
	{
		$not_back++;
		diag("soak: the standby did not come back after \"$kind\"");
		last;
	}
	$longest{$kind} = $took if $took > ($longest{$kind} // 0);
}

# The end: no more load, everything committed gets archived, smart
# failover, compare.
stop_load();
keep_running($primary);
keep_running($standby);
my $last = $primary->safe_psql('postgres',
	'SELECT pg_walfile_name(pg_current_wal_lsn())');
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
wait_until(sub { -f "$archive/$last" }, "$last to be archived")
  or diag("soak: $last was not archived");
$accidental_promotions++
  if $standby->log_contains($promotion_regex, $standby_log_start);

my $content = q{
SELECT 'a' || aid || ':' || abalance FROM pgbench_accounts
UNION ALL SELECT 't' || tid || ':' || tbalance FROM pgbench_tellers
UNION ALL SELECT 'b' || bid || ':' || bbalance FROM pgbench_branches
UNION ALL SELECT 'h' || tid || ':' || bid || ':' || aid || ':' || delta || ':' || mtime
  FROM pgbench_history
UNION ALL SELECT 'm' || id FROM marker};
my %on_primary =
  map { $_ => 1 } split /\n/, $primary->safe_psql('postgres', $content);

append_to_file($trigger, '');
my $promoted = wait_until(
	sub {
		my ($rc, $out) =
		  $standby->psql('postgres', 'SELECT pg_is_in_recovery()');
		return $rc == 0 && $out eq 'f';
	},
	'the smart failover');
ok($promoted, 'smart failover: the standby is promoted');
my %on_standby =
  map { $_ => 1 } split /\n/, $standby->safe_psql('postgres', $content);

my $lost = grep { !$on_standby{$_} } keys %on_primary;
my $extra = grep { !$on_primary{$_} } keys %on_standby;
my $total = 0;
$total += $_ foreach values %faults;

diag('soak figures:');
diag(sprintf('  seed %d, %d s, %d faults', $seed, $seconds, $total));
diag(sprintf('  %-32s %6s %12s', 'fault', 'count', 'longest s'));
diag(sprintf('  %-32s %6d %12.1f', $_, $faults{$_}, $longest{$_} // -1))
  foreach sort keys %faults;
diag(sprintf('  rows compared: %d', scalar(keys %on_primary)));
diag(sprintf('  rows lost: %d', $lost));
diag(sprintf('  rows on the standby only: %d', $extra));
diag(sprintf('  accidental promotions: %d', $accidental_promotions));
diag(sprintf('  faults not recovered from: %d', $not_back));

ok($total > 0, 'faults were injected');
is($not_back, 0, 'the standby came back after every fault by itself');
is($accidental_promotions, 0, 'no accidental promotion');
is($lost, 0, 'no row lost');
is($extra, 0, 'no row the primary does not have');

$standby->stop;
$primary->stop;
done_testing();
