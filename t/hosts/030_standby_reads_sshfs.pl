# Topology (c): the standby reads the primary's archive over a network file
# system.  The primary archives into a directory of its own host with
# pg_standby_archive; the standby's host mounts that directory with sshfs
# (FUSE), and pg_standby waits on the mount, where inotify cannot see the
# primary's writes.  Proves that pg_standby says so once, at its first
# wait, with the poll interval, and keeps the lag low with the default -s 5
# (the median lag at one segment per second is printed); that with the
# standby's link down for longer than the keep-alive timeout, and with the
# primary host's sshd killed, the standby waits without promoting and
# catches up by itself once the network is back, logging the dead mount
# again while it lasts; and that with the primary host (and so the archive)
# gone for good, a smart failover waits for the archive and a fast one fails
# the standby over with every row it had.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyHosts qw(hosts_available new_host link_down link_up start_sshd
  stop_sshd mount_sshfs new_server test_dir wait_for pg_standby_server
  rows_of add_rows measure_lag median check_fault fail_over_for_good);
use Test::More;

my $why_not = hosts_available();
plan skip_all => $why_not if defined $why_not;

my $dir = test_dir();
new_host('primary', 1);
new_host('standby', 2);
start_sshd('primary');

my $archive = "$dir/primary-archive";
mkdir $archive;
chown scalar(getpwnam('postgres')), -1, $archive;
my $mnt = "$dir/standby-mnt";
my $trigger = "$dir/standby.trigger";

my $primary = new_server('primary', 'primary');
$primary->init;
$primary->append_conf(<<"EOF");
archive_mode = on
archive_library = '$ENV{PG_STANDBY_MODULE}'
pg_standby_archive.directory = '$archive'
EOF
$primary->start;
add_rows($primary, 10);

mount_sshfs('standby', 'primary', $archive, $mnt);

my $standby = pg_standby_server('standby', $primary, 'archive_mode = off',
	'-t', $trigger, $mnt, '%f', '%p');
$standby->start;

my $rows = add_rows($primary, 10);
ok(defined wait_for(sub { rows_of($standby) == $rows }, 60),
	'rows replayed from the primary\'s archive over sshfs');

my @lags = measure_lag($primary, $standby, 15, 1);
diag(sprintf('topology (c) sshfs read by the standby, -s 5: lag median %.2f s (min %.2f, max %.2f)',
		median(@lags), $lags[0], $lags[-1]));

my @said = $standby->log_contents =~
  /pg_standby: archive "\Q$mnt\E" is on a network file system \(FUSE\)[^\n]*every 5 s at most/g;
is(scalar @said, 1,
	'the network file system is said once, with the poll interval');

for my $fault (
	[
		'standby host link down', sub { link_down('standby') },
		sub { link_up('standby') }
	],
	[
		'primary host sshd killed', sub { stop_sshd('primary') },
		sub { start_sshd('primary') }
	])
{
	check_fault(
		primary => $primary,
		standby => $standby,
		topology => '(c)',
		what => $fault->[0],
		break => $fault->[1],
		repair => $fault->[2],
		archives => [$archive]);
}

like(
	$standby->log_contents,
	qr/error: could not restore file "\Q$mnt\E[^\n]*"\n[^\n]*detail: Could not [^\n]*: (Input\/output error|Transport endpoint is not connected)\.\n[^\n]*hint: [^\n]*does not answer/,
	'the dead mount is reported with a hint');

fail_over_for_good(
	primary => $primary,
	standby => $standby,
	trigger => $trigger,
	archive_lost => 1);

done_testing();
