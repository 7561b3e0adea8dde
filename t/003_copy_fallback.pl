# When copy_file_range() copies nothing (returns 0, as FUSE, network file
# systems and procfs do) or is refused (EXDEV, ENOSYS, EOPNOTSUPP, EINVAL),
# pg_standby copies with read and write instead: the segment is restored
# byte-identical with exit status 0, also when copy_file_range() stops
# part-way.  No file system the tests can mount does this, so a
# copy_file_range() of our own (t/file_system_faults.c) is preloaded;
# the test checks that it was the one called.
# The copy is checked in a mapping of it; where the file system refuses to
# map a file shared (FUSE in direct I/O mode), the same preloaded library's
# mmap() stands in for it, and the copy is read and checked instead.
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
use PgStandbyTest qw(pg_standby_binary run_pg_standby);

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
foreach my $fault (qw(zero short EXDEV ENOSYS EOPNOTSUPP EINVAL))
{
	my $restored = "$restore_dir/$fault";
	unlink $calls;

	local $ENV{LD_PRELOAD} = $preload;
	local $ENV{COPY_FILE_RANGE_FAULT} = $fault;
	local $ENV{COPY_FILE_RANGE_CALLS} = $calls;
	my ($status, $stdout, $stderr) =
	  run_pg_standby($tempdir, $archive, $segment, $restored);

	ok(-s $calls, "$fault: the preloaded copy_file_range() was called");
	is($status, 0, "$fault: exit status 0");
	is($stderr, '', "$fault: quiet");
	ok(-f $restored && slurp_file($restored) eq $wal,
		"$fault: the segment is restored byte-identical");
}

{
	my $restored = "$restore_dir/no-mmap";
	my $mmap_calls = "$tempdir/mmap-calls";

	local $ENV{LD_PRELOAD} = $preload;
	local $ENV{COPY_FILE_RANGE_FAULT} = 'none';
	local $ENV{MMAP_FAULT} = 'ENODEV';
	local $ENV{MMAP_CALLS} = $mmap_calls;
	my ($status, $stdout, $stderr) =
	  run_pg_standby($tempdir, $archive, $segment, $restored);

	ok(-s $mmap_calls, 'no shared mapping: the preloaded mmap() was called');
	is($status, 0, 'no shared mapping: exit status 0');
	is($stderr, '', 'no shared mapping: quiet');
	ok(-f $restored && slurp_file($restored) eq $wal,
		'no shared mapping: the segment is restored byte-identical');
}

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
	opendir(my $dh, $restore_dir) or die "could not open \"$restore_dir\": $!";
	my @left = grep { /^exit/ } readdir($dh);
	closedir($dh);
	is(join(' ', @left), '', 'exit: nothing left at the server\'s path');
}

done_testing();
