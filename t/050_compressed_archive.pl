# Compressed archives, with real servers.  It proves that:
#  1. a primary whose archive_command writes each segment plain, gzip, lz4
#     or zstd in turn feeds a standby (pg_standby as restore_command) that
#     replays every segment, and each compressed file decompresses to
#     exactly the bytes of the plain segment;
#  2. the completed .gz and .lz4 segments that pg_receivewal --compress
#     streams are restored byte-identical and replayed, while its .partial
#     files are never used outside a smart failover;
#  3. a corrupt compressed file (bytes overwritten in a .zst, junk after a
#     .gz, a flipped byte in an .lz4) is refused with one error line, and
#     the standby keeps waiting in recovery; a truncated one is waited for
#     as still being written, and taken once it is complete;
#  4. when a segment is there in several forms, the documented order is
#     used: NAME, NAME.gz, NAME.lz4, NAME.zst;
#  5. at a smart failover, the compressed .partial segment pg_receivewal
#     left is replayed, so that no streamed row is lost: NAME.gz.partial
#     holding less than one WAL page, in archive recovery, and
#     NAME.lz4.partial holding several pages, in standby mode (where the
#     server must also be asked to promote, or it asks for the same
#     segment again and again).
use strict;
use warnings;
use File::Compare;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary run_pg_standby wait_until
  log_position log_since read_binary write_binary place switch_wal);
use IPC::Run;

my $pg_standby = pg_standby_binary();

my ($help) = run_command([ $pg_standby, '--help' ]);
like($help, qr/NAME NAME\.gz NAME\.lz4 NAME\.zst/,
	'pg_standby was built with gzip, lz4 and zstd');

my $tempdir = PostgreSQL::Test::Utils::tempdir;

# The first bytes of each compressed format.
my %magic = (
	'.gz' => "\x1f\x8b",
	'.lz4' => "\x04\x22\x4d\x18",
	'.zst' => "\x28\xb5\x2f\xfd");

# The compressed form of a file, by the command line tools an
# archive_command would use.
my %compressor = (
	'.gz' => [ 'gzip', '-c' ],
	'.lz4' => [ 'lz4', '-q', '-c' ],
	'.zst' => [ 'zstd', '-q', '-c' ]);

sub compress_file
{
	my ($path, $suffix) = @_;
	my $out;
	IPC::Run::run([ @{ $compressor{$suffix} }, $path ], '>', \$out)
	  or die "could not compress \"$path\" with $compressor{$suffix}[0]";
	return $out;
}

# The archive_command: while the pause file exists it fails, as
# archive_command = '/bin/false' does.  Otherwise it keeps a plain copy of
# every file in the reference archive, and writes each segment into the
# compressed archive plain, gzip, lz4 or zstd in turn, by the last digit
# of its name; history and backup history files stay plain.  Every file
# is written to a temporary name and renamed into place.
my $archive_script = "$tempdir/archive.sh";
append_to_file(
	$archive_script, q{#!/bin/sh
set -e
pause=$1; src=$2; name=$3; comp=$4; plain=$5
[ ! -e "$pause" ] || exit 1
cp "$src" "$plain/$name.tmp"
mv "$plain/$name.tmp" "$plain/$name"
case "$name" in
*.*|*[048C])
	cp "$src" "$comp/$name.tmp"
	mv "$comp/$name.tmp" "$comp/$name";;
*[159D])
	gzip -c "$src" > "$comp/$name.gz.tmp"
	mv "$comp/$name.gz.tmp" "$comp/$name.gz";;
*[26AE])
	lz4 -q -c "$src" > "$comp/$name.lz4.tmp"
	mv "$comp/$name.lz4.tmp" "$comp/$name.lz4";;
*[37BF])
	zstd -q -c "$src" > "$comp/$name.zst.tmp"
	mv "$comp/$name.zst.tmp" "$comp/$name.zst";;
esac
});

# The suffix the archive_command gives a segment.
sub rotation_suffix
{
	my ($segment) = @_;
	return ('', '.gz', '.lz4', '.zst')[ hex(substr($segment, -1)) % 4 ];
}

