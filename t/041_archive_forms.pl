# Every form of a compressed segment the standard tools write, and the
# module's settings for compression levels and file modes.  It proves that:
#  1. pg_standby restores, byte for byte, a segment stored as several gzip
#     members (cat a.gz b.gz c.gz), as pigz -i writes it, as several lz4
#     frames, as several zstd frames and as pzstd writes it (frames and
#     skippable frames): what gzip -dc, lz4 -dc and zstd -dc decompress;
#     and refuses such a file with junk after its last member, or waits
#     for one whose last member is cut short;
#  2. pg_standby_archive counts each of these forms, already in the
#     archive, as the segment archived, and leaves it as it is; one whose
#     second member holds other data is an error, never overwritten;
#  3. pg_standby_archive.compression takes a level (gzip:1, lz4:level=12,
#     zstd:-5, ...): the files decompress with the standard tools to the
#     segment; a level out of range or another option is refused with
#     PostgreSQL's own message;
#  4. pg_standby_archive.file_mode sets the mode of the files it writes
#     (0600 by default, 0640 when asked), and a mode that is not octal,
#     has execute bits or lacks the owner's read and write is refused;
#  5. a temporary file in the archive that cannot be removed (the archive
#     directory not writable) is removed at a later file, once it can be,
#     without a restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary run_pg_standby wait_until read_binary
  place);
use IPC::Run;

pg_standby_binary();
my $module = $ENV{PG_STANDBY_MODULE};

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $archive = "$tempdir/archive";
mkdir $archive or die "could not create \"$archive\": $!";

# Run a command with $input on its standard input; its standard output.
sub filter
{
	my ($input, @command) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@command, '<', \$input, '>', \$out, '2>', \$err)
	  or die "\"@command\" failed: $err";
	return $out;
}

# $data cut in three, each part compressed on its own, concatenated.
sub in_three_parts
{
	my ($data, @command) = @_;
	my $third = int(length($data) / 3);
	return join('',
		map { filter(substr($data, $_ * $third, $_ == 2 ? length($data) : $third), @command) }
		  0 .. 2);
}

# The forms: [ suffix, what, maker of the file from the segment ].
my @forms = (
	[ '.gz', 'three gzip members', sub { in_three_parts($_[0], 'gzip', '-c') } ],
	[ '.gz', 'pigz -i', sub { filter($_[0], 'pigz', '-i', '-p', '2', '-c') } ],
	[ '.lz4', 'three lz4 frames', sub { in_three_parts($_[0], 'lz4', '-q', '-c') } ],
	[ '.zst', 'three zstd frames', sub { in_three_parts($_[0], 'zstd', '-q', '-c') } ],
	[ '.zst', 'pzstd', sub { filter($_[0], 'pzstd', '-q', '-p', '2', '-c') } ]);

my %decompressor = (
	'.gz' => [ 'gzip', '-dc' ],
	'.lz4' => [ 'lz4', '-dc' ],
	'.zst' => [ 'zstd', '-dc', '-q' ]);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init;
$primary->append_conf(
	'postgresql.conf', qq(
wal_level = replica
archive_mode = on
archive_library = '$module'
pg_standby_archive.directory = '$archive'
wal_keep_size = '2GB'
));
$primary->start;
$primary->safe_psql('postgres', 'CREATE TABLE t (n int, payload text)');

# Some rows, and a switch; the name of the segment switched away from.
sub switch_wal
{
	return $primary->safe_psql('postgres',
		"INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g;"
		  . 'SELECT pg_walfile_name(pg_switch_wal())');
}

sub segment_data
{
	my ($segment) = @_;
	return read_binary($primary->data_dir . "/pg_wal/$segment");
}

sub wait_archived
{
	my ($segment) = @_;
	return $primary->poll_query_until('postgres',
		"SELECT last_archived_wal COLLATE \"C\" >= '$segment' FROM pg_stat_archiver"
	);
}

sub wait_failed
{
	my ($segment) = @_;
	return $primary->poll_query_until('postgres',
		"SELECT last_failed_wal = '$segment' FROM pg_stat_archiver");
}

