
# Copyright (c) 2025, PostgreSQL Global Development Group

# A pg_wal that cannot take the next segment, while a segment is in the
# archive.  In standby mode (standby.signal) "not available" only makes the
# server ask again, so pg_standby, after its -r retries, answers that and
# the standby stays up; it resumes by itself when the trouble is gone:
#  1. pg_wal not writable (runs everywhere);
#  2. pg_wal on a really full file system (a small tmpfs that
#     scripts/test.sh mounts as root and names in PG_STANDBY_SMALL_FS;
#     skipped, saying so, without it).
# In archive recovery the rule does not change (exit 1 would end recovery):
#  3. on the same full file system, pg_standby gives up with 255 after its
#     retries and the server stops, still in archive recovery.
use strict;
use warnings;
use File::Copy;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since
  archiving_primary archive_round wait_for_round pg_standby_node start_caught_up
  promotion_regex);

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $small_fs = $ENV{PG_STANDBY_SMALL_FS};

my $archive = "$tempdir/archive";
my $primary = archiving_primary($archive);

sub rows_of_round
{
	my ($node, $n) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE round = $n");
}

my $promotion_regex = promotion_regex();

# A standby whose pg_wal is $wal_dir (moved there, pg_wal a symbolic link)
# when given.
sub make_standby
{
	my ($name, $mode, $wal_dir) = @_;
	my $node = pg_standby_node($name, $primary, $mode,
		"-r 1 -s 0.2 \"$archive\"", "wal_retrieve_retry_interval = 500ms\n");
	if (defined $wal_dir)
	{
		my $pg_wal = $node->data_dir . '/pg_wal';
		make_path($wal_dir);
		system('cp', '-a', "$pg_wal/.", $wal_dir) == 0
		  or die "could not copy $pg_wal";
		system('rm', '-rf', $pg_wal) == 0 or die "could not remove $pg_wal";
		symlink($wal_dir, $pg_wal) or die "could not link $pg_wal: $!";
	}
	return start_caught_up($node, $primary, $archive);
}

# Fill the file system of $dir up to the last byte, with one file.
sub fill
{
	my ($dir) = @_;
	my $filler = "$dir/filler";
	open(my $fh, '>:raw', $filler) or die "could not open \"$filler\": $!";
	my $block = "\0" x 65536;
	while (syswrite($fh, $block))
	{
	}
	die "could not fill \"$dir\": $!" unless $!{ENOSPC};
	my $partial = 'x';
	while (syswrite($fh, $partial))
	{
	}
	close $fh;
	return $filler;
}

# The standby has failed to restore the round's segment and answered "not
# available" at least twice (two runs of pg_standby, so the server asked
# again), and is still up, in recovery, without the round.
sub stays_up_ok
{
	my ($what, $node, $n, $offset) = @_;
	ok( wait_until(
			sub {
				my $log = log_since($node, $offset);
				my $answers = () = $log =~ /answering "not available"/g;
				return $answers >= 2;
			},
			'pg_standby to answer "not available" twice'),
		"$what: pg_standby answers \"not available\" after its retries, again and again");
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "$what: the standby is up and in recovery");
	is(rows_of_round($node, $n), 0, "$what: the round is not replayed yet");
	unlike(log_since($node, $offset), qr/FATAL|PANIC/,
		"$what: the server did not stop");
	return;
}

###
### 1. pg_wal not writable, in standby mode.
###
{
	my $node = make_standby('not_writable', 'standby');
	my $pg_wal = $node->data_dir . '/pg_wal';
	my $offset = log_position($node);
	chmod(0500, $pg_wal) or die "could not chmod \"$pg_wal\": $!";
	my ($n) = archive_round($primary, $archive);
	stays_up_ok('not writable', $node, $n, $offset);
	like(log_since($node, $offset), qr/detail: Could not create file "pg_wal\/RECOVERYXLOG\.pg_standby\.tmp": Permission denied\./,
		'not writable: pg_standby says why');

	chmod(0700, $pg_wal) or die "could not chmod \"$pg_wal\": $!";
	ok(wait_for_round($node, $n), 'not writable: replay resumes by itself');
	ok(!$node->log_contains($promotion_regex, $offset),
		'not writable: recovery never ended');
	$node->stop;
}

SKIP:
{
	skip 'PG_STANDBY_SMALL_FS is not set: a full file system needs root (run scripts/test.sh as root)', 1
	  unless defined $small_fs && -d $small_fs;

	###
	### 2. pg_wal on a full file system, in standby mode.
	###
	my $node = make_standby('full_standby', 'standby', "$small_fs/standby_wal");
	my $offset = log_position($node);
	my $filler = fill($small_fs);
	my ($n) = archive_round($primary, $archive);
	stays_up_ok('full disk', $node, $n, $offset);
	like(log_since($node, $offset), qr/No space left on device/,
		'full disk: pg_standby says why');

	unlink $filler or die "could not remove \"$filler\": $!";
	ok(wait_for_round($node, $n), 'full disk: replay resumes by itself');
	ok(!$node->log_contains($promotion_regex, $offset),
		'full disk: recovery never ended');
	$node->stop;

	###
	### 3. The same in archive recovery: the server stops, never promotes.
	###
	$node = make_standby('full_archive', 'archive', "$small_fs/archive_wal");
	$offset = log_position($node);
	$filler = fill($small_fs);
	($n) = archive_round($primary, $archive);
	$node->wait_for_log(
		qr/FATAL:  could not restore file "[0-9A-F]{24}" from archive: child process exited with exit code 255/,
		$offset);
	ok( wait_until(sub { !-e $node->data_dir . '/postmaster.pid' },
			'the server to stop'),
		'archive recovery, full disk: the server stopped');
	$node->_update_pid(0);
	ok(!$node->log_contains($promotion_regex, $offset),
		'archive recovery, full disk: recovery did not end');
	unlink $filler or die "could not remove \"$filler\": $!";
	$node->start;
	ok(wait_for_round($node, $n),
		'archive recovery, full disk: replay resumes after a restart');
	$node->stop;
}

done_testing();
