# When copy_file_range() copies nothing (returns 0, as FUSE, network file
# systems and procfs do) or is refused (EXDEV, ENOSYS, EOPNOTSUPP, EINVAL),
# pg_standby copies with read and write instead: the segment is restored
# byte-identical with exit status 0, also when copy_file_range() stops
# part-way.  No file system the tests can mount does this, so a
# copy_file_range() of our own (t/file_system_faults.c) is preloaded;
# the test checks that it was the one called.
# The copy is checked in a mapping of it, a second thread walking its
# records as the copy goes (copycheck.c): damage in its last megabyte is
# found, and an archive file cut short while it is being copied stops the
# walk and the copy alike, with nothing handed over.  Where the file
# system refuses to map a file shared (FUSE in direct I/O mode), the same
# preloaded library's mmap() stands in for it, and the copy is made and
# then checked instead.
# It also stands in for a library function that exits on its own in the
# middle of a restore (libpgcommon's pg_malloc() does, with status 1, when
# out of memory): pg_standby must end with 255, which stops the server,
# never with 1, which in archive recovery promotes it, and must leave
# nothing behind at the server's path.

use strict;
use warnings;
use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary run_pg_standby record_to_damage
  flip_bit);

# A sanitized pg_standby wants its sanitizer's runtime first among the
# libraries it loads; ours, which intercepts nothing of the sanitizer's,
# may come before it.  scripts/test.sh --sanitize sets ASAN_OPTIONS.
$ENV{ASAN_OPTIONS} .= ':verify_asan_link_order=0'
  if defined $ENV{ASAN_OPTIONS};

pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

# The interposer, built with the compiler PostgreSQL was built with.
my ($cc) = run_command([ 'pg_config', '--cc' ]);
my ($cflags_sl) = run_command([ 'pg_config', '--cflags_sl' ]);
my $preload = "$tempdir/file_system_faults.so";
my @build = (
	split(' ', $cc), split(' ', $cflags_sl),
	'-shared', '-o', $preload, "$FindBin::RealBin/file_system_faults.c");
note(join(' ', @build));
ok(run_log(\@build), 'the copy_file_range() and mmap() interposer builds')
  or BAIL_OUT('could not build t/file_system_faults.c');

# A real segment, from a cluster that initdb made, in an archive.
my $node = PostgreSQL::Test::Cluster->new('source');
$node->init;
my $segment = '000000010000000000000001';
my $archive = "$tempdir/archive";
my $restore_dir = "$tempdir/restored";
mkdir $_ or die "could not create \"$_\": $!" foreach ($archive, $restore_dir);
copy($node->data_dir . "/pg_wal/$segment", "$archive/$segment")
  or die "could not copy $segment: $!";
my $wal = slurp_file("$archive/$segment");

my $calls = "$tempdir/calls";

# Restore $segment to $restore_dir/$label with the interposer preloaded and
# %faults in the environment: the stand-in whose calls go to the file $calls
# names must have been called, and the segment restored as it is, quietly.
sub restores_despite
{
	my ($label, $stand_in, $calls_file, %faults) = @_;
	my $restored = "$restore_dir/$label";
	unlink $calls_file;

	local $ENV{LD_PRELOAD} = $preload;
	local @ENV{ keys %faults } = values %faults;
	my ($status, $stdout, $stderr) =
	  run_pg_standby($tempdir, $archive, $segment, $restored);

	ok(-s $calls_file, "$label: the preloaded $stand_in was called");
	is($status, 0, "$label: exit status 0");
	is($stderr, '', "$label: quiet");
	ok(-f $restored && slurp_file($restored) eq $wal,
		"$label: the segment is restored byte-identical");
	return;
}

foreach my $fault (qw(zero short EXDEV ENOSYS EOPNOTSUPP EINVAL))
{
	restores_despite($fault, 'copy_file_range()', $calls,
		COPY_FILE_RANGE_FAULT => $fault,
		COPY_FILE_RANGE_CALLS => $calls);
}

