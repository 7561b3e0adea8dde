#!/usr/bin/perl
# Catch-up time: start a standby (pg_ctl start, not waiting) and time
# until it has replayed up to --target-lsn: connections are retried every
# 10 ms until the standby accepts them (hot standby, once consistent),
# then pg_last_wal_replay_lsn() is polled every 10 ms.
#
#   catchup.pl --samples FILE --label LABEL --socket DIR --port PORT
#       --datadir DIR --target-lsn LSN
use strict;
use warnings;
use Getopt::Long;
use Time::HiRes qw(usleep);
use Bench;

my ($samples, $label, $sock, $port, $datadir, $target);
GetOptions('samples=s' => \$samples, 'label=s' => \$label,
	'socket=s' => \$sock, 'port=i' => \$port, 'datadir=s' => \$datadir,
	'target-lsn=s' => \$target) or die "usage";

my $t0 = now_ms();
system('pg_ctl', 'start', '-W', '-s', '-D', $datadir, '-l', "$datadir.log") == 0
  or die "$label: pg_ctl start failed\n";
my $deadline = $t0 + 3600 * 1000;
my $dbh;
until ($dbh = eval { connect_db($sock, $port) })
{
	die "$label: standby never accepted connections; see $datadir.log\n"
	  if now_ms() > $deadline;
	usleep(10000);
}
my $check = $dbh->prepare("SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn");
while (1)
{
	$check->execute();
	my ($done) = $check->fetchrow_array;
	$check->finish;
	last if $done;
	die "$label: standby did not reach $target\n" if now_ms() > $deadline;
	usleep(10000);
}
append_samples($samples, $label, now_ms() - $t0);
$dbh->disconnect;
