# Helpers shared by pg_standby's TAP tests: the program under test, a
# bounded poll, and reading a server's log from a position on.

package PgStandbyTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

our @EXPORT_OK = qw(pg_standby_binary run_pg_standby wait_until
  log_position log_since restored_regex read_binary write_binary place record_to_damage);

# PG_STANDBY_WRAPPER runs pg_standby under a checker such as valgrind (see
# .ci/run); it must keep pg_standby's stdout, stderr and exit status.
my @wrapper = split(' ', $ENV{PG_STANDBY_WRAPPER} // '');

# The pg_standby under test: the one just built, in the build directory,
# which the Makefile exports as TESTDIR on every PostgreSQL version.
sub pg_standby_binary
{
	my $path = "$ENV{TESTDIR}/pg_standby";

	ok(-x $path, 'pg_standby found')
	  or BAIL_OUT("pg_standby not found at \"$path\"");
	return $path;
}

# Run pg_standby (found in PATH) in directory $cwd, with no standard input;
# returns (exit status, stdout, stderr, seconds).  Death by a signal is a
# test failure.
sub run_pg_standby
{
	my ($cwd, @args) = @_;
	my ($stdout, $stderr) = ('', '');

	note("running in $cwd: pg_standby " . join(' ', map { "'$_'" } @args));
	my $start = time();
	my $h = IPC::Run::start(
		[ @wrapper, 'pg_standby', @args ],
		init => sub { chdir $cwd or die "could not chdir to \"$cwd\": $!" },
		'<' => \undef,
		'>' => \$stdout,
		'2>' => \$stderr,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	$h->finish;
	my $elapsed = time() - $start;
	my $status = $h->full_result(0);
	die "pg_standby died by signal " . ($status & 127) if $status & 127;
	note("exit status " . ($status >> 8) . ", stderr:\n$stderr");
	return ($status >> 8, $stdout, $stderr, $elapsed);
}

# Poll until $check returns true, at most $seconds (default: the default
# timeout).
sub wait_until
{
	my ($check, $what, $seconds) = @_;
	my $deadline =
	  time() + ($seconds // $PostgreSQL::Test::Utils::timeout_default);

	while (time() < $deadline)
	{
		return 1 if $check->();
		usleep(100_000);
	}
	diag("timed out waiting for $what");
	return 0;
}

# Where a node's log ends now, and what it logged since such a position.
sub log_position
{
	my ($node) = @_;
	return -s $node->logfile;
}

sub log_since
{
	my ($node, $offset) = @_;
	return slurp_file($node->logfile, $offset);
}

# The server's own line for a segment restored by its restore_command.
sub restored_regex
{
	my ($segment) = @_;
	return qr/restored log file "$segment" from archive/;
}

# A file's bytes.
sub read_binary
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "could not open \"$path\": $!";
	binmode $fh;
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

sub write_binary
{
	my ($path, $data) = @_;
	open(my $fh, '>', $path) or die "could not open \"$path\": $!";
	binmode $fh;
	print $fh $data or die "could not write \"$path\": $!";
	close $fh or die "could not close \"$path\": $!";
	return;
}

# Put $data in place as $path atomically, as an archiver would: a
# temporary name, then a rename.
sub place
{
	my ($path, $data) = @_;
	write_binary("$path.tmp", $data);
	rename("$path.tmp", $path) or die "could not rename to \"$path\": $!";
	return;
}

# A record of the WAL segment at $path whose data lies on one page, not
# the first: returns its LSN as the server prints it, and the offset in
# the file of a byte in the middle of its data (not in any header).
sub record_to_damage
{
	my ($path) = @_;
	my $seg_size = -s $path;
	my ($dump) = run_command([ 'pg_waldump', $path ]);

	foreach my $line (split /\n/, $dump)
	{
		next
		  unless $line =~ m{tot\):\s+\d+/\s*(\d+),.*lsn: ([0-9A-F]+)/([0-9A-F]+),};
		my ($len, $hi, $lo) = ($1, hex($2), hex($3));
		my $start = ($hi * 2**32 + $lo) % $seg_size;
		next if $len < 100 || $start < 8192;
		next if int($start / 8192) != int(($start + $len) / 8192);
		return (sprintf('%X/%X', $hi, $lo), $start + int($len / 2));
	}
	return;
}

1;
