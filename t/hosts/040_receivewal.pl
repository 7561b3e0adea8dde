# Topology (d): pg_receivewal on the standby's host streams from the
# primary over TCP into the standby's archive directory, with a replication
# slot and --synchronous, and the primary waits for it to flush each commit
# (synchronous_standby_names).  Proves that the standby replays the
# completed segments; that while the receiver is away (link down, receiver
# killed) commits hang rather than being acknowledged, and complete once it
# is back; and that when the primary dies, a smart failover through the
# trigger file replays the segment being streamed (NAME.partial), so that
# not one acknowledged commit is lost, onto timeline 2.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyHosts qw(hosts_available new_host link_down link_up new_server
  test_dir wait_for pg_standby_server rows_of add_rows measure_lag median
  start_background stop_background bindir unprivileged_user);
use Test::More;
use Time::HiRes qw(sleep);

my $why_not = hosts_available();
plan skip_all => $why_not if defined $why_not;

my $dir = test_dir();
new_host('primary', 1);
new_host('standby', 2);

my $archive = "$dir/standby-archive";
mkdir $archive;
chown scalar(getpwnam('postgres')), -1, $archive;
my $trigger = "$dir/standby.trigger";

my $primary = new_server('primary', 'primary');
$primary->init;
$primary->append_conf("synchronous_standby_names = 'pg_receivewal'\n");
$primary->start;
$primary->sql("SELECT pg_create_physical_replication_slot('standby_host')");

my @receiver = (bindir() . '/pg_receivewal', '-h', '192.0.2.1', '-p', '5432',
	'-S', 'standby_host', '--synchronous', '-D', $archive);
my $receiver = start_background('standby', unprivileged_user(),
	"$dir/pg_receivewal.log", @receiver);
ok( defined wait_for(
		sub {
			$primary->sql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1;
		},
		30),
	'pg_receivewal streams synchronously from the other host');
add_rows($primary, 1);

my $standby = pg_standby_server('standby', $primary,
	"synchronous_standby_names = ''",
	'-t', $trigger, $archive, '%f', '%p');
$standby->start;

my $rows = add_rows($primary, 10);
ok(defined wait_for(sub { rows_of($standby) == $rows }, 60),
	'completed segments replayed');

my @lags = measure_lag($primary, $standby, 7, 1);
diag(sprintf('topology (d) pg_receivewal --synchronous: lag median %.2f s (min %.2f, max %.2f)',
		median(@lags), $lags[0], $lags[-1]));

# While the receiver is away, a commit waits; it completes once it is back.
sub receiver_away
{
	my ($what, $break, $repair) = @_;
	$break->();
	my $before = rows_of($primary);
	my $commit = start_background('primary', unprivileged_user(),
		"$dir/commit.log", bindir() . '/psql', '-X', '-h',
		"$dir/primary", '-d', 'postgres', '-c',
		'INSERT INTO t DEFAULT VALUES');
	sleep(5);
	is(rows_of($primary), $before, "$what: the commit waits");
	ok(kill(0, $commit), "$what: the committing session still waits");
	$repair->();
	my $took = wait_for(sub { rows_of($primary) == $before + 1 }, 60);
	ok(defined $took, "$what: the commit completes once the receiver is back");
	diag(sprintf('topology (d), %s: commit acknowledged %.1f s after the repair',
			$what, $took // -1));
	stop_background($commit);
	my $expected = add_rows($primary, 1);
	ok(defined wait_for(sub { rows_of($standby) == $expected }, 60),
		"$what: the standby catches up by itself");
}

receiver_away('standby host link down', sub { link_down('standby') },
	sub { link_up('standby') });
receiver_away(
	'pg_receivewal killed',
	sub { stop_background($receiver, 'KILL') },
	sub {
		$receiver = start_background('standby', unprivileged_user(),
			"$dir/pg_receivewal.log", @receiver);
	});

# Acknowledged commits in a segment that is not complete: only in
# NAME.partial when the primary dies.
for (1 .. 5)
{
	$primary->sql('INSERT INTO t DEFAULT VALUES');
}
my $acknowledged = rows_of($primary);
ok(scalar(glob("$archive/*.partial")), 'the current segment is streamed as .partial');
link_down('primary');
$primary->kill9;
sleep(2);
ok($standby->in_recovery, 'primary gone: no promotion without a trigger');
open(my $fh, '>', $trigger) or die;
close($fh);
ok( defined wait_for(
		sub { ($standby->try_sql('SELECT pg_is_in_recovery()') // '') eq 'f' },
		60),
	'smart failover: standby promoted');
is(rows_of($standby), $acknowledged,
	'smart failover: every acknowledged commit is there');
is($standby->timeline, 2, 'failover: on timeline 2');
like($standby->log_contents, qr/restored partial segment/,
	'failover: the .partial segment was replayed');

done_testing();