my $pause_file = "$tempdir/archiving_paused";
my $archive = "$tempdir/archive_compressed";
my $archive_plain = "$tempdir/archive_plain";
my $recv_gz = "$tempdir/receivewal_gz";
my $recv_lz4 = "$tempdir/receivewal_lz4";
mkdir $_ for ($archive, $archive_plain, $recv_gz, $recv_lz4);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, has_archiving => 1);
$primary->append_conf('postgresql.conf',
	"archive_command = 'sh \"$archive_script\" \"$pause_file\" \"%p\" \"%f\" \"$archive\" \"$archive_plain\"'"
);
$primary->start;

# Two pg_receivewal, one per compression method, stream into directories
# of their own from before the base backup, so that each directory holds
# every segment a standby made from the backup needs.
my %receivers;
foreach my $method ('gzip', 'lz4')
{
	my ($dir, $suffix) =
	  $method eq 'gzip' ? ($recv_gz, '.gz') : ($recv_lz4, '.lz4');
	my ($stdout, $stderr) = ('', '');

	# a slot, so that the primary keeps every segment until it is received
	$primary->safe_psql('postgres',
		"SELECT pg_create_physical_replication_slot('recv_$method', true)");
	my $h = IPC::Run::start(
		[
			'pg_receivewal', '-D', $dir, "--compress=$method",
			"--slot=recv_$method", '--synchronous', '--no-loop', '-d',
			$primary->connstr('postgres') . " application_name=recv_$method"
		],
		'<' => \undef,
		'>' => \$stdout,
		'2>' => \$stderr);
	$receivers{$method} =
	  { handle => $h, dir => $dir, suffix => $suffix, stderr => \$stderr };
	ok( wait_until(
			sub { grep { /^[0-9A-F]{24}\Q$suffix\E\.partial$/ } slurp_dir($dir) },
			"pg_receivewal --compress=$method to start"),
		"pg_receivewal --compress=$method streams into its directory");
}

$primary->safe_psql('postgres',
	'CREATE TABLE t (round int NOT NULL, i int NOT NULL)');
$primary->backup('base');

# Each round of rows is committed in one transaction; %rows_in_round
# remembers how many rows it has.
my $round = 0;
my %rows_in_round;

sub commit_round
{
	my ($rows) = @_;
	my $n = ++$round;

	$rows //= 10;
	$primary->safe_psql('postgres',
		"INSERT INTO t SELECT $n, g FROM generate_series(1, $rows) g");
	$rows_in_round{$n} = $rows;
	return $n;
}

# How many rows rounds 1 to $n have together.
sub rows_through
{
	my ($n) = @_;
	my $sum = 0;
	$sum += $rows_in_round{$_} for 1 .. $n;
	return $sum;
}

sub rows_up_to
{
	my ($node, $n) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE round <= $n");
}

sub rows_of_rounds
{
	my ($node, @rounds) = @_;
	return $node->safe_psql('postgres',
		'SELECT count(*) FROM t WHERE round IN (' . join(',', @rounds) . ')');
}

# A standby made from the base backup, restoring from $archive_dir with
# pg_standby -d (its steps are what the tests look for in the log), in
# archive recovery or in standby mode.  No %r: the archives stay whole.
sub make_standby
{
	my ($name, $archive_dir, $mode) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $trigger = "$tempdir/trigger_$name";

	$node->init_from_backup($primary, 'base');
	$node->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" -d -t "$trigger" -s 0.2 "$archive_dir" %f %p'
hot_standby = on
archive_mode = off
));
	if ($mode eq 'archive')
	{
		# a failed read-ahead request would end archive recovery
		$node->append_conf('postgresql.conf', 'recovery_prefetch = off');
		$node->set_recovery_mode;
	}
	else
	{
		$node->set_standby_mode;
	}
	return ($node, $trigger);
}

sub restored_regex
{
	my ($archive_dir, $file) = @_;
	return qr/pg_standby: (?:debug: )?restored "\Q$archive_dir\/$file\E" to "pg_wal\/RECOVERYXLOG"/;
}

sub waiting_regex
{
	my ($archive_dir, $segment) = @_;
	return qr/pg_standby: (?:debug: )?waiting for "\Q$archive_dir\/$segment\E"/;
}

