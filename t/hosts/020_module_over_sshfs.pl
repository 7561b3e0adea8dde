# Topology (b): pg_standby_archive on the primary writes the standby host's
# archive directory over a network file system: the primary's host mounts
# it with sshfs, logged in as the standby's server user, and pg_standby
# waits on its local directory with inotify.  Proves that the standby
# replays what crosses the network; that files written by root (sshfs
# logged in as root) are reported, with owner and mode, again while it
# lasts, and replayed once readable, and that with
# pg_standby_archive.file_mode = '0644' they are readable at once; that
# with the standby's link down for
# longer than the keep-alive timeout (the archiver blocks until sshfs
# declares the link dead, then fails and retries) and with the standby
# host's sshd killed, nothing is lost, nothing incomplete appears under a
# final name, no temporary file is left once the link is back (the module
# removes what it could not remove then), and the standby catches up by
# itself; and that with the
# primary's host gone for good a smart failover through the trigger file
# brings the standby up on timeline 2 with every archived row.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyHosts qw(hosts_available new_host start_sshd mount_sshfs
  new_server test_dir wait_for pg_standby_server rows_of add_rows
  measure_lag median check_network_faults fail_over_for_good run_in bindir);
use Test::More;
use Time::HiRes qw(sleep);

my $why_not = hosts_available();
plan skip_all => $why_not if defined $why_not;

my $dir = test_dir();
new_host('primary', 1);
new_host('standby', 2);
start_sshd('standby');

my $archive = "$dir/standby-archive";
mkdir $archive;
chown scalar(getpwnam('postgres')), -1, $archive;
my $mnt = "$dir/primary-mnt";
my $trigger = "$dir/standby.trigger";
mount_sshfs('primary', 'standby', $archive, $mnt);

my $primary = new_server('primary', 'primary');
$primary->init;
$primary->append_conf(<<"EOF");
archive_mode = on
archive_library = '$ENV{PG_STANDBY_MODULE}'
pg_standby_archive.directory = '$mnt'
EOF
$primary->start;
add_rows($primary, 10);

my $standby = pg_standby_server('standby', $primary, 'archive_mode = off',
	'-t', $trigger, $archive, '%f', '%p', '%r');
$standby->start;

my $rows = add_rows($primary, 10);
ok(defined wait_for(sub { rows_of($standby) == $rows }, 60),
	'rows replayed across hosts');
is((stat("$archive/" . (sort grep { /^[0-9A-F]{24}$/ } map { s{.*/}{}r } glob("$archive/*"))[-1]))[4],
	scalar(getpwnam('postgres')),
	'archived files belong to the standby\'s server user');

# The archive written as root (sshfs logged in as root on the standby's
# host): the module's files belong to root with mode 0600, and the
# standby's server user cannot read them.  pg_standby says so with the
# owner and mode, again while it lasts, never promotes, and replays the
# file once it is made readable.
my $root_mnt = "$dir/primary-mnt-root";
mount_sshfs('primary', 'standby', $archive, $root_mnt, 'login=root');
$primary->sql("ALTER SYSTEM SET pg_standby_archive.directory = '$root_mnt'");
$primary->sql('SELECT pg_reload_conf()');
sleep(1);
my $before = rows_of($standby);
$rows = add_rows($primary, 1);
ok( defined wait_for(
		sub {
			$standby->log_contents =~
			  /Permission denied\.\n[^\n]*hint: [^\n]*owned by user "root" with mode 0600/;
		},
		60),
	'written as root: the standby says who owns the file, with its mode');
sleep(11);
my @repeats = $standby->log_contents =~ /(The problem has lasted \d+ seconds)/g;
ok(@repeats >= 1, 'written as root: said again while it lasts');
ok($standby->in_recovery && rows_of($standby) == $before,
	'written as root: waited through, no promotion');
$primary->sql("ALTER SYSTEM SET pg_standby_archive.directory = '$mnt'");
$primary->sql('SELECT pg_reload_conf()');
chmod 0644, grep { (stat)[4] == 0 } glob("$archive/0*");
ok(defined wait_for(sub { rows_of($standby) == $rows }, 60),
	'written as root: replayed once the files are readable');

# pg_standby_archive.file_mode makes files another OS user can read.
SKIP:
{
	skip 'pg_standby_archive.file_mode has not landed in main yet (issue 10, the module\'s part)', 2
	  unless grep { /pg_standby_archive\.file_mode/ }
	  do { local $/; open(my $fh, '<', "$ENV{PG_STANDBY_MODULE}.so") or die; <$fh> };
	# a setting the session knows only once the module is loaded
	my @psql = (bindir() . '/psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-h', "$dir/primary", '-d', 'postgres', '-c',
		"LOAD '$ENV{PG_STANDBY_MODULE}'", '-c');
	run_in('primary', 'postgres', @psql,
		"ALTER SYSTEM SET pg_standby_archive.file_mode = '0644'");
	$primary->sql("ALTER SYSTEM SET pg_standby_archive.directory = '$root_mnt'");
	$primary->sql('SELECT pg_reload_conf()');
	sleep(1);
	$rows = add_rows($primary, 1);
	ok(defined wait_for(sub { rows_of($standby) == $rows }, 60),
		'file_mode 0644, written as root: replayed');
	my @modes = map { sprintf('%04o', (stat)[2] & 07777) }
	  grep { (stat)[4] == 0 } glob("$archive/0*");
	is($modes[-1], '0644', 'file_mode 0644: the mode the file has');
	$primary->sql("ALTER SYSTEM SET pg_standby_archive.directory = '$mnt'");
	run_in('primary', 'postgres', @psql,
		'ALTER SYSTEM RESET pg_standby_archive.file_mode');
	$primary->sql('SELECT pg_reload_conf()');
}

my @lags = measure_lag($primary, $standby, 7, 1);
diag(sprintf('topology (b) pg_standby_archive over sshfs: lag median %.2f s (min %.2f, max %.2f)',
		median(@lags), $lags[0], $lags[-1]));

check_network_faults(
	primary => $primary,
	standby => $standby,
	topology => '(b)',
	link_host => 'standby',
	sshd_host => 'standby',
	archives => [$archive]);

fail_over_for_good(primary => $primary, standby => $standby,
	trigger => $trigger);

done_testing();
