#!/usr/bin/perl
# Replication lag through the archive: commit a row on the primary, switch
# to a new segment (pg_switch_wal()), and poll the standby (every 1 ms, on
# one connection) until the row is visible there.  Before each commit, a
# random pause of 0..SPREAD seconds, so that the commit falls anywhere in
# the standby's retry cycle (wal_retrieve_retry_interval), as a real
# commit would.  The first commit only makes sure the standby is caught up
# and is not counted.
#
#   lag.pl --samples FILE --label LABEL --reps N --spread SECONDS
#       --socket DIR --primary PORT --standby PORT
use strict;
use warnings;
use Getopt::Long;
use Time::HiRes qw(usleep);
use Bench;

my ($samples, $label, $reps, $spread, $sock, $pport, $sport);
GetOptions('samples=s' => \$samples, 'label=s' => \$label, 'reps=i' => \$reps,
	'spread=f' => \$spread, 'socket=s' => \$sock, 'primary=i' => \$pport,
	'standby=i' => \$sport) or die "usage";

my $primary = connect_db($sock, $pport);
my $standby = connect_db($sock, $sport);
my $insert = $primary->prepare('INSERT INTO lag (id) VALUES (?)');
my $switch = $primary->prepare('SELECT pg_switch_wal()');
my $visible = $standby->prepare('SELECT 1 FROM lag WHERE id = ?');
my ($id) = $primary->selectrow_array('SELECT coalesce(max(id), 0) FROM lag');

my @lags;
foreach my $trial (0 .. $reps)
{
	usleep(int(rand($spread * 1e6))) if $trial > 0;
	$id++;
	my $t0 = now_ms();
	$insert->execute($id);
	$switch->execute();
	$switch->finish;
	my $deadline = $t0 + 120000;
	while (1)
	{
		$visible->execute($id);
		my $found = $visible->fetchrow_array;
		$visible->finish;
		last if $found;
		die "$label: row $id not visible on the standby after 120 s\n"
		  if now_ms() > $deadline;
		usleep(1000);
	}
	push @lags, now_ms() - $t0 if $trial > 0;
}
append_samples($samples, $label, @lags);
