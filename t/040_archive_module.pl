# Both halves ours: a primary archiving with archive_library =
# pg_standby_archive, a standby in standby mode restoring with pg_standby.
# It proves that:
#  1. without pg_standby_archive.directory the archiver waits and says why,
#     keeping every segment; once it is set, all of them are archived;
#  2. the standby replays each segment the module archives, plain, then
#     gzip, lz4 and zstd; each compressed file is written under its final
#     name only (NAME.gz, NAME.lz4, NAME.zst, no plain copy) and decompresses
#     with gzip -dc, lz4 -dc, zstd -dc to exactly the bytes of the segment;
#  3. a segment already in the archive in another form with the same
#     contents (NAME.gz made by the gzip program, while lz4 is configured)
#     counts as archived and is left as it is; one with different contents
#     (NAME.zst) is an error, is never overwritten, and once removed the
#     segment is archived as NAME.lz4;
#  4. an archive directory that cannot be written makes archiving fail,
#     naming the file and the reason, and keeps the segments in pg_wal;
#  5. the primary killed (immediate stop) while the archiver works through
#     that backlog leaves no file under a final name that is not complete
#     and correct; after the restart the archiver retries without a single
#     failure, removes the temporary file the crash left, and catches up
#     with no segment skipped;
#  6. a smart failover (trigger file) promotes the standby with every row
#     the primary committed; archiving with the module too, it then writes
#     its timeline history file plain, with zstd configured;
#  7. a streaming standby promoted in the middle of a segment archives
#     that segment of the old timeline as NAME.zst.partial (as
#     pg_receivewal names it, and pg_standby looks for it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(wait_until read_binary);
use Time::HiRes qw(usleep);

# What is under test: the module and the program just built, or the
# installed ones (PgStandbyTest::pg_standby_binary says how).
my $module = $ENV{PG_STANDBY_MODULE} // '';
my $pg_standby = $ENV{PG_STANDBY_PROGRAM} // '';
ok(-f "$module.so", 'pg_standby_archive found')
  or BAIL_OUT("pg_standby_archive not found at \"$module.so\"");
ok(-x $pg_standby, 'pg_standby found')
  or BAIL_OUT("pg_standby not found at \"$pg_standby\"");

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $archive = "$tempdir/archive";
mkdir $archive or die "could not create \"$archive\": $!";

my $seg_size = 16 * 1024 * 1024;    # initdb's default

# How each compression's files are named and read back.
my %suffix = (none => '', gzip => '.gz', lz4 => '.lz4', zstd => '.zst');
my %decompressor = (
	gzip => [ 'gzip', '-dc' ],
	lz4 => [ 'lz4', '-dc' ],
	zstd => [ 'zstd', '-dc', '-q' ]);

# The contents of an archived file, decompressed as its name says; undef
# when the decompressor rejects it.
sub archived_contents
{
	my ($path) = @_;
	my ($ext) = $path =~ /\.(gz|lz4|zst)(?:\.partial)?$/;

	return read_binary($path) unless defined $ext;

	my %by_ext = (gz => 'gzip', lz4 => 'lz4', zst => 'zstd');
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ @{ $decompressor{ $by_ext{$ext} } }, $path ],
		'>', \$out, '2>', \$err);
	return $ok ? $out : undef;
}

sub dir_entries
{
	my ($dir) = @_;
	opendir(my $dh, $dir) or die "could not open \"$dir\": $!";
	my @names = sort grep { !/^\.\.?$/ } readdir($dh);
	closedir($dh);
	return @names;
}

# Archived segment files: name => the segment they hold.
sub archived_segments
{
	my ($dir) = @_;
	my %segments;

	foreach my $name (dir_entries($dir))
	{
		$segments{$name} = $1 if $name =~ /^([0-9A-F]{24})(?:\.gz|\.lz4|\.zst)?$/;
	}
	return %segments;
}

