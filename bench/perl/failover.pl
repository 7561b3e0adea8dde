#!/usr/bin/perl
# Failover time: from the trigger to the first successful INSERT on the
# standby (polled every 1 ms on a connection opened before the trigger).
# Before the trigger: wait until the standby has replayed up to
# --target-lsn; with --pg-standby, until pg_standby is waiting in it (a
# pg_standby process whose working directory is the data directory,
# alive for 200 ms); then a random pause of 0..--spread seconds, so that
# the trigger falls anywhere in the server's own retry cycle.
#
#   failover.pl --samples FILE --label LABEL --socket DIR --port PORT
#       --datadir DIR --target-lsn LSN [--pg-standby] [--spread S]
#       --trigger touch:FILE | fast:FILE | promote
use strict;
use warnings;
use Fcntl;
use Getopt::Long;
use Time::HiRes qw(usleep);
use Bench;

my ($samples, $label, $sock, $port, $datadir, $target, $trigger);
my ($wait_pg_standby, $spread) = (0, 0);
GetOptions('samples=s' => \$samples, 'label=s' => \$label,
	'socket=s' => \$sock, 'port=i' => \$port, 'datadir=s' => \$datadir,
	'target-lsn=s' => \$target, 'trigger=s' => \$trigger,
	'pg-standby' => \$wait_pg_standby, 'spread=f' => \$spread)
  or die "usage";

my $dbh = connect_db($sock, $port);
# The INSERTs that fail before the promotion are not worth a log line each.
$dbh->do("SET log_min_messages = fatal");
my $deadline = now_ms() + 600000;
until ($dbh->selectrow_array(
		"SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn"))
{
	die "$label: standby did not reach $target\n" if now_ms() > $deadline;
	usleep(20000);
}

sub pg_standby_pid
{
	foreach my $dir (glob('/proc/[0-9]*'))
	{
		open(my $fh, '<', "$dir/comm") or next;
		my $comm = <$fh> // '';
		close($fh);
		chomp $comm;
		next unless $comm eq 'pg_standby';
		my $cwd = readlink("$dir/cwd") // next;
		return ($dir =~ m{(\d+)$})[0] if $cwd eq $datadir;
	}
	return undef;
}

if ($wait_pg_standby)
{
	my ($pid, $since);
	while (1)
	{
		my $now_pid = pg_standby_pid();
		if (!defined $now_pid || !defined $pid || $now_pid != $pid)
		{
			($pid, $since) = ($now_pid, now_ms());
		}
		last if defined $pid && now_ms() - $since >= 200;
		die "$label: pg_standby never waited\n" if now_ms() > $deadline;
		usleep(10000);
	}
}
usleep(int(rand($spread * 1e6)));

my $insert = $dbh->prepare('INSERT INTO t VALUES (1)');
my ($kind, $file) = split /:/, $trigger, 2;
my $t0 = now_ms();
if ($kind eq 'touch')
{
	sysopen(my $fh, $file, O_WRONLY | O_CREAT) or die "$file: $!";
	close($fh);
}
elsif ($kind eq 'fast')
{
	# as "echo fast > FILE" does it
	open(my $fh, '>', $file) or die "$file: $!";
	print $fh "fast\n";
	close($fh);
}
elsif ($kind eq 'promote')
{
	system('pg_ctl', 'promote', '-W', '-s', '-D', $datadir) == 0
	  or die "pg_ctl promote failed\n";
}
else
{
	die "unknown trigger \"$trigger\"\n";
}
while (1)
{
	last if eval { $insert->execute(); 1 };
	my $error = $@;
	die "$label: $error" unless $error =~ /read-only transaction/;
	die "$label: no successful INSERT within 600 s\n" if now_ms() > $deadline;
	usleep(1000);
}
append_samples($samples, $label, now_ms() - $t0);