sub refused_regex
{
	my ($archive_dir, $file, $reason) = @_;
	return
	  qr/pg_standby: error: could not restore file "\Q$archive_dir\/$file\E"\npg_standby: detail: $reason/;
}

# Where pg_standby, run as an operator or pg_rewind would (in the primary's
# data directory: the cluster's system identifier), restores segments.
my $direct_dir = "$tempdir/direct";
mkdir $direct_dir;

# Restore every compressed segment of $archive_dir directly and compare it
# with the plain copy in the reference archive.  Returns the count per
# suffix.
sub check_byte_identical
{
	my ($archive_dir, $what) = @_;
	my %count;

	foreach my $file (sort(slurp_dir($archive_dir)))
	{
		next unless $file =~ /^([0-9A-F]{24})(\.gz|\.lz4|\.zst)$/;
		my ($segment, $suffix) = ($1, $2);
		my $out = "$direct_dir/$segment";

		is(substr(read_binary("$archive_dir/$file"), 0, length($magic{$suffix})),
			$magic{$suffix}, "$what: $file is $suffix-compressed");
		my ($status, undef, $stderr) =
		  run_pg_standby($primary->data_dir, $archive_dir, $segment, $out);
		is($status, 0, "$what: pg_standby restores $file")
		  or diag($stderr);
		ok(compare($out, "$archive_plain/$segment") == 0,
			"$what: $file restored byte-identical to the plain $segment");
		unlink $out;
		$count{$suffix}++;
	}
	return %count;
}

###########################################################################
# 1. Standby A replays an archive of plain, gzip, lz4 and zstd segments.
###########################################################################
my ($standby_a, $trigger_a) = make_standby('standby_a', $archive, 'archive');
$standby_a->start;

my @switched;
for (1 .. 8)
{
	commit_round();
	push @switched, switch_wal($primary);
}
my $last_complete_round = $round;
ok( $standby_a->poll_query_until('postgres',
		"SELECT count(*) = ${\rows_through($round)} FROM t"),
	'rotating formats: standby A replays the rows of every segment');
ok( wait_until(sub { -f "$archive_plain/$switched[-1]" },
		'the last segment to be archived'),
	'rotating formats: every segment archived');

my %formats_used;
foreach my $segment (@switched)
{
	my $suffix = rotation_suffix($segment);
	$formats_used{$suffix}++;
	ok( -f "$archive/$segment$suffix" && ($suffix eq '' || !-e "$archive/$segment"),
		"rotating formats: $segment archived as $segment$suffix only");
	ok($standby_a->log_contains(restored_regex($archive, "$segment$suffix")),
		"rotating formats: pg_standby restored $segment$suffix");
	ok($standby_a->log_contains(qr/restored log file "$segment" from archive/),
		"rotating formats: the server replayed $segment");
}
is(join(' ', map { $formats_used{$_} } ('', '.gz', '.lz4', '.zst')),
	'2 2 2 2', 'rotating formats: each format used for two segments');
is($standby_a->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'rotating formats: standby A is still in recovery');

my %count = check_byte_identical($archive, 'archive_command');
foreach my $suffix ('.gz', '.lz4', '.zst')
{
	cmp_ok($count{$suffix} // 0, '>=', 2,
		"archive_command: at least two $suffix segments checked");
}

###########################################################################
# 2. pg_receivewal --compress: completed segments restored byte-identical.
###########################################################################