sub temp_files
{
	my ($dir) = @_;
	return grep { /\.tmp$/ } dir_entries($dir);
}

sub segno
{
	my ($name) = @_;
	my (undef, $log, $seg) = map { hex } unpack('A8A8A8', $name);
	return $log * (4294967296 / $seg_size) + $seg;
}

sub segment_name
{
	my ($tli, $segno) = @_;
	my $per_id = 4294967296 / $seg_size;
	return sprintf('%08X%08X%08X', $tli, int($segno / $per_id),
		$segno % $per_id);
}

###########################################################################
# The primary: the module, not yet told where to archive.  wal_keep_size
# keeps archived segments in pg_wal, to compare the archive with.
###########################################################################
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
	'postgresql.conf', qq(
archive_mode = on
archive_library = '$module'
wal_keep_size = '2GB'
));
$primary->start;

my $rows = 0;    # committed on the primary so far

sub commit_rows
{
	my ($n) = @_;
	$primary->safe_psql('postgres',
		"INSERT INTO t SELECT g, md5(g::text) FROM generate_series($rows + 1, $rows + $n) g"
	);
	$rows += $n;
	return $rows;
}

# Switch to a new segment and return the name of the one just finished.
sub switch_wal
{
	return $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_switch_wal())');
}

sub archiver_stats
{
	return $primary->safe_psql('postgres',
		'SELECT archived_count, failed_count, last_archived_wal, last_failed_wal FROM pg_stat_archiver'
	);
}

sub wait_failed
{
	my ($segment, $failed_before) = @_;
	return $primary->poll_query_until('postgres',
		"SELECT last_failed_wal = '$segment' AND failed_count > $failed_before FROM pg_stat_archiver"
	);
}

sub wait_archived
{
	my ($segment) = @_;
	return $primary->poll_query_until('postgres',
		"SELECT last_archived_wal COLLATE \"C\" >= '$segment' FROM pg_stat_archiver"
	);
}

# Loaded in the session too, ALTER SYSTEM knows (and checks) its parameters.
sub set_archiving
{
	my ($param, $value) = @_;
	$primary->safe_psql('postgres',
		"LOAD '$module'; ALTER SYSTEM SET pg_standby_archive.$param = '$value'");
	$primary->reload;
	return;
}

$primary->safe_psql('postgres',
	'CREATE TABLE t (id int PRIMARY KEY, payload text)');
commit_rows(100);

###
### 1. Unconfigured: the archiver waits and says why.
###
{
	my $waiting = switch_wal();
	my $reason = 'pg_standby_archive cannot archive: '
	  . '"pg_standby_archive\.directory" is not set';
	# PostgreSQL 17 and later put the module's reason in the archiver's own
	# warning; before, the module warns by itself.
	$primary->wait_for_log(
		$primary->pg_version >= 17
		? qr/WARNING:  "archive_mode" enabled, yet archiving is not configured\n[^\n]*DETAIL:  $reason/
		: qr/WARNING:  $reason/);
	ok(-f $primary->data_dir . "/pg_wal/archive_status/$waiting.ready",
		'unconfigured: the segment waits to be archived');
	is($primary->safe_psql('postgres',
			'SELECT archived_count, failed_count FROM pg_stat_archiver'),
		'0|0', 'unconfigured: nothing archived, nothing failed');

	set_archiving('directory', $archive);
	ok(wait_archived($waiting), 'configured: the waiting segment archived');
	ok(-f "$archive/$waiting", 'configured: under its own name');
}

$primary->backup('base');

