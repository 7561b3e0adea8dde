
# Copyright (c) 2025, PostgreSQL Global Development Group

# A segment gone from the archive (a cleanup, an operator) but present in
# the standby's own pg_wal is answered at once, so that the server reads it
# there, instead of being waited for forever; a file in pg_wal that is not
# that segment is never taken for it.  With a standby restarted while the
# archive lacks the next segment and its pg_wal holds:
#  1. the segment, written to its last page, in archive recovery: replayed
#     from pg_wal, recovery does not end (the server reads pg_wal before it
#     would end recovery: XLogFileReadAnyTLI()), and later segments come
#     from the archive again;
#  2. the same in standby mode, with a segment that ends in zeros (the
#     server retries there, so any valid segment will do);
#  3. a recycled segment (an older segment's file under the requested name)
#     and 4. in archive recovery, a segment that ends in zeros (which could
#     end recovery early): pg_standby keeps waiting, recovery does not end,
#     and the segment is replayed once it is back in the archive.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since);

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

my $archive = "$tempdir/archive";
mkdir $archive;

my $primary = PostgreSQL::Test::Cluster->new('primary');
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

my $round = 0;

sub current_segment
{
	return $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
}

# Commit a round of $rows rows (of about 100 bytes each), finish the
# segment, wait until it is archived; returns the round and the segments
# its WAL spans.
sub archive_round
{
	my ($rows) = @_;
	my $n = ++$round;
	my $first = current_segment();
	$primary->safe_psql('postgres',
		"INSERT INTO t SELECT $n, g, repeat('x', 100) FROM generate_series(1, $rows) g"
	);
	my $last = current_segment();
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	wait_until(sub { -f "$archive/$last" }, "$last to be archived")
	  or die "$last was not archived";
	my @segments = grep { $_ ge $first && $_ le $last }
	  map { substr($_, length($archive) + 1) } glob("$archive/0*");
	return ($n, $rows, @segments);
}

sub wait_for_round
{
	my ($node, $n, $rows) = @_;
	return $node->poll_query_until('postgres',
		"SELECT count(*) = $rows FROM t WHERE round = $n");
}

my $promotion_regex = qr/selected new timeline ID|archive recovery complete/;

sub make_standby
{
	my ($name, $mode) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init_from_backup($primary, 'base');
	$node->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" -d -s 60 "$archive" %f %p'
recovery_prefetch = off
hot_standby = on
archive_mode = off
));
	if ($mode eq 'standby')
	{
		$node->set_standby_mode;
	}
	else
	{
		$node->set_recovery_mode;
	}
	$node->start;
	my ($n, $rows) = archive_round(10);
	ok(wait_for_round($node, $n, $rows), "$name: replays archived WAL");
	return $node;
}

# With the standby stopped, archive a round that spans several segments,
# and move $segment_choice->(@segments) out of the archive; returns the
# round, its rows and that segment's name and contents.
sub round_missing_a_segment
{
	my ($node, $segment_choice) = @_;
	$node->stop;
	my ($n, $rows, @segments) = archive_round(30000);
	my $missing = $segment_choice->(@segments);
	my $contents = slurp_file("$archive/$missing");
	move("$archive/$missing", "$tempdir/$missing")
	  or die "could not move \"$missing\": $!";
	return ($n, $rows, $missing, $contents);
}

sub write_binary
{
	my ($path, $data) = @_;
	open(my $fh, '>:raw', $path) or die "could not open \"$path\": $!";
	print $fh $data or die "could not write \"$path\": $!";
	close $fh or die "could not close \"$path\": $!";
	return;
}

# The middle segment of a round is written to its last page.
sub middle { return $_[ int(@_ / 2) ] }

###
### 1 and 2: the segment is in pg_wal.
###
foreach my $mode ('archive', 'standby')
{
	my $node = make_standby("in_pg_wal_$mode", $mode);
	my ($n, $rows, $missing, $contents) = round_missing_a_segment($node,
		$mode eq 'archive' ? \&middle : sub { $_[-1] });
	if ($mode eq 'standby')
	{
		like($contents, qr/\0{8192}\z/,
			'standby: the segment in pg_wal ends in zeros');
	}
	write_binary($node->data_dir . "/pg_wal/$missing", $contents);

	my $offset = log_position($node);
	$node->start;
	ok(wait_for_round($node, $n, $rows),
		"$mode: the round is replayed with $missing from pg_wal");
	like(
		log_since($node, $offset),
		qr/pg_standby: "$missing" is not in the archive but is in the server's pg_wal/,
		"$mode: pg_standby says where the server finds it");
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "$mode: still in recovery");

	my ($n2, $rows2) = archive_round(10);
	ok(wait_for_round($node, $n2, $rows2),
		"$mode: later segments come from the archive");
	ok(!$node->log_contains($promotion_regex, $offset),
		"$mode: recovery never ended");
	move("$tempdir/$missing", "$archive/$missing");
	$node->stop;
}

###
### 3 and 4: what is in pg_wal under that name is not that segment, or may
### end recovery early.
###
{
	my $node = make_standby('not_taken', 'archive');
	my %cases = (
		'recycled segment' => sub {
			my ($missing, $contents, @older) = @_;
			return slurp_file("$archive/$older[0]");
		},
		'segment ending in zeros' => sub {
			my ($missing, $contents) = @_;
			return substr($contents, 0, 3 * 8192)
			  . ("\0" x (length($contents) - 3 * 8192));
		});
	foreach my $case (sort keys %cases)
	{
		my @older = sort map { substr($_, length($archive) + 1) }
		  glob("$archive/0*");
		my ($n, $rows, $missing, $contents) =
		  round_missing_a_segment($node, \&middle);
		write_binary($node->data_dir . "/pg_wal/$missing",
			$cases{$case}->($missing, $contents, @older));

		my $offset = log_position($node);
		$node->start;
		$node->wait_for_log(qr/pg_standby: (?:debug: )?waiting for "\Q$archive\/$missing\E"/,
			$offset);
		like(log_since($node, $offset), qr/not using "pg_wal\/$missing"/,
			"$case: pg_standby does not take it");
		is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
			't', "$case: still in recovery");
		ok(!$node->log_contains($promotion_regex, $offset),
			"$case: recovery did not end");

		move("$tempdir/$missing", "$archive/$missing");
		ok(wait_for_round($node, $n, $rows),
			"$case: replayed once the segment is back in the archive");
		ok(!$node->log_contains($promotion_regex, $offset),
			"$case: recovery never ended");
		$node->stop;
	}
}

done_testing();
