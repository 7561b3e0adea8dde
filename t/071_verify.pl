
# Copyright (c) 2025, PostgreSQL Global Development Group

# pg_standby --verify on archives written by real servers.  A primary and
# two failovers (timelines 1, 2 and 3, each promoted standby archiving into
# the same directory, with the .partial and .backup files that leaves)
# make a clean archive, which verifies clean, in text and in JSON, and from
# whose first base backup replay reaches the end (--from with a
# backup_label, a backup history file, a segment name).  Copies of it with
# one fault each are reported with the fault named, and the exit status
# says so: a missing segment (a gap; --from then answers no), a segment of
# another cluster under a name of ours, a timeline that goes on after
# another branched from it (a fork), a history file that points at the
# wrong switch point, a truncated compressed segment, a flipped bit in a
# record; and faults the second thread that reads plain segments ahead
# meets between compressed ones.  Usage errors exit with 254.
use strict;
use warnings;
use File::Copy;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary run_pg_standby record_to_damage
  flip_bit);

pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

# Archive $node's WAL into $dir (a promoted standby archives there too).
sub archive_into
{
	my ($node, $dir) = @_;
	$node->append_conf('postgresql.conf', qq(
archive_mode = on
archive_command = 'cp "%p" "$dir/%f.tmp" && mv "$dir/%f.tmp" "$dir/%f"'
));
	return;
}

sub wait_archived
{
	my ($node) = @_;
	my $segment = $node->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_lsn())');
	$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
	$node->poll_query_until('postgres',
		"SELECT last_archived_wal >= '$segment' FROM pg_stat_archiver")
	  or die "$segment was not archived";
	return $segment;
}

sub write_rounds
{
	my ($node, $n) = @_;
	for (1 .. $n)
	{
		$node->safe_psql('postgres',
			"INSERT INTO t SELECT g, repeat('w', 100) FROM generate_series(1, 3000) g");
		wait_archived($node);
	}
	return;
}

my $archive = "$tempdir/archive";
mkdir $archive;

# Timeline 1.
my $a = PostgreSQL::Test::Cluster->new('a');
$a->init(allows_streaming => 1);
archive_into($a, $archive);
$a->start;
$a->safe_psql('postgres', 'CREATE TABLE t (a int, b text)');
write_rounds($a, 2);
$a->backup('b1');
my $backup_label = $a->backup_dir . '/b1/backup_label';

# A standby of $old from its backup $backup, archiving into the same
# directory, promoted once $old has written $rounds more rounds and stopped:
# the next timeline.
sub failover_to
{
	my ($name, $old, $backup, $rounds) = @_;
	my $new = PostgreSQL::Test::Cluster->new($name);
	$new->init_from_backup($old, $backup, has_streaming => 1);
	archive_into($new, $archive);
	$new->start;
	write_rounds($old, $rounds);
	$old->wait_for_catchup($new);
	$old->stop;
	$new->promote;
	$new->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()');
	return $new;
}

my $b = failover_to('b', $a, 'b1', 2);
write_rounds($b, 2);
$b->backup('b2');
my $c = failover_to('c', $b, 'b2', 1);
write_rounds($c, 2);
$c->stop;

my @files = slurp_dir($archive);
ok((grep { /^00000002\.history$/ } @files)
	  && (grep { /^00000003\.history$/ } @files)
	  && (grep { /^0000000[12][0-9A-F]{16}\.partial$/ } @files)
	  && (grep { /\.backup$/ } @files),
	'the archive has two timeline switches, .partial and .backup files');

sub verify
{
	my (@args) = @_;
	return run_pg_standby($tempdir, '--verify', @args);
}

###########################################################################
# The clean archive.
###########################################################################
my ($status, $out, $err) = verify($archive);
is($status, 0, 'clean archive: exit 0');
like($out, qr/^no problems found$/m, 'clean archive: no problems found');
like($out, qr/^timeline 1:\n  present: 000000010000000000000001 - /m,
	'clean archive: timeline 1 listed');
like($out, qr/^timeline 3:\n  present: /m, 'clean archive: timeline 3 listed');
like($out, qr/^partial: 00000001[0-9A-F]{16}\.partial: It holds WAL of timeline 1 up to [0-9A-F]+\/[0-9A-F]+, the last segment of this timeline at a promotion \(a newer timeline branched from it\), and is not needed for replay\.$/m,
	'clean archive: the .partial of timeline 1 is explained');