# Nothing in the temporary file's place, nothing at the server's path.
sub nothing_left
{
	my ($prefix) = @_;
	opendir(my $dh, $restore_dir) or die "could not open \"$restore_dir\": $!";
	my @left = grep { /^\Q$prefix\E/ } readdir($dh);
	closedir($dh);
	return join(' ', @left);
}

# Damage near the end: a flipped bit in a record in the segment's last
# megabyte, which the walk reaches only once the copy has.  A segment
# full of records: the one before the current segment, once 30 MB of rows
# have been written.
{
	my $damaged_archive = "$tempdir/archive-damaged";
	my $restored = "$restore_dir/damaged-end";
	mkdir $damaged_archive or die "could not create \"$damaged_archive\": $!";
	$node->start;
	$node->safe_psql('postgres', 'CREATE TABLE t (g int, x text)');
	$node->safe_psql('postgres',
		"INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g"
	);
	my $full = $node->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_lsn() - 16777216)');
	copy($node->data_dir . "/pg_wal/$full", "$damaged_archive/$full")
	  or die "could not copy $full: $!";
	$node->stop;
	my ($lsn, $offset) =
	  record_to_damage("$damaged_archive/$full", 15 * 1024 * 1024);
	ok(defined $offset, 'damage in the last megabyte: a record to damage');
	flip_bit("$damaged_archive/$full", $offset);
	my ($status, $stdout, $stderr) =
	  run_pg_standby($tempdir, '-w', '1', $damaged_archive, $full,
		$restored);
	is($status, 1, 'damage in the last megabyte: refused, exit 1');
	like(
		$stderr,
		qr/^pg_standby: detail: The record at \Q$lsn\E has an incorrect resource manager data checksum\.$/m,
		'damage in the last megabyte: found, naming the record');
	is(nothing_left('damaged-end'), '',
		'damage in the last megabyte: nothing handed over');
}

# The archive file cut to its first megabyte while it is being copied.
{
	my $shrinking_archive = "$tempdir/archive-shrinking";
	my $restored = "$restore_dir/shrunk";
	mkdir $shrinking_archive or die "could not create \"$shrinking_archive\": $!";
	copy("$archive/$segment", "$shrinking_archive/$segment")
	  or die "could not copy $segment: $!";
	unlink $calls;

	local $ENV{LD_PRELOAD} = $preload;
	local $ENV{COPY_FILE_RANGE_FAULT} = 'shrink';
	local $ENV{COPY_FILE_RANGE_CALLS} = $calls;
	my ($status, $stdout, $stderr) =
	  run_pg_standby($tempdir, '-d', '-w', '1', $shrinking_archive, $segment,
		$restored);
	is(-s "$shrinking_archive/$segment", 1024 * 1024,
		'cut while copied: the preloaded copy_file_range() cut the file');
	is($status, 1, 'cut while copied: exit 1');
	like(
		$stderr,
		qr/^pg_standby: detail: The file shrank while being copied\.$/m,
		'cut while copied: said so');
	is(nothing_left('shrunk'), '', 'cut while copied: nothing handed over');
}

restores_despite(
	'no shared mapping', 'mmap()', "$tempdir/mmap-calls",
	COPY_FILE_RANGE_FAULT => 'none',
	MMAP_FAULT => 'ENODEV',
	MMAP_CALLS => "$tempdir/mmap-calls");

{
	my $restored = "$restore_dir/exit";
	unlink $calls;

	local $ENV{LD_PRELOAD} = $preload;
	local $ENV{COPY_FILE_RANGE_FAULT} = 'exit';
	local $ENV{COPY_FILE_RANGE_CALLS} = $calls;
	my ($status, $stdout, $stderr) =
	  run_pg_standby($tempdir, $archive, $segment, $restored);

	ok(-s $calls, 'exit: the preloaded copy_file_range() was called');
	is($status, 255, 'exit: a library\'s exit(1) becomes status 255');
	like(
		$stderr,
		qr/^pg_standby: error: exiting for a reason pg_standby did not choose$/m,
		'exit: says so');
	is(nothing_left('exit'), '', 'exit: nothing left at the server\'s path');
}

done_testing();