# Rows the receivers stream into their .partial segments: no switch.  The
# gzip receiver is stopped after a small round (less than a WAL page), the
# lz4 one after a large round too (several pages).
my ($partial_segment, %partial_rounds, @partial_rounds);
foreach my $method ('gzip', 'lz4')
{
	my $r = $receivers{$method};

	push @partial_rounds, commit_round($method eq 'gzip' ? 10 : 1000);
	$partial_rounds{$method} = [@partial_rounds];
	my $lsn = $primary->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
	$partial_segment //= $primary->safe_psql('postgres',
		"SELECT pg_walfile_name('$lsn')");

	ok( wait_until(
			sub { -f "$r->{dir}/$switched[-1]$r->{suffix}" },
			"pg_receivewal --compress=$method to complete $switched[-1]"),
		"pg_receivewal --compress=$method completed $switched[-1]$r->{suffix}");
	ok( $primary->poll_query_until('postgres',
			"SELECT flush_lsn >= '$lsn' FROM pg_stat_replication WHERE application_name = 'recv_$method'"
		),
		"pg_receivewal --compress=$method flushed round $partial_rounds[-1]");

	# Stopped as an operator stops it: it closes its .partial file, ending
	# the compressed stream.
	$r->{handle}->signal('INT');
	$r->{handle}->finish;
	is($r->{handle}->result(0), 0,
		"pg_receivewal --compress=$method stopped by SIGINT")
	  or diag(${ $r->{stderr} });
	ok(-f "$r->{dir}/$partial_segment$r->{suffix}.partial",
		"pg_receivewal --compress=$method left $partial_segment$r->{suffix}.partial");

	my %n = check_byte_identical($r->{dir}, "pg_receivewal --compress=$method");
	cmp_ok($n{ $r->{suffix} } // 0, '>=', 8,
		"pg_receivewal --compress=$method: every completed segment checked");
}

###########################################################################
# 3. Corrupt compressed files are refused; truncated ones are waited for.
###########################################################################

# Archiving pauses: from here, the test puts files into standby A's
# archive itself.  Standby A waits for the segment with the last round.
append_to_file($pause_file, '');
my $offset = log_position($standby_a);
my $segment_p = switch_wal($primary);
is($segment_p, $partial_segment,
	'the rows streamed into the .partial files are in the segment standby A waits for');
$standby_a->wait_for_log(waiting_regex($archive, $segment_p), 0);

# Three more segments, placed in several forms for the order test (4):
# they are all in the archive before standby A asks for them.
my (@order_rounds, @order_segments);
for (1 .. 3)
{
	push @order_rounds, commit_round();
	push @order_segments, switch_wal($primary);
}

# The plain segments, from the primary's pg_wal where they wait for the
# archiver, and their compressed forms.
my %plain;
foreach my $segment ($segment_p, @order_segments)
{
	my $ready = $primary->data_dir . "/pg_wal/archive_status/$segment.ready";
	wait_until(sub { -f $ready }, "$segment to be finished")
	  or die "$segment was not finished";
	$plain{$segment} = $primary->data_dir . "/pg_wal/$segment";
}

my %compressed_p = map { $_ => compress_file($plain{$segment_p}, $_) }
  ('.gz', '.lz4', '.zst');

# The forms of the order test: all forms; all compressed ones; .lz4 and
# .zst.
my @order_forms = ([ '', '.gz', '.lz4', '.zst' ], [ '.gz', '.lz4', '.zst' ],
	[ '.lz4', '.zst' ]);
for my $i (0 .. 2)
{
	my $segment = $order_segments[$i];
	foreach my $suffix (@{ $order_forms[$i] })
	{
		place("$archive/$segment$suffix",
			$suffix eq ''
			? read_binary($plain{$segment})
			: compress_file($plain{$segment}, $suffix));
	}
}

# Does the command line tool take $data for corrupt, not for truncated?
# (Bytes overwritten in a block header could make a stream look short.)
sub tool_says_corrupt
{
	my ($suffix, $data) = @_;
	my $path = "$tempdir/check$suffix";
	my ($out, $err) = ('', '');

	write_binary($path, $data);
	my $tool = $compressor{$suffix}[0];
	my $ok = IPC::Run::run([ $tool, '-t', '-q', $path ], '>', \$out, '2>', \$err);
	unlink $path;
	return !$ok && $err !~ /premature|unfinished|unexpected end|truncat/i;
}

# $data with $len pseudo-random bytes written over the middle, moved along
# if the tool would take the result for a truncated stream.
sub overwrite_middle
{
	my ($suffix, $data, $len) = @_;
	srand(42);
	for my $try (0 .. 20)
	{
		my $copy = $data;
		my $pos = int(length($data) / 2) + $try * 997;
		substr($copy, $pos, $len) = join('', map { chr(int(rand(256))) } 1 .. $len);
		return $copy if tool_says_corrupt($suffix, $copy);
	}
	die "could not corrupt the $suffix file";
}