# Loaded in the session, ALTER SYSTEM checks the module's parameters.
sub set_archiving
{
	my ($param, $value) = @_;
	my ($ret, $stdout, $stderr) = $primary->psql('postgres',
		"LOAD '$module'; ALTER SYSTEM SET pg_standby_archive.$param = '$value'");
	$primary->reload if $ret == 0;
	return ($ret, $stderr);
}

###
### 1. pg_standby restores every form.
###
my $segment = switch_wal();
ok(wait_archived($segment), "$segment archived");
my $data = segment_data($segment);

foreach my $i (0 .. $#forms)
{
	my ($suffix, $what, $make) = @{ $forms[$i] };
	my $dir = "$tempdir/form$i";
	my $out = "$tempdir/restored$i";
	my $file = $make->($data);

	mkdir $dir;
	place("$dir/$segment$suffix", $file);
	is(filter($file, @{ $decompressor{$suffix} }), $data,
		"$what: $decompressor{$suffix}[0] -dc decompresses it to the segment");
	# as pg_rewind would run it (never waits), in the primary's data directory
	my ($status, undef, $stderr) =
	  run_pg_standby($primary->data_dir, $dir, $segment, $out);
	is($status, 0, "$what: pg_standby restores it");
	ok(-f $out && read_binary($out) eq $data,
		"$what: pg_standby restores the segment byte for byte");
}

{
	my $dir = "$tempdir/junk";
	my $file = in_three_parts($data, 'gzip', '-c');
	mkdir $dir;

	place("$dir/$segment.gz", $file . "junk");
	my ($status, undef, $stderr) =
	  run_pg_standby($primary->data_dir, $dir, $segment, "$tempdir/junk_out");
	isnt($status, 0, 'junk after the last gzip member: not restored');
	like($stderr, qr/The gzip data is invalid: [^\n]+\./,
		'junk after the last gzip member: refused as invalid');

	place("$dir/$segment.gz", substr($file, 0, length($file) - 10));
	($status, undef, $stderr) =
	  run_pg_standby($primary->data_dir, $dir, $segment, "$tempdir/junk_out");
	isnt($status, 0, 'last gzip member cut short: not restored');
	like($stderr, qr/The gzip stream ends early: the file may still be being written\./,
		'last gzip member cut short: taken as still being written');
	ok(!-e "$tempdir/junk_out", 'nothing restored from either');
}

###
### 2. The module counts each form as the segment archived.
###
my $nowhere = "$tempdir/nowhere";
set_archiving('directory', $nowhere);
my @pending = map { switch_wal() } 0 .. $#forms;
ok(wait_failed($pending[0]), 'archive directory gone: archiving waits');

my %placed;
foreach my $i (0 .. $#forms)
{
	my ($suffix, $what, $make) = @{ $forms[$i] };
	my $name = "$pending[$i]$suffix";

	$placed{$name} = $make->(segment_data($pending[$i]));
	place("$archive/$name", $placed{$name});
}
my $log_offset = -s $primary->logfile;
set_archiving('directory', $archive);
ok(wait_archived($pending[-1]), 'every pending segment archived');

foreach my $i (0 .. $#forms)
{
	my ($suffix, $what) = @{ $forms[$i] };
	my $name = "$pending[$i]$suffix";

	my @names = map { s{.*/}{}r } glob("$archive/$pending[$i]*");
	is(join(',', @names), $name,
		"module, $what: the only form of the segment is the one placed");
	ok(read_binary("$archive/$name") eq $placed{$name},
		"module, $what: counted as archived and left as it is");
}
unlike(
	slurp_file($primary->logfile, $log_offset),
	qr/different contents/,
	'module: no form taken for different contents');

{
	set_archiving('directory', $nowhere);
	my $different = switch_wal();
	ok(wait_failed($different), 'another segment waits');
	# the second member from another segment, where both hold WAL
	my $data = segment_data($different);
	my $other = segment_data($pending[0]);
	my $file = filter(substr($data, 0, 65536), 'gzip', '-c')
	  . filter(substr($other, 65536), 'gzip', '-c');
	place("$archive/$different.gz", $file);

	$log_offset = -s $primary->logfile;
	set_archiving('directory', $archive);
	$primary->wait_for_log(
		qr/ERROR:  archive file "\Q$archive\/$different.gz\E" already exists with different contents/,
		$log_offset);
	ok(read_binary("$archive/$different.gz") eq $file,
		'module, second member different: an error, and never overwritten');
	unlink "$archive/$different.gz";
	ok(wait_archived($different), 'module: archived once it is out of the way');
}

###
### 3. Compression levels.
###
foreach my $setting (qw(gzip:1 gzip:level=9 lz4:1 lz4:level=12 zstd:-5 zstd:level=15))
{
	my ($method) = $setting =~ /^(\w+)/;
	my $suffix = { gzip => '.gz', lz4 => '.lz4', zstd => '.zst' }->{$method};
	my ($ret, $stderr) = set_archiving('compression', $setting);
	is($ret, 0, "compression $setting accepted");
	my $segment = switch_wal();
	ok(wait_archived($segment), "compression $setting: $segment archived");
	is(filter(read_binary("$archive/$segment$suffix"), @{ $decompressor{$suffix} }),
		segment_data($segment),
		"compression $setting: $decompressor{$suffix}[0] -dc decompresses it to the segment");
}

foreach my $case (
	[ 'gzip:10', qr/compression algorithm "gzip" expects a compression level between 1 and 9/ ],
	[ 'lz4:13', qr/compression algorithm "lz4" expects a compression level between 1 and 12/ ],
	[ 'zstd:level=99', qr/compression algorithm "zstd" expects a compression level between -\d+ and 22/ ],
	[ 'none:1', qr/compression algorithm "none" does not accept a compression level/ ],
	[ 'gzip:fast', qr/unrecognized compression option: "fast"/ ],
	[ 'zstd:workers=2', qr/pg_standby_archive takes no compression option but the level/ ],
	[ 'brotli', qr/unrecognized compression algorithm: "brotli"/ ])
{
	my ($value, $reason) = @$case;
	my ($ret, $stderr) = set_archiving('compression', $value);
	isnt($ret, 0, "compression $value refused");
	like($stderr,
		qr/ERROR:  invalid value for parameter "pg_standby_archive.compression": "\Q$value\E"\nDETAIL:  Invalid compression specification: $reason/,
		"compression $value: refused with the reason");
}
set_archiving('compression', 'none');

###
### 4. File modes.
###
{
	my $segment = switch_wal();
	ok(wait_archived($segment), "$segment archived");
	is(sprintf('%04o', (stat "$archive/$segment")[2] & 07777),
		'0600', 'file_mode: 0600 by default');

	my ($ret) = set_archiving('file_mode', '0640');
	is($ret, 0, 'file_mode 0640 accepted');
	$segment = switch_wal();
	ok(wait_archived($segment), "$segment archived");
	is(sprintf('%04o', (stat "$archive/$segment")[2] & 07777),
		'0640', 'file_mode 0640: the archived file has mode 0640');

	foreach my $value (qw(0700 0400 0200 1600 888 rw-r----- 06600))
	{
		my ($ret, $stderr) = set_archiving('file_mode', $value);
		isnt($ret, 0, "file_mode $value refused");
		like($stderr,
			qr/DETAIL:  The file mode must be octal, between 0600 and 0666/,
			"file_mode $value: refused with the reason");
	}
}

###
### 5. A temporary file that cannot be removed is removed later.
###
{
	$primary->stop;
	my $stale = "$archive/000000010000000000000099.12345.1700000000000.tmp";
	place($stale, 'left by a crash');
	chmod 0555, $archive or die "could not chmod \"$archive\": $!";
	$log_offset = -s $primary->logfile;
	$primary->start;
	my $segment = switch_wal();
	$primary->wait_for_log(
		qr/LOG:  could not remove file "\Q$stale\E": Permission denied/,
		$log_offset);
	ok(wait_failed($segment), 'archive directory not writable: archiving fails');
	ok(-e $stale, 'the temporary file is still there');

	chmod 0755, $archive or die "could not chmod \"$archive\": $!";
	$segment = switch_wal();
	ok(wait_archived($segment), 'archive directory writable again: archived');
	ok(!-e $stale, 'the temporary file is removed, without a restart');
	ok($primary->log_contains(
			qr/LOG:  removed temporary file "\Q$stale\E" left by an earlier attempt/,
			$log_offset),
		'its removal is logged');
}

$primary->stop;
done_testing();
