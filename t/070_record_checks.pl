
# Copyright (c) 2025, PostgreSQL Global Development Group

# Record-level damage is refused before the server can see it.  A segment
# from a real primary with one bit flipped inside a record's data (its
# page headers all intact) is:
#  1. refused by a standby's pg_standby in archive recovery, with one error
#     naming the file, the record's LSN and the checksum mismatch; the
#     standby neither replays it nor ends recovery (with a check of page
#     headers only, the server would take the bad record for the end of WAL
#     and promote), and replays the intact segment once it is in place;
#  2. refused the same way when it comes gzip-compressed, or as a .partial
#     file at smart failover, and when the damage is a wrong prev-link or
#     non-zero bytes after the end of WAL (an XLOG_SWITCH);
#  3. while the intact segment, plain, compressed and as .partial, is
#     restored byte-identical.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary run_pg_standby wait_until
  log_position restored_regex record_to_damage);

my $pg_standby = pg_standby_binary();
my $tempdir = PostgreSQL::Test::Utils::tempdir;

sub read_binary
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "could not open \"$path\": $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return $data;
}

# Put $data at $path atomically, as an archiver does.
sub place_data
{
	my ($path, $data) = @_;
	open(my $fh, '>:raw', "$path.tmp") or die "could not open \"$path.tmp\": $!";
	print $fh $data or die "could not write \"$path.tmp\": $!";
	close $fh or die "could not close \"$path.tmp\": $!";
	rename("$path.tmp", $path) or die "could not rename \"$path.tmp\": $!";
	return;
}

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, has_archiving => 1);
$primary->start;
my $archive_keep = $primary->archive_dir;
$primary->safe_psql('postgres', 'CREATE TABLE t (round int, v text)');
$primary->backup('base');

# The standby's archive is filled by the test, segment by segment.
my $archive = "$tempdir/archive";
mkdir $archive;

sub round_segment
{
	my ($n) = @_;
	my $segment = $primary->safe_psql('postgres',
		"INSERT INTO t SELECT $n, repeat('v', 200) FROM generate_series(1, 200);
		 SELECT pg_walfile_name(pg_current_wal_lsn())");
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	# archived once the archiver says so: the test archive_command's cp
	# creates the file before it has written it
	my $done = $primary->data_dir . "/pg_wal/archive_status/$segment.done";
	wait_until(sub { -f $done }, "$segment archived")
	  or die "$segment was not archived";
	return $segment;
}

# Every earlier segment goes to the standby's archive as it is.
sub copy_archive
{
	foreach my $file (sort grep { /^[0-9A-F]{24}$|\.history$/ }
		slurp_dir($archive_keep))
	{
		place_data("$archive/$file", read_binary("$archive_keep/$file"))
		  unless -e "$archive/$file";
	}
	return;
}

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base');
$standby->append_conf(
	'postgresql.conf', qq(
recovery_prefetch = off
hot_standby = on
archive_mode = off
restore_command = '"$pg_standby" -s 0.2 "$archive" %f %p %r'
));
$standby->set_recovery_mode;

my $first = round_segment(1);
copy_archive();
$standby->start;
$standby->poll_query_until('postgres',
	'SELECT count(*) = 200 FROM t WHERE round = 1')
  or die 'standby did not replay round 1';

# The next segment: find a record whose data lies on one page, after the
# first page, and flip one bit in the middle of its data.
my $segment = round_segment(2);
my $intact = read_binary("$archive_keep/$segment");
my $seg_size = length($intact);
my ($flip_lsn, $flip_offset) = record_to_damage("$archive_keep/$segment");
my ($dump) = run_command([ 'pg_waldump', "$archive_keep/$segment" ]);
ok(defined $flip_offset, 'a record lying on one page was found')
  or BAIL_OUT('no record to damage');
my $damaged = $intact;
substr($damaged, $flip_offset, 1) = chr(ord(substr($damaged, $flip_offset, 1)) ^ 0x10);

###########################################################################
# 1. Archive recovery: the damaged segment is refused, the standby waits.
###########################################################################
my $offset = log_position($standby);
place_data("$archive/$segment", $damaged);
my $refusal = qr/pg_standby: error: could not restore file "\Q$archive\/$segment\E"\npg_standby: detail: The record at \Q$flip_lsn\E has an incorrect resource manager data checksum\./;
ok($standby->wait_for_log($refusal, $offset),
	'archive recovery: the flipped bit is refused, naming file and record');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'archive recovery: the standby is still in recovery');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t WHERE round = 2'),
	'0', 'archive recovery: the damaged segment was not replayed');
ok(!$standby->log_contains(restored_regex($segment), $offset),
	'archive recovery: the damaged segment was not handed over');

place_data("$archive/$segment", $intact);
$standby->poll_query_until('postgres',
	'SELECT count(*) = 200 FROM t WHERE round = 2')
  or die 'standby did not replay round 2';
ok(!$standby->log_contains(qr/selected new timeline ID|archive recovery complete/,
		$offset),
	'archive recovery: recovery never ended');
$standby->stop;

###########################################################################
# 2. and 3. Direct restores: other forms and other damage.
###########################################################################
my $direct = "$tempdir/direct";
mkdir $direct;

sub restore_direct
{
	my ($name, @options) = @_;
	unlink "$tempdir/out";
	return run_pg_standby($tempdir, @options, $direct, $name, "$tempdir/out");
}

