# Topology (c): the standby reads the primary's archive over a network file
# system.  The primary archives into a directory of its own host with
# pg_standby_archive; the standby's host mounts that directory with sshfs
# (FUSE), and pg_standby waits on the mount, where inotify cannot see the
# primary's writes.  Proves that pg_standby says so once, at its first wait,
# with the poll interval, and keeps the lag low with the default -s 5 (the
# median lag at one segment per second is printed) and the traffic low when
# idle (no more than a look per -s seconds once nothing has come for a
# while: strace counts the looks); that with the standby's link down for
# longer than the keep-alive timeout, and with the primary host's sshd
# killed, the standby waits without promoting and catches up by itself once
# the network is back, logging the dead mount again while it lasts; and that
# with the primary host (and so the archive) gone for good, a smart failover
# waits for the archive and a fast one fails the standby over with every row
# it had.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyHosts qw(hosts_available new_host start_sshd mount_sshfs
  new_server test_dir wait_for pg_standby_server rows_of add_rows
  measure_lag median check_network_faults fail_over_for_good
  start_background stop_background descendants);
use Test::More;
use Time::HiRes qw(time sleep);

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

# Idle: nothing arrives.  pg_standby looks at the mount often just after
# a restore, when the next segment is likely to come soon, then ever more
# rarely, down to once per -s (5) seconds.  strace counts the looks: each
# run of pg_standby looks once, then once after each sleep (a poll() with a
# timeout), in the server's startup process and whatever it runs.
my @looks = idle_looks($standby, 50);
my $early = grep { $_ < 25 } @looks;
my $late = grep { $_ >= 30 } @looks;
diag("topology (c), idle: $early looks in the first 25 s, $late in the 20 s after 30 s");
cmp_ok($late, '<=', 20 / 5 + 1,
	'idle: no more than one look per -s seconds once nothing has come for a while');
cmp_ok($early, '>', $late,
	'idle: more looks just after a restore, when the next segment is due');

my @said = $standby->log_contents =~
  /pg_standby: archive "\Q$mnt\E" is on a network file system \(FUSE\)[^\n]*every 5 s at most/g;
is(scalar @said, 1,
	'the network file system is said once, with the poll interval');

# The link stays down long enough for the dead mount to be reported twice:
# again 10 s after the first report, at the next look, which comes at most
# -s (5) seconds later and waits up to 3 s for sshfs to give up
# reconnecting (ConnectTimeout).
check_network_faults(
	primary => $primary,
	standby => $standby,
	topology => '(c)',
	link_host => 'standby',
	link_pause => 30,
	sshd_host => 'primary',
	archives => [$archive]);

my $dead_mount =
  qr/error: could not restore file "\Q$mnt\E[^\n]*"\n[^\n]*detail: Could not [^\n]*: (?:Input\/output error|Transport endpoint is not connected)\.\n/;
like(
	$standby->log_contents,
	qr/$dead_mount[^\n]*hint: [^\n]*does not answer/,
	'the dead mount is reported with a hint');
like(
	$standby->log_contents,
	qr/$dead_mount[^\n]*detail: The problem has lasted \d+ seconds\.\n[^\n]*hint: [^\n]*does not answer/,
	'the dead mount is reported again while it lasts');

fail_over_for_good(
	primary => $primary,
	standby => $standby,
	trigger => $trigger,
	archive_lost => 1);

done_testing();

# Trace the standby's startup process and its children (the shell running
# restore_command, pg_standby) for $seconds; returns when each look
# happened, in seconds from the start.
sub idle_looks
{
	my ($server, $seconds) = @_;
	my $startup = $server->sql(
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'");
	my $trace = test_dir() . '/idle-looks.strace';
	my $start = time();
	my $strace = start_background(
		$server->host, undef, test_dir() . '/strace.log',
		'strace', '-f', '-qq', '-ttt', '-e', 'trace=execve,poll',
		'-o', $trace, map { ('-p', $_) } $startup, descendants($startup));
	sleep($seconds);
	stop_background($strace);

	my @at;
	open(my $fh, '<', $trace) or die "$trace: $!";
	while (my $line = <$fh>)
	{
		next unless $line =~ /^\d+\s+(\d+\.\d+) (.*)/;
		my ($when, $call) = ($1, $2);
		push @at, $when - $start
		  if $call =~ /^execve\("[^"]*\/pg_standby"/
		  || $call =~ /^poll\(\[.*\], \d+, [1-9]\d*[,) <]/;
	}
	close($fh);
	return @at;
}

