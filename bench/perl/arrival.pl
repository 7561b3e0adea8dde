#!/usr/bin/perl
# Arrival latency: pg_standby is waiting for a segment, as the server runs
# it (%p = pg_wal/RECOVERYXLOG in a data directory); the segment is renamed
# into the archive; time from the rename to pg_standby's exit, with the
# segment restored.  Each round also times a restore of the segment when
# it is already there (the restore's own cost, for comparison).
#
#   arrival.pl --samples FILE --label LABEL [--present-label LABEL]
#       --reps N --cwd DATADIR --archive DIR --stage DIR --segment NAME
#       --log FILE [--no-inotify SHIM] [--spread S] -- PG_STANDBY [OPTION]...
#
# The segment arrives a random 0..S seconds (default 0.05) after
# pg_standby has started to wait; for polling, S should be the interval.
#
# --no-inotify runs pg_standby with LD_PRELOAD=SHIM, which makes inotify
# unavailable: it then finds the segment by polling every -s seconds.
# Without --present-label, the restore of a present segment is not timed.
#
# STAGE holds the segment and is on the same file system as the archive,
# so that the rename is atomic, as an archive_command's must be.
use strict;
use warnings;
use Getopt::Long;
use POSIX ();
use Time::HiRes qw(usleep);
use Bench;

my ($samples, $label, $present_label, $reps, $cwd, $archive, $stage,
	$segment, $logfile, $shim);
my $spread = 0.05;
GetOptions('samples=s' => \$samples, 'label=s' => \$label,
	'present-label=s' => \$present_label, 'reps=i' => \$reps,
	'cwd=s' => \$cwd, 'archive=s' => \$archive, 'stage=s' => \$stage,
	'segment=s' => \$segment, 'log=s' => \$logfile,
	'no-inotify=s' => \$shim, 'spread=f' => \$spread) or die "usage";
my @command = @ARGV;
chdir $cwd or die "could not chdir to \"$cwd\": $!";
my $out = 'pg_wal/RECOVERYXLOG';

sub start_pg_standby
{
	my $pid = fork() // die "fork: $!";
	if ($pid == 0)
	{
		open(STDERR, '>>', $logfile) or POSIX::_exit(127);
		$ENV{LD_PRELOAD} = $shim if defined $shim;
		exec { $command[0] } @command, $archive, $segment, $out
		  or POSIX::_exit(127);
	}
	return $pid;
}

sub finish
{
	my ($pid, $what) = @_;
	waitpid($pid, 0);
	die "$what: pg_standby exited with status " . ($? >> 8) . " (raw $?); see $logfile\n"
	  if $? != 0;
	die "$what: \"$out\" is not 16 MiB\n" unless (-s $out // 0) == 16 * 1024 * 1024;
}

# Waiting means: it has set up inotify (unless it cannot) and is asleep.
sub wait_until_waiting
{
	my ($pid) = @_;
	my $deadline = now_ms() + 30000;
	while (now_ms() < $deadline)
	{
		my $inotify = defined $shim;
		foreach my $fd (glob("/proc/$pid/fd/*"))
		{
			my $target = readlink($fd) // '';
			$inotify = 1 if $target eq 'anon_inode:inotify';
		}
		if ($inotify && open(my $fh, '<', "/proc/$pid/stat"))
		{
			my $stat = <$fh>;
			close($fh);
			return if $stat =~ /\)\s+S\s/;
		}
		die "pg_standby exited before the segment arrived; see $logfile\n"
		  if waitpid($pid, POSIX::WNOHANG()) == $pid;
		usleep(1000);
	}
	die "pg_standby never started waiting\n";
}

my (@arrival, @present);
rename("$archive/$segment", "$stage/$segment") if -e "$archive/$segment";
foreach my $round (0 .. $reps)
{
	# Waiting for it, then it arrives.
	unlink $out;
	my $pid = start_pg_standby();
	wait_until_waiting($pid);
	usleep(int(rand($spread * 1e6)));
	my $t0 = now_ms();
	rename("$stage/$segment", "$archive/$segment") or die "rename: $!";
	finish($pid, 'arrival');
	my $t = now_ms() - $t0;
	push @arrival, $t if $round > 0;    # round 0 warms up

	# Already there.
	unless (defined $present_label)
	{
		rename("$archive/$segment", "$stage/$segment") or die "rename: $!";
		next;
	}
	unlink $out;
	$t0 = now_ms();
	$pid = start_pg_standby();
	finish($pid, 'present');
	$t = now_ms() - $t0;
	push @present, $t if $round > 0;
	rename("$archive/$segment", "$stage/$segment") or die "rename: $!";
}
unlink $out;
append_samples($samples, $label, @arrival);
append_samples($samples, $present_label, @present) if defined $present_label;