# A standby of the primary, archiving with the module (archive_mode and
# archive_library come with the backup) once promoted, compressed with
# zstd, into a directory of its own: not the primary's, which ALTER SYSTEM
# set in the postgresql.auto.conf the backup holds.
sub make_standby
{
	my ($name, $backup, $own_archive, %params) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	mkdir $own_archive or die "could not create \"$own_archive\": $!";
	$node->init_from_backup($primary, $backup, %params);
	open(my $fh, '>', $node->data_dir . '/postgresql.auto.conf')
	  or die "could not truncate postgresql.auto.conf: $!";
	close $fh;
	$node->append_conf(
		'postgresql.conf', qq(
pg_standby_archive.directory = '$own_archive'
pg_standby_archive.compression = 'zstd'
));
	return $node;
}

###########################################################################
# The standby: standby mode, pg_standby waiting in the archive.
###########################################################################
my $promoted_archive = "$tempdir/archive_promoted";
my $trigger = "$tempdir/trigger";
my $standby = make_standby('standby', 'base', $promoted_archive);
$standby->append_conf(
	'postgresql.conf', qq(
restore_command = '"$pg_standby" -t "$trigger" -s 0.2 "$archive" %f %p'
recovery_prefetch = off
hot_standby = on
));
$standby->set_standby_mode;
$standby->start;

sub wait_replayed
{
	my ($n) = @_;
	return $standby->poll_query_until('postgres',
		"SELECT count(*) = $n FROM t");
}

###
### 2. Each segment archived, plain and compressed, is replayed.
###
foreach my $compression (qw(none gzip lz4 zstd))
{
	set_archiving('compression', $compression);
	commit_rows(1000);
	my $segment = switch_wal();
	my $name = $segment . $suffix{$compression};

	ok(wait_archived($segment), "$compression: $segment archived");
	ok(wait_replayed($rows), "$compression: replayed by the standby");

	is_deeply(
		[ grep { /^$segment/ } dir_entries($archive) ],
		[$name], "$compression: archived as $name, and only so");
	my $contents = archived_contents("$archive/$name");
	ok( defined $contents
		  && $contents eq read_binary($primary->data_dir . "/pg_wal/$segment"),
		"$compression: $name holds exactly the segment");
}
is(join(',', temp_files($archive)), '', 'no temporary file left');

###
### 3. Already archived in another form: the same contents, or different.
###
set_archiving('compression', 'lz4');
{
	my $away = "$archive.away";
	my (undef, $failed_before) = split /\|/, archiver_stats();
	rename($archive, $away) or die "could not rename \"$archive\": $!";

	commit_rows(100);
	my $same = switch_wal();
	commit_rows(100);
	my $different = switch_wal();
	ok(wait_failed($same, $failed_before),
		"other forms: $same waits while the directory is away");

	# $same as the gzip program writes it: other bytes than zlib's, the
	# same segment
	my $wal = $primary->data_dir . '/pg_wal';
	system_or_bail("gzip -c '$wal/$same' > '$away/$same.gz'");
	my $gz_before = read_binary("$away/$same.gz");

	# $different with another system identifier, which pg_standby refuses
	my $data = read_binary("$wal/$different");
	substr($data, 24, 8) = "\0" x 8;
	append_to_file("$tempdir/forged", $data);
	system_or_bail("zstd -q -c '$tempdir/forged' > '$away/$different.zst'");
	my $zst_before = read_binary("$away/$different.zst");

	(undef, $failed_before) = split /\|/, archiver_stats();
	rename($away, $archive) or die "could not rename \"$away\": $!";
	$primary->reload;    # wakes the archiver
	ok(wait_failed($different, $failed_before),
		"other forms: $different fails");

	my (undef, undef, $last_archived) = split /\|/, archiver_stats();
	is($last_archived, $same, "other forms: $same counted as archived");
	is_deeply(
		[ grep { /^$same/ } dir_entries($archive) ],
		["$same.gz"], "other forms: $same.gz only, no $same.lz4");
	ok(read_binary("$archive/$same.gz") eq $gz_before,
		"other forms: $same.gz left as it was");
	ok( $primary->log_contains(
			qr/ERROR:  archive file "\Q$archive\/$different.zst\E" already exists with different contents/
		),
		"other forms: the error names $different.zst");
	ok(read_binary("$archive/$different.zst") eq $zst_before,
		"other forms: $different.zst not overwritten");

	unlink("$archive/$different.zst")
	  or die "could not remove \"$different.zst\": $!";
	$primary->reload;
	ok(wait_archived($different), "other forms: $different archived once free");
	my $contents = archived_contents("$archive/$different.lz4");
	ok(defined $contents && $contents eq read_binary("$wal/$different"),
		"other forms: as $different.lz4, exactly the segment");
	ok(wait_replayed($rows), 'other forms: the standby replayed both');
}