like($out, qr/^backup: [0-9A-F]{24}\.[0-9A-F]{8}\.backup: A base backup on timeline 1 is consistent once WAL from [0-9A-F]+\/[0-9A-F]+ to [0-9A-F]+\/[0-9A-F]+ is replayed\.$/m,
	'clean archive: the backup history file is explained');
is($err, '', 'clean archive: nothing on stderr (no terminal, no progress)');

($status, $out) = verify($archive, '--format=json');
is($status, 0, 'json: exit 0');
my $report = eval { decode_json($out) };
ok(defined $report, 'json: the output parses') or diag($@);
is($report->{problems}, 0, 'json: no problems');
is(join(',', map { $_->{timeline} } @{ $report->{timelines} }),
	'1,2,3', 'json: timelines 1, 2 and 3');
ok((grep { $_->{kind} eq 'partial' && !$_->{problem} } @{ $report->{findings} }),
	'json: .partial files are findings, not problems');

($status, $out) = verify($archive, '--from', $backup_label);
is($status, 0, '--from backup_label: exit 0');
like($out, qr/^from \Q$backup_label\E: yes: Replay from [0-9A-F\/]+ on timeline 1 reaches [0-9A-F\/]+ in 00000003[0-9A-F]{16}, the end of the archive on timeline 3\.$/m,
	'--from backup_label: replay reaches the end on timeline 3');
my ($backup_file) = sort grep { /\.backup$/ } @files;
($status, $out) = verify($archive, "--from=$backup_file");
is($status, 0, '--from backup history file: exit 0');
($status, $out) = verify($archive, '--from=000000010000000000000002',
	'--format=json');
$report = decode_json($out);
ok($report->{from}{reaches_end}, '--from segment, json: reaches the end');

($status, $out) = verify($archive, '-D', $c->data_dir);
is($status, 0, '-D: the cluster of the archive: exit 0');

###########################################################################
# One fault in each copy.
###########################################################################
my $copies = 0;

sub archive_copy
{
	my $dir = "$tempdir/copy" . ++$copies;
	mkdir $dir;
	copy("$archive/$_", "$dir/$_") or die "could not copy $_: $!"
	  foreach grep { !/^\.\.?$/ } slurp_dir($archive);
	return $dir;
}

my @segments = sort grep { /^[0-9A-F]{24}$/ } @files;
my @tl2 = grep { /^00000002/ } @segments;
my @tl3 = grep { /^00000003/ } @segments;

# A gap: a segment in the middle of timeline 2.
{
	my $dir = archive_copy();
	my $missing = $tl2[1];
	unlink "$dir/$missing";
	($status, $out) = verify($dir);
	is($status, 2, 'gap: exit 2');
	like($out, qr/^gap: \Q$missing\E: Segments \Q$missing\E to \Q$missing\E of timeline 2 are missing\.$/m,
		'gap: the missing segment is named');
	($status, $out) = verify($dir, '--from', $backup_label);
	is($status, 3, 'gap: --from exits 3');
	like($out, qr/^from .*: no: Replay stops before \Q$missing\E, which is missing or refused\.$/m,
		'gap: --from says where replay stops');
	($status, $out) = verify($dir, '--from', $tl3[0]);
	is($status, 2, 'gap: --from after the gap reaches the end (problems elsewhere: 2)');
}

# A segment of another cluster under a name of ours; the cluster made by
# initdb, not copied from the initdb template of the tests in a source
# tree, which would have $a's system identifier.
{
	my $other = PostgreSQL::Test::Cluster->new('other');
	$other->init(force_initdb => 1);
	$other->start;
	$other->safe_psql('postgres', "CREATE TABLE f$_ (); SELECT pg_switch_wal()")
	  for 1 .. 3;
	my $name = '000000010000000000000002';
	ok((grep { $_ eq $name } @segments), "the archive has $name");
	my $dir = archive_copy();
	copy($other->data_dir . "/pg_wal/$name", "$dir/$name")
	  or die "could not copy the other cluster's $name: $!";
	$other->stop;
	($status, $out) = verify($dir);
	is($status, 2, 'foreign segment: exit 2');
	like($out, qr/^foreign: \Q$name\E: Its system identifier is \d+, but the archive's is \d+ \(from the first valid segment\)\.$/m,
		'foreign segment: named, with both system identifiers');
	($status, $out) = verify($dir, '-D', $c->data_dir);
	like($out, qr/^foreign: \Q$name\E: .*\(from the data directory\)\.$/m,
		'foreign segment: -D compares with the cluster');
}

