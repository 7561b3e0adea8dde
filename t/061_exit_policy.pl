
# Copyright (c) 2025, PostgreSQL Global Development Group

# Every exit of pg_standby has a status it chose.  libpgcommon ends the
# process with exit(1) when an allocation fails (pg_malloc(), psprintf(),
# pg_realloc()), and status 1 would end archive recovery and promote.
# pg_standby, waiting for a segment in archive recovery, reads the server's
# configuration, which here includes a directory of 3000 files: the list of
# their names is built with pg_realloc() and psprintf().  Run under a range
# of address space limits (RLIMIT_AS), from too small to load the program
# at all to large enough for everything, some runs fail in exactly those
# allocations.  The test proves that such runs happen (so the path is
# really taken), and that each of them ends with status 255, which stops
# the server, never with 1.
use strict;
use warnings;
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary);

require 'sys/syscall.ph';

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

# A data directory in archive recovery (no standby.signal) whose
# configuration includes many files with long names.
my $datadir = "$tempdir/data";
my $archive = "$tempdir/archive";
mkdir $_ or die "could not create \"$_\": $!"
  foreach ($datadir, "$datadir/pg_wal", "$datadir/conf.d", $archive);
append_to_file("$datadir/postgresql.conf", "include_dir 'conf.d'\n");
foreach my $i (1 .. 3000)
{
	append_to_file("$datadir/conf.d/$i" . ('c' x 200) . '.conf', '');
}

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

my @args = ('-w', '0.05', $archive, '000000010000000000000001',
	'pg_wal/RECOVERYXLOG');

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

my ($oom_runs, $bad_exits, $full_runs) = (0, 0, 0);
for (my $kb = $runs_at; $kb <= $runs_at + 4096; $kb += 32)
{
	my ($status, $stderr) = run_limited($kb, @args);

	if ($stderr =~ /^out of memory$/m)
	{
		$oom_runs++;
		if ($status != 255
			|| $stderr !~
			/pg_standby: error: exiting for a reason pg_standby did not choose: with status 255/
		  )
		{
			$bad_exits++;
			diag("limit $kb kB: status $status, stderr:\n$stderr");
		}
	}
	elsif ($status == 1 && $stderr =~ /waited 0.05 seconds/)
	{
		$full_runs++;
	}
}
note("runs out of memory in libpgcommon: $oom_runs; runs to the end: $full_runs");
ok($oom_runs > 0, 'some runs ran out of memory in libpgcommon');
is($bad_exits, 0, 'each of them exited with status 255, none with 1');
ok($full_runs > 0, 'with enough memory, the same run waits to the end');

done_testing();