sub flip_middle_byte
{
	my ($suffix, $data) = @_;
	for my $try (0 .. 20)
	{
		my $copy = $data;
		my $pos = int(length($data) / 2) + $try * 997;
		substr($copy, $pos, 1) = chr(ord(substr($copy, $pos, 1)) ^ 0x5a);
		return $copy if tool_says_corrupt($suffix, $copy);
	}
	die "could not corrupt the $suffix file";
}

my @corrupt = (
	[
		'.zst', overwrite_middle('.zst', $compressed_p{'.zst'}, 64),
		'random bytes in the middle', qr/The zstd data is invalid: [^\n]+\./
	],
	[
		'.gz', $compressed_p{'.gz'} . 'junk after the end of the stream',
		'junk appended', qr/The gzip data is invalid: incorrect header check\./
	],
	[
		'.lz4', flip_middle_byte('.lz4', $compressed_p{'.lz4'}),
		'a flipped byte', qr/The lz4 data is invalid: [^\n]+\./
	]);

foreach my $c (@corrupt)
{
	my ($suffix, $data, $what, $reason) = @$c;
	my $file = "$segment_p$suffix";

	place("$archive/$file", $data);
	$standby_a->wait_for_log(refused_regex($archive, $file, $reason),
		$offset);
	is($standby_a->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "corrupt $suffix ($what): standby A is still in recovery");
	is(rows_of_rounds($standby_a, @partial_rounds),
		0, "corrupt $suffix ($what): its rows are not replayed");
	unlink "$archive/$file" or die "could not remove \"$file\": $!";
}
{
	my $log = log_since($standby_a, $offset);
	foreach my $c (@corrupt)
	{
		my $file = "$segment_p$c->[0]";
		my $n = () = $log =~ /could not restore file "\Q$archive\/$file\E"/g;
		is($n, 1, "corrupt $c->[0]: refused with one error line");
		unlike(
			$log,
			restored_regex($archive, $file),
			"corrupt $c->[0]: not restored");
	}
	unlike($log, qr/selected new timeline ID|archive recovery complete|FATAL|PANIC/,
		'corrupt files: recovery went on, no fatal error');
}

# A truncated compressed file: still being written.  One after the other,
# in each format; the last is then completed by an atomic rename.
my %stream_name = ('.gz' => 'gzip stream', '.lz4' => 'lz4 frame',
	'.zst' => 'zstd frame');
foreach my $suffix ('.gz', '.lz4', '.zst')
{
	my $file = "$segment_p$suffix";
	my $full = $compressed_p{$suffix};

	place("$archive/$file", substr($full, 0, int(length($full) / 2)));
	$standby_a->wait_for_log(
		qr/pg_standby: (?:debug: )?waiting for "\Q$archive\/$file\E"\n[^\n]*detail: The $stream_name{$suffix} ends early: the file may still be being written\./,
		$offset);
	is(rows_of_rounds($standby_a, @partial_rounds),
		0, "truncated $suffix: waited for, not replayed");
	unlink "$archive/$file" or die "could not remove \"$file\": $!"
	  unless $suffix eq '.zst';
}
place("$archive/$segment_p.zst", $compressed_p{'.zst'});
ok( $standby_a->poll_query_until(
		'postgres',
		'SELECT count(*) = '
		  . (rows_through($partial_rounds[-1]) - rows_through($last_complete_round))
		  . ' FROM t WHERE round IN (' . join(',', @partial_rounds) . ')'),
	'truncated .zst completed: its rows are replayed');
ok($standby_a->log_contains(restored_regex($archive, "$segment_p.zst"), $offset),
	'truncated .zst completed: restored once complete');
{
	my $log = log_since($standby_a, $offset);
	my $truncated_refusals = () =
	  $log =~ /could not restore file "[^"]*"\npg_standby: detail: The [a-z0-9 ]+ ends early/g;
	is($truncated_refusals, 0,
		'truncated files: waited for, never refused');
}