# A fork: the old primary of timeline 1 starts again and archives WAL
# after the point where timeline 2 branched from it.
{
	my $fork = "$tempdir/fork";
	mkdir $fork;
	archive_into($a, $fork);
	$a->start;
	my $forked = wait_archived($a);
	$a->stop;
	my $dir = archive_copy();
	copy("$fork/$forked", "$dir/$forked") or die "could not copy $forked: $!";
	($status, $out) = verify($dir);
	is($status, 2, 'fork: exit 2');
	like($out, qr/^fork: \Q$forked\E: Timeline 1 goes on after [0-9A-F\/]+, where timeline 2 branched from it \(00000002\.history\)\.$/m,
		'fork: the segment written after the branch is named');
}

# A history file that points at the wrong switch point: three pages off.
{
	my $dir = archive_copy();
	my $history = slurp_file("$dir/00000002.history");
	my ($hi, $lo) = $history =~ /^1\t([0-9A-F]+)\/([0-9A-F]+)/m
	  or die 'no switch point in 00000002.history';
	my $lsn = hex($hi) * 2**32 + hex($lo);
	my $seg_size = 16 * 1024 * 1024;
	my $wrong = ($lsn % $seg_size > 4 * 8192) ? $lsn - 3 * 8192 : $lsn + 3 * 8192;
	my $wrong_text = sprintf('%X/%X', int($wrong / 2**32), $wrong % 2**32);
	$history =~ s/^1\t[0-9A-F]+\/[0-9A-F]+/1\t$wrong_text/m;
	unlink "$dir/00000002.history";
	append_to_file("$dir/00000002.history", $history);
	($status, $out) = verify($dir);
	is($status, 2, 'wrong switch point: exit 2');
	like($out, qr/^history: 00000002\.history: It says timeline 2 began at \Q$wrong_text\E, but 00000002[0-9A-F]{16} holds timeline 2 from [0-9A-F\/]+ on\.$/m,
		'wrong switch point: the history file and the segment are named');
	like($out, qr/^history: 00000003\.history: It contradicts 00000002\.history about timeline 1\.$/m,
		'wrong switch point: the history files contradict each other');
}

# A truncated compressed segment.
{
	my $dir = archive_copy();
	my $name = $tl3[0];
	system('gzip', "$dir/$name") == 0 or die 'gzip failed';
	truncate("$dir/$name.gz", (-s "$dir/$name.gz") / 2) or die "truncate: $!";
	($status, $out) = verify($dir);
	is($status, 2, 'truncated .gz: exit 2');
	like($out, qr/^refused: \Q$name\E\.gz: The compressed data ends after \d+ bytes: the file is truncated, or still being written\.$/m,
		'truncated .gz: refused, named');
}

# A flipped bit in a record.
{
	my $dir = archive_copy();
	my $name = $tl2[0];
	my ($lsn, $offset) = record_to_damage("$dir/$name");
	flip_bit("$dir/$name", $offset);
	($status, $out) = verify($dir);
	is($status, 2, 'flipped bit: exit 2');
	like($out, qr/^refused: \Q$name\E: The record at \Q$lsn\E has an incorrect resource manager data checksum\.$/m,
		'flipped bit: refused, naming the record');

	# The page address of the record's page damaged too: the records are
	# walked first, but the page header's problem is the one reported, as
	# the restore path reports it.
	my $page = $offset - $offset % 8192;
	flip_bit("$dir/$name", $page + 9);
	($status, $out) = verify($dir);
	like($out, qr/^refused: \Q$name\E: The page header at offset $page is not that of the next page of this segment\.$/m,
		'flipped bits in a record and its page header: the header named');
}

