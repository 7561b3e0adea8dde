
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
#     and 4. in archive recovery, a segment whose WAL stops inside it (a copy
#     of one still being written, which could end recovery early):
#     pg_standby keeps waiting, recovery does not end,
#     and the segment is replayed once it is back in the archive.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until log_position log_since
  write_binary
  archiving_primary archive_round wait_for_round pg_standby_node start_caught_up
  promotion_regex);

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

my $archive = "$tempdir/archive";
my $primary = archiving_primary($archive);
my $promotion_regex = promotion_regex();

# The archived segments from $first to $last.
sub archived_segments
{
	my ($first, $last) = @_;
	return grep { $_ ge $first && $_ le $last }
	  map { substr($_, length($archive) + 1) } glob("$archive/0*");
}

# A standby waiting for the next segment, which says what it does (-d).
sub make_standby
{
	my ($name, $mode) = @_;
	return start_caught_up(
		pg_standby_node($name, $primary, $mode, "-d -s 60 \"$archive\""),
		$primary, $archive);
}

# With the standby stopped, archive a round that spans several segments,
# and move $segment_choice->(@segments) out of the archive; returns the
# round, its rows and that segment's name and contents.
sub round_missing_a_segment
{
	my ($node, $segment_choice) = @_;
	$node->stop;
	my $rows = 30000;
	my ($n, $first, $last) = archive_round($primary, $archive, $rows);
	my @segments = archived_segments($first, $last);
	my $missing = $segment_choice->(@segments);
	my $contents = slurp_file("$archive/$missing");
	move("$archive/$missing", "$tempdir/$missing")
	  or die "could not move \"$missing\": $!";
	return ($n, $rows, $missing, $contents);
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

	my ($n2) = archive_round($primary, $archive);
	ok(wait_for_round($node, $n2),
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
