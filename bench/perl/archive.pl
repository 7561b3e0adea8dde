#!/usr/bin/perl
# Archiving throughput: a primary whose archiver has a backlog of .ready
# segments and no archive method yet (the caller has just written one into
# postgresql.conf) is told to reload its configuration; the time from
# pg_reload_conf() until pg_stat_archiver.archived_count has grown by
# --segments, polled every 10 ms on one connection (pg_stat_clear_snapshot()
# before each look).  Appends the rate, in segments per second.  Any
# increase of failed_count is an error: the method is misconfigured.
#
# With --copy-from, no server: the reference for a durable copy, the first
# --segments files of that directory (by name) copied in this one process
# into --copy-to, each written whole to a temporary name, then fsynced,
# renamed, and the directory fsynced, without compression.
#
#   archive.pl --samples FILE --label LABEL --socket DIR --port PORT
#       --segments N --log FILE
#   archive.pl --samples FILE --label LABEL --segments N
#       --copy-from DIR --copy-to DIR
use strict;
use warnings;
use Fcntl qw(O_CREAT O_EXCL O_RDONLY O_WRONLY);
use Getopt::Long;
use IO::Handle;
use Time::HiRes qw(usleep);
use Bench;

my ($samples, $label, $sock, $port, $segments, $log, $from, $to);
GetOptions('samples=s' => \$samples, 'label=s' => \$label,
	'socket=s' => \$sock, 'port=i' => \$port, 'segments=i' => \$segments,
	'log=s' => \$log, 'copy-from=s' => \$from, 'copy-to=s' => \$to)
  or die "usage";

if (defined $from)
{
	opendir(my $dh, $from) or die "could not open directory \"$from\": $!";
	my @names = (sort grep { /^[0-9A-F]{24}$/ } readdir($dh))[ 0 .. $segments - 1 ];
	closedir($dh);
	die "fewer than $segments segments in \"$from\"\n" if grep { !defined } @names;
	my $t0 = now_ms();
	foreach my $name (@names)
	{
		my ($in, $out, $buf);
		sysopen($in, "$from/$name", O_RDONLY) or die "could not open \"$from/$name\": $!";
		sysopen($out, "$to/$name.tmp", O_WRONLY | O_CREAT | O_EXCL, 0600)
		  or die "could not create \"$to/$name.tmp\": $!";
		while (my $n = sysread($in, $buf, 1 << 20))
		{
			syswrite($out, $buf) == $n or die "could not write \"$to/$name.tmp\": $!";
		}
		$out->sync or die "could not fsync \"$to/$name.tmp\": $!";
		close($out) or die "could not close \"$to/$name.tmp\": $!";
		close($in);
		rename("$to/$name.tmp", "$to/$name") or die "could not rename \"$to/$name.tmp\": $!";
		sysopen(my $dir, $to, O_RDONLY) or die "could not open \"$to\": $!";
		$dir->sync or die "could not fsync \"$to\": $!";
		close($dir);
	}
	append_samples($samples, $label, $segments / ((now_ms() - $t0) / 1000.0));
	exit 0;
}

my $dbh = connect_db($sock, $port);
my $clear = $dbh->prepare('SELECT pg_stat_clear_snapshot()');
my $count = $dbh->prepare('SELECT archived_count, failed_count FROM pg_stat_archiver');
my $look = sub {
	$clear->execute();
	$clear->finish;
	$count->execute();
	my @row = $count->fetchrow_array;
	$count->finish;
	return @row;
};

my ($archived0, $failed0) = $look->();
my $t0 = now_ms();
$dbh->do('SELECT pg_reload_conf()');
my $deadline = $t0 + 1800 * 1000;
while (1)
{
	my ($archived, $failed) = $look->();
	last if $archived >= $archived0 + $segments;
	die "$label: the archiver failed (failed_count $failed0 -> $failed); see $log\n"
	  if $failed > $failed0;
	die "$label: only " . ($archived - $archived0)
	  . " of $segments segments archived after 1800 s; see $log\n"
	  if now_ms() > $deadline;
	usleep(10000);
}
my $elapsed = now_ms() - $t0;
append_samples($samples, $label, $segments / ($elapsed / 1000.0));
$dbh->disconnect;