sub refused
{
	my ($what, $file, $data, $reason, @options) = @_;
	unlink glob("$direct/*");
	place_data("$direct/$file", $data);
	my ($status, $stdout, $stderr) = restore_direct($segment, @options);
	is($status, 1, "$what: not restored");
	like($stderr, qr/could not restore file "\Q$direct\/$file\E"\npg_standby: detail: $reason/,
		"$what: refused with the reason");
	ok(!-e "$tempdir/out", "$what: nothing written");
	return;
}

sub restored
{
	my ($what, $file, $data, @options) = @_;
	unlink glob("$direct/*");
	place_data("$direct/$file", $data);
	my ($status) = restore_direct($segment, @options);
	is($status, 0, "$what: restored");
	ok(-f "$tempdir/out" && read_binary("$tempdir/out") eq $intact,
		"$what: byte-identical");
	return;
}

sub gzip_data
{
	my ($data) = @_;
	place_data("$tempdir/gz", $data);
	system('gzip', '-f', "$tempdir/gz") == 0 or die 'gzip failed';
	my $gz = read_binary("$tempdir/gz.gz");
	unlink "$tempdir/gz.gz";
	return $gz;
}

restored('plain', $segment, $intact);
restored('gzip', "$segment.gz", gzip_data($intact));
refused('plain, flipped bit', $segment, $damaged,
	qr/The record at \Q$flip_lsn\E has an incorrect resource manager data checksum\./);
refused('gzip, flipped bit', "$segment.gz", gzip_data($damaged),
	qr/The record at [0-9A-F]+\/[0-9A-F]+ has an incorrect resource manager data checksum\./);

# A .partial file is used at smart failover only, by the server's
# restore_command: run as the server does, in a data directory in archive
# recovery, and cut the file after the damaged record's page, as
# pg_receivewal leaves it.
{
	my $datadir = "$tempdir/datadir";
	mkdir $datadir;
	mkdir "$datadir/pg_wal";
	append_to_file("$datadir/recovery.signal", '');
	my $trigger = "$tempdir/trigger";
	append_to_file($trigger, 'smart');
	my $cut = $flip_offset - $flip_offset % 8192 + 8192;
	my $xlog = "$datadir/pg_wal/RECOVERYXLOG";

	foreach my $case ([ 'intact', $intact ], [ 'flipped bit', $damaged ])
	{
		my ($what, $data) = @$case;
		unlink glob("$direct/*"), $xlog;
		place_data("$direct/$segment.partial", substr($data, 0, $cut));
		my ($status, $stdout, $stderr) = run_pg_standby($datadir, '-t',
			$trigger, $direct, $segment, 'pg_wal/RECOVERYXLOG');
		if ($what eq 'intact')
		{
			is($status, 0, '.partial, intact: restored at smart failover');
			ok(-f $xlog && read_binary($xlog) eq
				  substr($intact, 0, $cut) . ("\0" x ($seg_size - $cut)),
				'.partial, intact: padded with zeros');
		}
		else
		{
			is($status, 1, '.partial, flipped bit: failover without it');
			like($stderr,
				qr/could not restore file "\Q$direct\/$segment.partial\E"\npg_standby: detail: The record at [0-9A-F]+\/[0-9A-F]+ has an incorrect resource manager data checksum\./,
				'.partial, flipped bit: refused with the reason');
			ok(!-e $xlog, '.partial, flipped bit: nothing written');
		}
	}
}

# The first record that begins on the second page links back to the one
# before it: point it elsewhere.
{
	my $page = substr($intact, 8192, 24);
	my ($info, $rem_len) = unpack('x2 S x12 L', $page);
	my $record = 8192 + 24 + (($info & 1) ? ((($rem_len + 7) & ~7)) : 0);
	my $broken = $intact;
	substr($broken, $record + 8, 1) =
	  chr(ord(substr($broken, $record + 8, 1)) ^ 0x08);
	refused('wrong prev-link', $segment, $broken,
		qr/The record at [0-9A-F]+\/[0-9A-F]+ has prev-link [0-9A-F]+\/[0-9A-F]+, but the record before it is at [0-9A-F]+\/[0-9A-F]+\./);
}

# The first record that begins in the segment links into an earlier
# segment: point it at itself.
{
	my ($info, $rem_len) = unpack('x2 S x12 L', substr($intact, 0, 40));
	my $record = 40 + (($info & 1) ? (($rem_len + 7) & ~7) : 0);
	cmp_ok($record, '<', 8192 - 24,
		'the first record that begins in the segment is on its first page');
	my $lsn = hex(substr($segment, 8, 8)) * 2**32 +
	  hex(substr($segment, 16, 8)) * $seg_size + $record;
	my $lsn_text = sprintf('%X/%X', int($lsn / 2**32), $lsn % 2**32);
	my $broken = $intact;
	substr($broken, $record + 8, 8) = pack('Q<', $lsn);
	refused('first prev-link inside the segment', $segment, $broken,
		qr/The record at \Q$lsn_text\E has prev-link \Q$lsn_text\E, but the first record that begins in a segment must link into an earlier segment\./);
}

# The segment ended with pg_switch_wal(): what follows on the switch
# record's page must be zeros (the pages after it are checked as pages).
{
	my ($hi, $lo) = $dump =~ m{lsn: ([0-9A-F]+)/([0-9A-F]+), prev [^\n]*desc: SWITCH};
	ok(defined $lo, 'the segment ends with an XLOG_SWITCH record');
	my $switch = (hex($hi) * 2**32 + hex($lo)) % $seg_size;
	my $broken = $intact;
	substr($broken, $switch + 24 + 16, 1) = 'x';
	refused('data after XLOG_SWITCH', $segment, $broken,
		qr/There is data after the end of WAL at [0-9A-F]+\/[0-9A-F]+\./);
}

done_testing();
