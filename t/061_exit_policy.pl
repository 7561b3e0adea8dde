
# Copyright (c) 2025, PostgreSQL Global Development Group

# Running out of memory never makes pg_standby exit with status 1, which
# in archive recovery would end recovery and promote.  libpgcommon exits
# with 1 when an allocation fails, and pg_standby turns any exit it did not
# choose into 255; its own allocations (the copy buffer, the map of the
# copy it checks) report failure as a failed copy.  pg_standby restores a
# real 16 MB segment, as the server in archive recovery asks (with -r 0:
# no retry), under a range of address space limits (RLIMIT_AS), from too
# small to load the program at all to large enough for everything.  The
# test proves that some runs do fail for want of memory while restoring
# (so those paths are taken), that each of them ends with 255 and leaves no
# file behind, that with enough memory the same run restores the segment,
# and that no run at all exits with 1.
use strict;
use warnings;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary);

require 'sys/syscall.ph';

# AddressSanitizer reserves terabytes of address space for its shadow
# memory at start-up, so under any limit that could make an allocation
# fail, a sanitized pg_standby cannot start at all.  Whether pg_standby
# is sanitized shows in the binary, which calls the sanitizer's start-up;
# not in ASAN_OPTIONS, which meson test sets for every test.
my $program = $ENV{PG_STANDBY_PROGRAM} // '';
plan skip_all =>
  'an address space limit cannot be combined with AddressSanitizer'
  if -r $program && slurp_file($program) =~ /__asan_init/;

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

# A real segment, from a cluster that initdb made.
my $node = PostgreSQL::Test::Cluster->new('source');
$node->init;
my $segment = '000000010000000000000001';
my $wal = slurp_file($node->data_dir . "/pg_wal/$segment");

# A data directory in archive recovery (no standby.signal), and an archive
# that holds the segment.
my $datadir = "$tempdir/data";
my $archive = "$tempdir/archive";
mkdir $_ or die "could not create \"$_\": $!"
  foreach ($datadir, "$datadir/pg_wal", $archive);
open(my $fh, '>:raw', "$archive/$segment") or die "could not open: $!";
print $fh $wal;
close $fh;

# Run pg_standby with the address space limited to $kb kilobytes; returns
# its exit status (or 128 + signal) and stderr.
sub run_limited
{
	my ($kb, @args) = @_;
	my $stderr_file = "$tempdir/stderr";
	my $pid = fork() // die "could not fork: $!";

	# the child never returns into the test (POSIX::_exit on any failure)
	if ($pid == 0)
	{
		my $limit = pack('QQ', $kb * 1024, $kb * 1024);
		chdir $datadir
		  and open(STDIN, '<', '/dev/null')
		  and open(STDERR, '>', $stderr_file)
		  and open(STDOUT, '>&', \*STDERR)
		  and syscall(&SYS_setrlimit, 9, $limit) == 0    # RLIMIT_AS
		  and exec { $pg_standby } 'pg_standby', @args;
		print STDERR "could not run pg_standby: $!\n";
		POSIX::_exit(99);
	}
	waitpid($pid, 0);
	my $status = $? & 127 ? 128 + ($? & 127) : $? >> 8;
	return ($status, slurp_file($stderr_file));
}

my @args = ('-r', '0', $archive, $segment, 'pg_wal/RECOVERYXLOG');

# The smallest limit under which the program runs at all.
my $runs_at;
for (my $kb = 1024; $kb <= 65536; $kb += 64)
{
	my ($status) = run_limited($kb, '--version');
	if ($status == 0)
	{
		$runs_at = $kb;
		last;
	}
}
ok(defined $runs_at, 'found an address space limit that pg_standby runs in');
note("pg_standby --version runs in $runs_at kB") if defined $runs_at;
$runs_at //= 65536;

my ($oom_runs, $bad_oom_runs, $restored_runs, $exits_1) = (0, 0, 0, 0);
for (my $kb = $runs_at; $kb <= $runs_at + 24 * 1024; $kb += 256)
{
	unlink "$datadir/pg_wal/RECOVERYXLOG";
	my ($status, $stderr) = run_limited($kb, @args);
	my @left = glob("$datadir/pg_wal/*.tmp");

	$exits_1++ if $status == 1;
	if ($stderr =~ /\b[Oo]ut of memory\b|Cannot allocate memory/)
	{
		$oom_runs++;
		if ($status != 255 || @left)
		{
			$bad_oom_runs++;
			diag("limit $kb kB: status $status, left @left, stderr:\n$stderr");
		}
	}
	elsif ($status == 0 && -s "$datadir/pg_wal/RECOVERYXLOG" == length($wal))
	{
		$restored_runs++;
	}
}
note("runs out of memory: $oom_runs; runs that restored: $restored_runs");
ok($oom_runs > 0, 'some runs ran out of memory while restoring');
is($bad_oom_runs, 0,
	'each of them exited with status 255 and left no temporary file');
ok($restored_runs > 0, 'with enough memory, the same run restores');
is($exits_1, 0, 'no run exited with status 1');

done_testing();