###
### 4. A directory that cannot be written: failures, segments kept.
###    The backlog is real data, so that compressing takes a while.
###
set_archiving('compression', 'gzip');
my ($first_backlog, $last_backlog);
{
	my $offset = -s $primary->logfile;
	chmod 0500, $archive or die "could not chmod \"$archive\": $!";

	$primary->safe_psql('postgres',
		'CREATE TABLE big AS SELECT g, md5(g::text) || md5((-g)::text) AS x '
		  . 'FROM generate_series(1, 400000) g');
	commit_rows(1000);
	$last_backlog = switch_wal();

	$primary->wait_for_log(qr/could not create file/, $offset);
	my $log = slurp_file($primary->logfile, $offset);
	like(
		$log,
		qr/ERROR:  could not create file "\Q$archive\E\/([0-9A-F]{24})\.gz\.\d+\.\d+\.tmp": Permission denied\n.*CONTEXT:  archiving write-ahead log file "\1"/,
		'unwritable: the error names the file and the reason');
	($first_backlog) = $log =~ /archiving write-ahead log file "([0-9A-F]{24})"/;
	ok(segno($last_backlog) - segno($first_backlog) >= 3,
		"unwritable: a backlog from $first_backlog to $last_backlog");
	ok(-f $primary->data_dir . "/pg_wal/$first_backlog",
		'unwritable: the segment is kept in pg_wal');
	my (undef, $failed, undef, $last_failed) = split /\|/, archiver_stats();
	ok($failed > 0 && $last_failed eq $first_backlog,
		'unwritable: pg_stat_archiver counts the failure');
}

###
### 5. Killed while archiving the backlog: no bad file under a final name.
###
{
	chmod 0700, $archive or die "could not chmod \"$archive\": $!";
	$primary->reload;    # wakes the archiver

	# Kill it as soon as it is at work: a temporary file there, or a file
	# of the backlog under its final name (where a module that wrote in
	# place would be caught half-way).
	my %before = archived_segments($archive);
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	my $caught;
	while (time() < $deadline)
	{
		$caught = temp_files($archive) > 0;
		last if $caught;
		last if grep { !$before{$_} } keys %{ { archived_segments($archive) } };
		usleep(10_000);
	}
	$primary->stop('immediate');
	ok($caught, 'crash: the primary was killed while writing a file');

	my %segments = archived_segments($archive);
	my @bad;
	foreach my $name (sort keys %segments)
	{
		my $contents = archived_contents("$archive/$name");
		my $wal = $primary->data_dir . "/pg_wal/$segments{$name}";
		push @bad, $name
		  unless defined $contents
		  && length($contents) == $seg_size
		  && (!-f $wal || $contents eq read_binary($wal));
	}
	is(join(',', @bad), '', 'crash: every file under a final name is complete and correct');
	my @temps = temp_files($archive);
	ok(@temps > 0, 'crash: the interrupted file is only under a temporary name');

	$primary->start;
	ok(wait_archived($last_backlog), 'restart: the archiver caught up');
	my (undef, $failed) = split /\|/, archiver_stats();
	is($failed, 0, 'restart: no archiving attempt failed');
	ok( $primary->log_contains(
			qr/removed temporary file "\Q$archive\/$temps[0]\E" left by an earlier attempt/),
		'restart: the stale temporary file removed');
	is(join(',', temp_files($archive)), '', 'restart: no temporary file left');

	%segments = archived_segments($archive);
	my %present = map { $_ => 1 } values %segments;
	my @missing = grep { !$present{$_} }
	  map { segment_name(1, $_) } segno($first_backlog) .. segno($last_backlog);
	is(join(',', @missing), '', 'restart: no segment of the backlog skipped');
	@bad = ();
	foreach my $name (sort keys %segments)
	{
		my $contents = archived_contents("$archive/$name");
		my $wal = $primary->data_dir . "/pg_wal/$segments{$name}";
		push @bad, $name
		  unless defined $contents
		  && length($contents) == $seg_size
		  && (!-f $wal || $contents eq read_binary($wal));
	}
	is(join(',', @bad), '', 'restart: every archived segment complete and correct');
}