###########################################################################
# 4. Several forms of one segment: the documented order.
###########################################################################
ok( $standby_a->poll_query_until('postgres',
		"SELECT count(*) = ${\rows_through($round)} FROM t"),
	'several forms: standby A replays the rows of all three segments');
{
	my $log = log_since($standby_a, $offset);
	for my $i (0 .. 2)
	{
		my $segment = $order_segments[$i];
		my ($first, @later) = @{ $order_forms[$i] };

		like($log, restored_regex($archive, "$segment$first"),
			"several forms: $segment restored from $segment$first");
		foreach my $suffix (@later)
		{
			unlike($log, restored_regex($archive, "$segment$suffix"),
				"several forms: $segment$suffix not used");
		}
	}
}
is($standby_a->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'several forms: standby A is still in recovery');
$standby_a->stop;

###########################################################################
# 5. Standbys restoring pg_receivewal's directories; smart failover takes
#    the compressed .partial segment.
###########################################################################
# The gzip receiver's .partial holds less than a WAL page of the segment,
# the lz4 receiver's several pages.
foreach my $method ('gzip', 'lz4')
{
	my $r = $receivers{$method};
	my $out;
	IPC::Run::run(
		[
			$method eq 'gzip' ? 'gzip' : 'lz4', '-d', '-c',
			"$r->{dir}/$partial_segment$r->{suffix}.partial"
		],
		'>', \$out);
	note("$partial_segment$r->{suffix}.partial holds "
		  . length($out) . " bytes of WAL");
	cmp_ok(length($out), $method eq 'gzip' ? '<' : '>',
		8192, "$partial_segment$r->{suffix}.partial size as intended");
}

# The gzip directory is restored in archive recovery, the lz4 one in
# standby mode.
my ($standby_gz, $trigger_gz) = make_standby('standby_gz', $recv_gz, 'archive');
my ($standby_lz4, $trigger_lz4) =
  make_standby('standby_lz4', $recv_lz4, 'standby');
my @receiving = (
	[ $standby_gz, $trigger_gz, 'gzip', 'archive recovery' ],
	[ $standby_lz4, $trigger_lz4, 'lz4', 'standby mode' ]);
$_->[0]->start for @receiving;

foreach my $s (@receiving)
{
	my ($node, $trigger, $method, $mode) = @$s;
	my ($dir, $suffix) = @{ $receivers{$method} }{ 'dir', 'suffix' };
	my $what = "pg_receivewal $suffix, $mode";

	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = ${\rows_through($last_complete_round)} FROM t"),
		"$what: the rows of every completed segment are replayed");
	$node->wait_for_log(waiting_regex($dir, $segment_p), 0);
	foreach my $segment (@switched)
	{
		ok($node->log_contains(restored_regex($dir, "$segment$suffix")),
			"$what: $segment$suffix restored");
	}
	is($node->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
		't', "$what: still in recovery while $segment_p$suffix.partial is there");
	is(rows_of_rounds($node, @partial_rounds),
		0, "$what: the .partial segment is not used before failover");
	ok(!$node->log_contains(qr/\.partial" to "/),
		"$what: no .partial file restored before failover");
}

# Smart failover: an empty trigger file for one, "smart" for the other.
append_to_file($trigger_gz, '');
append_to_file($trigger_lz4, 'smart');
foreach my $s (@receiving)
{
	my ($node, $trigger, $method, $mode) = @$s;
	my ($dir, $suffix) = @{ $receivers{$method} }{ 'dir', 'suffix' };
	my $what = "pg_receivewal $suffix, $mode";
	my $partial = "$segment_p$suffix.partial";
	my @streamed = @{ $partial_rounds{$method} };

	ok( wait_until(
			sub {
				$node->safe_psql('postgres', 'SELECT NOT pg_is_in_recovery()')
				  eq 't';
			},
			"$what: promotion",
			30),
		"$what: smart failover promotes");
	ok( $node->log_contains(
			qr/pg_standby: smart failover: restored partial segment "\Q$dir\/$partial\E"/
		),
		"$what: $partial restored at smart failover");
	ok(!$node->log_contains(qr/could not restore file "\Q$dir\/$partial\E"/),
		"$what: $partial not refused");
	is( rows_of_rounds($node, @streamed),
		rows_through($streamed[-1]) - rows_through($last_complete_round),
		"$what: the rows streamed into $partial are there");
	is( $node->safe_psql('postgres', 'SELECT count(*) FROM t'),
		rows_through($streamed[-1]),
		"$what: every streamed row, nothing more");
	$node->stop('immediate');
}

done_testing();
