# Helpers shared by pg_standby's TAP tests: the program under test, a
# bounded poll, and reading a server's log from a position on.

package PgStandbyTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use Time::HiRes qw(time usleep);

our @EXPORT_OK = qw(pg_standby_binary run_pg_standby wait_until
  log_position log_since restored_regex read_binary write_binary place
  archiving_primary switch_wal archive_round wait_for_round pg_standby_node
  start_caught_up promotion_regex record_to_damage flip_bit);

# PG_STANDBY_WRAPPER runs pg_standby under a checker such as valgrind (see
# .ci/run); it must keep pg_standby's stdout, stderr and exit status.
my @wrapper = split(' ', $ENV{PG_STANDBY_WRAPPER} // '');

# The pg_standby under test: the one just built, or the installed one
# after "make installcheck PG_STANDBY_INSTALLED=1"; the Makefile (or
# meson.build) exports its path as PG_STANDBY_PROGRAM.
sub pg_standby_binary
{
	my $path = $ENV{PG_STANDBY_PROGRAM} // '';

	ok(-x $path, 'pg_standby found')
	  or BAIL_OUT("pg_standby not found at \"$path\"");
	return $path;
}

# Run the pg_standby under test in directory $cwd, with no standard input;
# returns (exit status, stdout, stderr, seconds).  Death by a signal is a
# test failure.
sub run_pg_standby
{
	my ($cwd, @args) = @_;
	my ($stdout, $stderr) = ('', '');

	note("running in $cwd: pg_standby " . join(' ', map { "'$_'" } @args));
	my $start = time();
	my $h = IPC::Run::start(
		[ @wrapper, $ENV{PG_STANDBY_PROGRAM}, @args ],
		init => sub { chdir $cwd or die "could not chdir to \"$cwd\": $!" },
		'<' => \undef,
		'>' => \$stdout,
		'2>' => \$stderr,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	# A timeout leaves pg_standby running: stop it before failing.
	if (!eval { $h->finish; 1 })
	{
		my $error = $@;
		$h->kill_kill;
		die $error;
	}
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

# A primary with 1MB segments (cheap to replay many times) that archives
# into $archive atomically (a temporary name, then a rename), with a table
# t for rounds of rows and a base backup named "base".
sub archiving_primary
{
	my ($archive) = @_;
	my $primary = PostgreSQL::Test::Cluster->new('primary');

	mkdir $archive unless -d $archive;
	$primary->init(allows_streaming => 1, extra => ['--wal-segsize=1']);
	$primary->append_conf(
		'postgresql.conf', qq(
archive_mode = on
archive_command = 'cp "%p" "$archive/%f.tmp" && mv "$archive/%f.tmp" "$archive/%f"'
));
	$primary->start;
	$primary->safe_psql('postgres',
		'CREATE TABLE t (round int NOT NULL, i int NOT NULL, filler text)');
	$primary->backup('base');
	return $primary;
}

my $round = 0;

sub current_segment
{
	my ($primary) = @_;
	return $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
}

# Switch $primary to a new segment; returns the name of the one just
# finished.
sub switch_wal
{
	my ($primary) = @_;
	my $segment = current_segment($primary);
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	return $segment;
}

# Commit a round of $rows rows (10 by default) of about 100 bytes, finish
# its segment and wait until it is archived; returns the round and the
# first and last segment its WAL is in.
sub archive_round
{
	my ($primary, $archive, $rows) = @_;
	my $n = ++$round;
	my $first = current_segment($primary);

	$rows //= 10;
	$primary->safe_psql('postgres',
		"INSERT INTO t SELECT $n, g, repeat('x', 100) FROM generate_series(1, $rows) g"
	);
	my $last = current_segment($primary);
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	wait_until(sub { -f "$archive/$last" }, "$last to be archived")
	  or die "$last was not archived";
	return ($n, $first, $last);
}

sub wait_for_round
{
	my ($node, $n, $rows) = @_;
	$rows //= 10;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = $rows FROM t WHERE round = $n");
}

# A standby of $primary, from its base backup, not started, whose
# restore_command is pg_standby with $options, in $mode ("archive":
# recovery.signal, "standby": standby.signal); $conf is added to its
# configuration.
sub pg_standby_node
{
	my ($name, $primary, $mode, $options, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $pg_standby = $ENV{PG_STANDBY_PROGRAM};

	$node->init_from_backup($primary, 'base');
	$node->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" $options %f %p'
recovery_prefetch = off
hot_standby = on
archive_mode = off
) . ($conf // ''));
	if ($mode eq 'standby')
	{
		$node->set_standby_mode;
	}
	else
	{
		$node->set_recovery_mode;
	}
	return $node;
}

# Start a standby and check that it replays a new round of $primary's.
sub start_caught_up
{
	my ($node, $primary, $archive) = @_;
	$node->start;
	my ($n) = archive_round($primary, $archive);
	ok(wait_for_round($node, $n), $node->name . ': replays archived WAL');
	return $node;
}

# Ending recovery shows in the server's log as one of these.
sub promotion_regex
{
	return qr/selected new timeline ID|archive recovery complete/;
}

# A record of the WAL segment at $path whose data lies on one page, not
# the first (or at offset $from or later): returns its LSN as the server
# prints it, and the offset in the file of a byte in the middle of its
# data (not in any header).
sub record_to_damage
{
	my ($path, $from) = @_;
	my $seg_size = -s $path;
	my ($dump) = run_command([ 'pg_waldump', $path ]);

	foreach my $line (split /\n/, $dump)
	{
		next
		  unless $line =~ m{tot\):\s+\d+/\s*(\d+),.*lsn: ([0-9A-F]+)/([0-9A-F]+),};
		my ($len, $hi, $lo) = ($1, hex($2), hex($3));
		my $start = ($hi * 2**32 + $lo) % $seg_size;
		next if $len < 100 || $start < ($from // 8192);
		next if int($start / 8192) != int(($start + $len) / 8192);
		return (sprintf('%X/%X', $hi, $lo), $start + int($len / 2));
	}
	return;
}

# Flip the lowest bit of the byte at $offset in file $path.
sub flip_bit
{
	my ($path, $offset) = @_;
	open(my $fh, '+<:raw', $path) or die "could not open \"$path\": $!";
	seek($fh, $offset, 0);
	read($fh, my $byte, 1);
	seek($fh, $offset, 0);
	print $fh chr(ord($byte) ^ 0x01);
	close $fh;
	return;
}

1;
