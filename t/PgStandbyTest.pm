# Helpers shared by pg_standby's TAP tests: the program under test, a
# bounded poll, and reading a server's log from a position on.

package PgStandbyTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT_OK =
  qw(pg_standby_binary wait_until log_position log_since restored_regex);

# The pg_standby under test: the one just built, in the build directory,
# which the Makefile exports as TESTDIR on every PostgreSQL version.
sub pg_standby_binary
{
	my $path = "$ENV{TESTDIR}/pg_standby";

	ok(-x $path, 'pg_standby found')
	  or BAIL_OUT("pg_standby not found at \"$path\"");
	return $path;
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

1;
