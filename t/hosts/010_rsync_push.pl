# Topology (a), the seed's own, across two hosts: the primary's
# archive_command pushes each segment with rsync over ssh into the standby
# host's archive directory, where pg_standby waits with inotify.  Proves
# that the standby replays what crosses the network; that with the link
# down for longer than the ssh keep-alive timeout, and with the standby
# host's sshd killed, the archiver retries and the standby waits without
# promoting, then replays everything by itself once the network is back
# (how long that takes is printed); that no temporary or incomplete file is
# ever left in the archive; and that with the primary's host gone for good
# the standby waits until a trigger file fails it over with every archived
# row, onto timeline 2.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyHosts qw(hosts_available new_host start_sshd ssh_command
  new_server test_dir wait_for pg_standby_server rows_of add_rows
  measure_lag median check_network_faults fail_over_for_good);
use Test::More;
use Time::HiRes qw(time sleep);

my $why_not = hosts_available();
plan skip_all => $why_not if defined $why_not;

my $seg_size = 1024 * 1024;
my $dir = test_dir();
new_host('primary', 1);
new_host('standby', 2);
start_sshd('standby');

my $archive = "$dir/standby-archive";
mkdir $archive;
chown scalar(getpwnam('postgres')), -1, $archive;
my $trigger = "$dir/standby.trigger";

my $primary = new_server('primary', 'primary');
$primary->init;
my $ssh = ssh_command();
$primary->append_conf(<<"EOF");
archive_mode = on
archive_command = 'rsync --fsync --timeout=10 -e "$ssh" %p postgres\@192.0.2.2:$archive/%f'
EOF
$primary->start;
add_rows($primary, 10);

my $standby = pg_standby_server('standby', $primary, 'archive_mode = off',
	'-t', $trigger, $archive, '%f', '%p', '%r');
$standby->start;

my $rows = add_rows($primary, 10);
ok(defined wait_for(sub { rows_of($standby) == $rows }, 60),
	'rows replayed across hosts');

my @lags = measure_lag($primary, $standby, 7, 1);
diag(sprintf('topology (a) rsync over ssh: lag median %.2f s (min %.2f, max %.2f)',
		median(@lags), $lags[0], $lags[-1]));

# The archiver cannot reach the standby's host while rows are committed.
check_network_faults(
	primary => $primary,
	standby => $standby,
	topology => '(a)',
	link_host => 'standby',
	sshd_host => 'standby',
	archives => [$archive]);

fail_over_for_good(primary => $primary, standby => $standby,
	trigger => $trigger);

done_testing();
