#!/usr/bin/perl
# Time commands that restore one file, round by round: in each round every
# method runs once, in a new random order, after its output file has been
# removed.  Wall-clock time from fork to exit, in milliseconds.
#
#   measure.pl --samples FILE --reps N --out PATH [--cwd DIR] [--warmup N]
#       -m LABEL [-o STDOUT_FILE] [-e VAR=VALUE] [-x STATUS] ARGV... ';;' -m LABEL ... ';;'
#
# PATH is the file every method writes (removed before each run, checked
# after it); -o sends a method's standard output to a file (decompressors);
# -e sets an environment variable for that method alone; -x says that a
# method writes no PATH and must end with the exit status given (such as 1,
# "not available"), instead of 0.
use strict;
use warnings;
use Getopt::Long qw(GetOptionsFromArray);
use List::Util qw(shuffle);
use POSIX ();
use Bench;

my ($samples, $reps, $out, $cwd, $warmup) = (undef, 10, undef, undef, 2);
my @options;
push @options, shift @ARGV while @ARGV && $ARGV[0] ne '-m';
GetOptionsFromArray(\@options, 'samples=s' => \$samples, 'reps=i' => \$reps, 'out=s' => \$out,
	'cwd=s' => \$cwd, 'warmup=i' => \$warmup) or die "usage";
die "--samples and --out are required" unless defined $samples && defined $out;

my @methods;
while (@ARGV)
{
	my $flag = shift @ARGV;
	die "expected -m, got \"$flag\"" unless $flag eq '-m';
	my %m = (label => shift @ARGV, env => {}, status => 0);
	while (@ARGV && ($ARGV[0] eq '-o' || $ARGV[0] eq '-e' || $ARGV[0] eq '-x'))
	{
		my $flag = shift @ARGV;
		my $value = shift @ARGV;
		if ($flag eq '-o')
		{
			$m{stdout} = $value;
		}
		elsif ($flag eq '-x')
		{
			$m{status} = $value;
			$m{no_output} = 1;
		}
		else
		{
			my ($name, $v) = split /=/, $value, 2;
			$m{env}{$name} = $v;
		}
	}
	my @argv;
	while (@ARGV && $ARGV[0] ne ';;')
	{
		push @argv, shift @ARGV;
	}
	shift @ARGV;
	$m{argv} = \@argv;
	push @methods, \%m;
}
chdir $cwd or die "could not chdir to \"$cwd\": $!" if defined $cwd;

sub run_once
{
	my ($m) = @_;
	unlink $out;
	unlink $m->{stdout} if defined $m->{stdout};
	my $t0 = now_ms();
	my $pid = fork() // die "fork: $!";
	if ($pid == 0)
	{
		$ENV{$_} = $m->{env}{$_} foreach keys %{ $m->{env} };
		if (defined $m->{stdout})
		{
			open(STDOUT, '>', $m->{stdout}) or POSIX::_exit(127);
		}
		exec { $m->{argv}[0] } @{ $m->{argv} } or POSIX::_exit(127);
	}
	waitpid($pid, 0);
	my $elapsed = now_ms() - $t0;
	die "$m->{label}: \"@{$m->{argv}}\" exited with status " . ($? >> 8) . " (raw $?)\n"
	  if $? != $m->{status} << 8;
	die "$m->{label}: \"$out\" is not 16 MiB after the run\n"
	  unless $m->{no_output} || (-s $out && -s $out == 16 * 1024 * 1024);
	return $elapsed;
}

# Warm the page cache and the binaries.
foreach (1 .. $warmup)
{
	run_once($_) foreach @methods;
}
my %times;
foreach my $round (1 .. $reps)
{
	foreach my $m (shuffle @methods)
	{
		push @{ $times{ $m->{label} } }, run_once($m);
	}
}
append_samples($samples, $_->{label}, @{ $times{ $_->{label} } }) foreach @methods;
unlink $out;