# Segments are checked --jobs at a time, each job taking the next segment
# no job has taken (verify_check.c): faults in neighbouring files, checked
# by different threads, are each reported against the right file, and the
# files after them are still checked (no other file refused, the flipped
# bit after them found); a segment of another segment size is refused,
# settled in the archive's order once all are checked; and the report is
# the same whatever the number of jobs.
{
	my $dir = archive_copy();
	my ($unreadable, $cut, $compressed, $damaged) = @segments[1 .. 4];
	SKIP:
	{
		skip 'root reads files of mode 000', 1 if $> == 0;
		chmod 0000, "$dir/$unreadable" or die "chmod: $!";
		($status, $out) = verify($dir);
		like($out, qr/^refused: \Q$unreadable\E: Could not open file: Permission denied\.$/m,
			'jobs: an unreadable segment is refused, named');
		chmod 0600, "$dir/$unreadable" or die "chmod: $!";
	}
	truncate("$dir/$cut", 100) or die "truncate: $!";
	system('gzip', "$dir/$compressed") == 0 or die 'gzip failed';
	my ($lsn, $offset) = record_to_damage("$dir/$damaged");
	flip_bit("$dir/$damaged", $offset);
	($status, $out) = verify($dir);
	is($status, 2, 'jobs: exit 2');
	like($out, qr/^refused: \Q$cut\E: The file has only 100 bytes, less than a WAL page\.$/m,
		'jobs: a segment cut to 100 bytes is refused, named');
	like($out, qr/^refused: \Q$damaged\E: The record at \Q$lsn\E has an incorrect resource manager data checksum\.$/m,
		'jobs: the flipped bit after them is found');
	is(scalar(() = $out =~ /^refused: /mg), 2,
		'jobs: no other file refused (the .gz between them is valid)');

	# a finished 1 MB segment of a cluster made with --wal-segsize=1, valid
	# in itself, under its own name
	my $small = PostgreSQL::Test::Cluster->new('small');
	$small->init(extra => ['--wal-segsize=1']);
	$small->start;
	my $small_name = $small->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_lsn())');
	$small->safe_psql('postgres', 'CREATE TABLE t (); SELECT pg_switch_wal()');
	unlink "$dir/$small_name";
	copy($small->data_dir . "/pg_wal/$small_name", "$dir/$small_name")
	  or die "could not copy $small_name: $!";
	$small->stop;
	my @reports;
	for my $jobs (1, 2, 7)
	{
		($status, $out, $err) = verify($dir, '--format=json', "--jobs=$jobs");
		push @reports, $out;
	}
	is($status, 2, 'jobs: exit 2 with a segment of another size');
	my ($refusal) = grep { ($_->{file} // '') eq $small_name }
	  @{ decode_json($reports[0])->{findings} };
	is( $refusal && "$refusal->{kind}: $refusal->{message}",
		"refused: The segment size is 1048576, but the archive's is 16777216.",
		'jobs: a segment of another size is refused, with both sizes');
	is($reports[1], $reports[0], 'jobs: the same report with 2 jobs as with 1');
	is($reports[2], $reports[0], 'jobs: the same report with 7 jobs as with 1');
}

# Usage errors.
($status, $out, $err) = verify($archive, '--format=xml');
is($status, 254, 'bad --format: exit 254');
like($err, qr/invalid output format "xml"/, 'bad --format: said so');
for my $bad (['--jobs=0', qr/^pg_standby: error: -j\/--jobs must be in range 1\.\.64$/m],
	['--jobs=65', qr/^pg_standby: error: -j\/--jobs must be in range 1\.\.64$/m],
	['-j', qr/: option requires an argument -- 'j'$/m],
	['--jobs=two', qr/^pg_standby: error: invalid value "two" for option -j\/--jobs$/m])
{
	($status, $out, $err) = verify($archive, @$bad[0]);
	is($status, 254, "bad $bad->[0]: exit 254");
	like($err, $bad->[1], "bad $bad->[0]: said so");
}
($status, $out, $err) = verify("$tempdir/nonexistent");
is($status, 254, 'missing archive: exit 254');
($status, $out, $err) = verify($archive, '--from', "$tempdir/nonexistent");
is($status, 254, '--from a missing file: exit 254');
like(
	$err,
	qr/^pg_standby: error: could not read --from file "\Q$tempdir\/nonexistent\E"\npg_standby: detail: Could not open file "\Q$tempdir\/nonexistent\E": No such file or directory\.$/m,
	'--from a missing file: an error naming it, the reason as its detail');

done_testing();