###
### 6. Failover: every row, and the promoted standby's own archive.
###
{
	commit_rows(500);
	my $last = switch_wal();
	ok(wait_archived($last), 'failover: the last segment archived');
	ok(wait_replayed($rows), 'failover: the standby replayed everything');

	append_to_file($trigger, '');
	ok( $standby->poll_query_until('postgres',
			'SELECT NOT pg_is_in_recovery()'),
		'failover: the standby is promoted');
	is($standby->safe_psql('postgres', 'SELECT count(*), max(id) FROM t'),
		"$rows|$rows", 'failover: every row committed on the primary');
	is($standby->safe_psql('postgres', 'SELECT count(*) FROM big'),
		'400000', 'failover: the backlog\'s table too');

	ok( wait_until(sub { -f "$promoted_archive/00000002.history" },
			'the promoted standby to archive its history file'),
		'promoted: 00000002.history archived, plain');
	is( read_binary("$promoted_archive/00000002.history"),
		read_binary($standby->data_dir . '/pg_wal/00000002.history'),
		'promoted: the history file as written');

}

###
### 7. A streaming standby promoted mid-segment: NAME.zst.partial.
###
{
	$primary->backup('base2');
	my $streaming_archive = "$tempdir/archive_streaming";
	my $streaming = make_standby('streaming', 'base2', $streaming_archive,
		has_streaming => 1);
	$streaming->start;

	commit_rows(100);
	my $segment = $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
	$primary->wait_for_catchup($streaming);
	$streaming->promote;

	my $partial = "$streaming_archive/$segment.zst.partial";
	ok(wait_until(sub { -f $partial }, "$segment.zst.partial"),
		"partial: $segment archived as $segment.zst.partial");
	my $contents = archived_contents($partial);
	ok( defined $contents
		  && length($contents) == $seg_size
		  && substr($contents, 0, 8192) eq
		  substr(read_binary($primary->data_dir . "/pg_wal/$segment"), 0, 8192),
		'partial: it decompresses to the whole segment file');
	is( join(',', grep { /^0000000[12]\.history$|\.tmp$/ } dir_entries($streaming_archive)),
		'00000002.history',
		'partial: the history file plain beside it, no temporary file');
	is($streaming->safe_psql('postgres', 'SELECT count(*) FROM t'),
		$rows, 'partial: every row on the promoted streaming standby');
	$streaming->stop;
}

# Stopped cleanly, the promoted standby's archiver finishes its work: then
# everything in its archive is complete, and nothing else is there.
$standby->stop;
{
	my @bad;
	foreach my $name (dir_entries($promoted_archive))
	{
		next if $name eq '00000002.history';
		my $contents = archived_contents("$promoted_archive/$name");
		push @bad, $name
		  unless $name =~ /^00000002[0-9A-F]{16}\.zst$/
		  && defined $contents
		  && length($contents) == $seg_size;
	}
	is(join(',', @bad), '',
		'promoted: its archive holds whole zstd segments of timeline 2, nothing else');
}
$primary->stop;

done_testing();
