# pg_standby called directly (as pg_rewind or an operator would, not by a
# server in recovery) on WAL written and archived by a real server: a valid
# segment, timeline history or backup history file is restored
# byte-identical, atomically and with mode 0600; an absent file is answered
# at once with 1; every file that is not the WAL asked for (renamed,
# truncated, garbage, another cluster's, corrupted inside) is refused with
# one error line and nothing is created; odd archive paths run nothing; a
# restore path that cannot be written gives up with 255; only the server's
# own restore path makes pg_standby wait; and cleanup with %r or -k, for the
# server only, removes
# exactly the older archived segments.

use strict;
use warnings;
use Fcntl qw(S_IMODE);
use File::Copy qw(copy);
use File::Path qw(make_path rmtree);
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(run_pg_standby);

my $tempdir = PostgreSQL::Test::Utils::tempdir;


# A primary that archives, with a few segments: the second one holds many
# pages of WAL.
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, has_archiving => 1);
$primary->start;
my $pgdata = $primary->data_dir;
my $archive = $primary->archive_dir;
my $seg_size = $primary->safe_psql('postgres',
	"SELECT pg_size_bytes(current_setting('wal_segment_size'))");

$primary->safe_psql('postgres',
	"CREATE TABLE t (a int, b text); SELECT pg_switch_wal();");
$primary->safe_psql('postgres',
	"INSERT INTO t SELECT g, repeat('x', 50) FROM generate_series(1, 10000) g;
	 SELECT pg_switch_wal();");
for (1 .. 2)
{
	$primary->safe_psql('postgres',
		"INSERT INTO t VALUES (1, 'y'); SELECT pg_switch_wal();");
}

# pg_basebackup leaves a backup history file in the archive.
$primary->backup('backup');
my $last_segment = $primary->safe_psql('postgres',
	"INSERT INTO t VALUES (2, 'z');
	 SELECT pg_walfile_name(pg_current_wal_lsn());");
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->poll_query_until('postgres',
	"SELECT last_archived_wal >= '$last_segment' FROM pg_stat_archiver")
  or die "timed out waiting for $last_segment to be archived";

my @segments = sort grep { /^[0-9A-F]{24}$/ } slurp_dir($archive);
my ($backup_history) = grep { /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/ }
  slurp_dir($archive);
is( join(' ', @segments[ 0 .. 3 ]),
	join(' ', map { sprintf('00000001%016X', $_) } 1 .. 4),
	'segments 1 to 4 of timeline 1 are archived');
ok(defined $backup_history, 'a backup history file is archived');

# A timeline history file, from a standby of this primary promoted to
# timeline 2.
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_restoring => 1);
# the primary's archive stays the primary's alone
$standby->append_conf('postgresql.conf', 'archive_mode = off');
$standby->start;
$standby->promote;
my $tli_history_path = $standby->data_dir . '/pg_wal/00000002.history';
ok(-f $tli_history_path, 'the promoted standby wrote 00000002.history');
$standby->stop('fast');

# Another cluster, with a system identifier of its own: initdb, not a copy
# of the initdb template that the tests in a source tree use, which would
# have the primary's.
my $other = PostgreSQL::Test::Cluster->new('other');
$other->init(force_initdb => 1);
my $primary_sysid = $primary->safe_psql('postgres',
	'SELECT system_identifier FROM pg_control_system()');
my ($controldata) = run_command([ 'pg_controldata', '-D', $other->data_dir ]);
my ($other_sysid) = $controldata =~ /^Database system identifier:\s+(\d+)$/m;
isnt($other_sysid, $primary_sysid,
	'the other cluster has its own system identifier');

sub listing
{
	my ($dir) = @_;
	return join(' ', sort grep { $_ ne '.' && $_ ne '..' } slurp_dir($dir));
}

sub write_file
{
	my ($path, $contents) = @_;
	open my $fh, '>:raw', $path or die "could not write \"$path\": $!";
	print $fh $contents or die "could not write \"$path\": $!";
	close $fh or die "could not write \"$path\": $!";
	return;
}

sub same_contents
{
	my ($file1, $file2) = @_;
	return -f $file1 && -f $file2 && slurp_file($file1) eq slurp_file($file2);
}

# Everything is restored into $out, emptied before each test.
my $out = "$tempdir/out";
my $restored = "$out/restored";
sub reset_out
{
	rmtree($out);
	mkdir $out or die "could not create \"$out\": $!";
	return;
}
reset_out();

my $archive_listing = listing($archive);
my $seg = $segments[1];

# A segment restores byte-identical, quietly, with mode 0600 and no
# temporary file left behind.
my ($status, $stdout, $stderr, $elapsed) =
  run_pg_standby($pgdata, $archive, $seg, $restored);
is($status, 0, 'segment: exit status 0');
is($stderr, '', 'segment: quiet');
ok(same_contents($restored, "$archive/$seg"), 'segment: byte-identical');
is(S_IMODE((stat $restored)[2]), 0600, 'segment: mode 0600');
is(listing($out), 'restored', 'segment: no temporary file left');

# Asked again, the same answer; a file already at %p is replaced; a
# temporary file left by a killed run is replaced too.
write_file($restored, 'old contents');
write_file("$restored.pg_standby.tmp", 'left by a killed run');
($status, $stdout, $stderr) = run_pg_standby($pgdata, $archive, $seg, $restored);
is($status, 0, 'segment again: exit status 0');
ok(same_contents($restored, "$archive/$seg"),
	'segment again: replaces the file at XLOGFILEPATH');
is(listing($out), 'restored', 'segment again: stale temporary file gone');

# A symbolic link to a valid segment is followed for reading.
my $linked = "$tempdir/linked";
mkdir $linked;
symlink("$archive/$seg", "$linked/$seg") or die "could not symlink: $!";
reset_out();
($status, $stdout, $stderr) = run_pg_standby($pgdata, $linked, $seg, $restored);
is($status, 0, 'symlink to a valid segment: exit status 0');
ok(same_contents($restored, "$archive/$seg"),
	'symlink to a valid segment: byte-identical');
ok(-l "$linked/$seg", 'symlink to a valid segment: link left alone');

# History files restore byte-identical.
my $hist = "$tempdir/hist";
mkdir $hist;
write_file("$hist/00000002.history", slurp_file($tli_history_path));
for my $case ([ $hist, '00000002.history' ], [ $archive, $backup_history ])
{
	my ($dir, $name) = @$case;
	reset_out();
	($status, $stdout, $stderr) = run_pg_standby($pgdata, $dir, $name, $restored);
	is($status, 0, "$name: exit status 0");
	is($stderr, '', "$name: quiet");
	ok(same_contents($restored, "$dir/$name"), "$name: byte-identical");
	is(S_IMODE((stat $restored)[2]), 0600, "$name: mode 0600");
	is(listing($out), 'restored', "$name: no temporary file left");
}

# Absent files: 1 at once (with -w 20, a wait would take 20 s), nothing
# created.
for my $name ('0000000100000000000000F0', '00000002.history',
	'00000003.history', "$segments[2].00000028.backup")
{
	reset_out();
	($status, $stdout, $stderr, $elapsed) =
	  run_pg_standby($pgdata, '-w', '20', $archive, $name, $restored);
	is($status, 1, "absent $name: exit status 1");
	cmp_ok($elapsed, '<', 10, "absent $name: answered at once");
	is($stderr, '', "absent $name: quiet");
	is(listing($out), '', "absent $name: nothing created");
}

# A refusal: exit status 1, an error line naming the file and a detail line
# with the reason as a sentence (capitalized, ending with a period), nothing
# created.
sub refused_ok
{
	my ($cwd, $dir, $name, $reason, $test_name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	reset_out();
	my ($status, $stdout, $stderr) = run_pg_standby($cwd, $dir, $name, $restored);
	is($status, 1, "$test_name: exit status 1");
	like(
		$stderr,
		qr/^pg_standby: error: [^\n]*"\Q$dir\/$name\E"\npg_standby: detail: (?=[A-Z])[^\n]*$reason[^\n]*(?<=\.)$/m,
		"$test_name: error names the file, detail the reason");
	is(scalar(() = $stderr =~ /\n/g), 2, "$test_name: two lines");
	is(listing($out), '', "$test_name: nothing created");
	return;
}

# The start address a segment name stands for, as %X/%X.
sub segment_lsn
{
	my ($name) = @_;
	my $lsn =
	  hex(substr($name, 8, 8)) * 2**32 + hex(substr($name, 16, 8)) * $seg_size;
	return sprintf('%X/%X', int($lsn / 2**32), $lsn % 2**32);
}

# Each refused file in a directory of its own, under the name it claims.
my $case_number = 0;
sub bad_file
{
	my ($name, $contents) = @_;
	my $dir = "$tempdir/bad" . ++$case_number;
	mkdir $dir or die "could not create \"$dir\": $!";
	write_file("$dir/$name", $contents);
	return $dir;
}

my $wal = slurp_file("$archive/$seg");
is(length($wal), $seg_size, 'the archived segment has the segment size');

# Timeline history files in every form the server's readTimeLineHistory()
# accepts are restored byte-identical: blank lines, lines of white space,
# comments after leading white space, a space instead of the tab, no
# reason, no newline at the end, no entry at all, text after a zero byte
# on a line, and a line longer than the server's line buffer, whose rest
# it reads as a line of its own (here a comment).
my %accepted_history = (
	'blank lines' => "\n1\t0/3000000\tx\n\n2\t0/4000000\ty\n\n",
	'white space lines' => " \t\n1\t0/3000000\tx\n\r\n",
	'indented comments' => "  # comment\n\t#\n1\t0/3000000\tx\n",
	'space, no reason' => "1 0/3000000\n",
	'no final newline' => "1\t0/3000000\tno recovery target specified",
	'empty' => '',
	'comments only' => "# nothing yet\n",
	'zero byte' => "1\t0/3000000\t\0garbage\n",
	'long line' => "1\t0/3000000\t" . ('r' x 1011) . '#' . ('s' x 1000) . "\n",);
foreach my $case (sort keys %accepted_history)
{
	my $dir = bad_file('00000003.history', $accepted_history{$case});
	reset_out();
	($status, $stdout, $stderr) =
	  run_pg_standby($pgdata, $dir, '00000003.history', $restored);
	is($status, 0, "history file, $case: restored");
	is($stderr, '', "history file, $case: quiet");
	ok(same_contents($restored, "$dir/00000003.history"),
		"history file, $case: byte-identical");
}

# What the server refuses (FATAL) is refused, with the server's reason.
refused_ok($pgdata, bad_file('00000003.history', "garbage\n"),
	'00000003.history',
	qr/\bLine "garbage" is not a timeline history entry\./,
	'history file with a garbage line');
refused_ok($pgdata, bad_file('00000003.history', "  1\n"),
	'00000003.history',
	qr/\bLine "  1" is not a timeline history entry\./,
	'history file without a switchpoint');
refused_ok($pgdata,
	bad_file('00000003.history', "1\t0/3000000\tx\n1\t0/4000000\ty\n"),
	'00000003.history',
	qr/\bLine "1\t0\/4000000\ty" is out of order: timeline IDs must be in increasing sequence\./,
	'history file with timelines out of order');
refused_ok($pgdata,
	bad_file('00000003.history', "1\t0/3000000\tx\n3\t0/4000000\ty\n"),
	'00000003.history',
	qr/\bTimeline ID 3 is not less than the file's own timeline 3\./,
	'history file naming its own timeline');
refused_ok($pgdata, bad_file($backup_history, "garbage\n"),
	$backup_history,
	qr/\bThe file does not start with "START WAL LOCATION"\./,
	'malformed backup history file');

# Another segment's contents under this name.
refused_ok($pgdata, bad_file($segments[2], $wal), $segments[2],
	qr/\bThe\ page\ address\ is\ \Q@{[segment_lsn($seg)]}\E,
	   \ but\ the\ file\ name\ says\ \Q@{[segment_lsn($segments[2])]}\E\./x,
	'renamed segment');

# Truncated: shorter than a page, and short of the segment size.
refused_ok($pgdata, bad_file($seg, substr($wal, 0, 100)), $seg,
	qr/\bThe file has only 100 bytes so far\./,
	'segment truncated to 100 bytes');
refused_ok($pgdata, bad_file($seg, substr($wal, 0, 3 * 8192)), $seg,
	qr/\bThe file has 24576 of its $seg_size bytes so far\./,
	'segment truncated to 3 pages');

# Longer than the segment size.
refused_ok($pgdata, bad_file($seg, $wal . ("\0" x 8192)), $seg,
	qr/\bThe file has @{[$seg_size + 8192]} bytes, but the segment size is $seg_size\./,
	'segment with a page too many');

# Garbage of the right size.
refused_ok($pgdata, bad_file($seg, 'garbage!' x ($seg_size / 8)), $seg,
	qr/\bThe page magic number is 0x6167, but this server's is 0x[0-9A-F]{4}\./,
	'garbage of segment size');

# A page timeline newer than the file name's.
my $newer_tli = $wal;
substr($newer_tli, 4, 4, pack('V', 2));
refused_ok($pgdata, bad_file($seg, $newer_tli), $seg,
	qr/\bThe page's timeline 2 is newer than the file name's timeline 1\./,
	'page timeline newer than the file name');

# Another cluster's segment, under a name this cluster uses too.
my $other_dir = "$tempdir/other_archive";
mkdir $other_dir;
write_file("$other_dir/$segments[0]",
	slurp_file($other->data_dir . "/pg_wal/$segments[0]"));
refused_ok($pgdata, $other_dir, $segments[0],
	qr/\bThe WAL file's system identifier is $other_sysid, but this server's is $primary_sysid\./,
	'segment of another cluster');
# ... and this cluster's segment, for the other cluster.
refused_ok($other->data_dir, $archive, $seg,
	qr/\bThe WAL file's system identifier is $primary_sysid, but this server's is $other_sysid\./,
	'segment for another cluster');

# Damage inside: a page header that does not follow, and data after an
# all-zero page.
my $pages = 0;
$pages++ while $pages < $seg_size / 8192
  && substr($wal, $pages * 8192, 8192) ne "\0" x 8192;
cmp_ok($pages, '>=', 8,
	"the segment has $pages pages of WAL before any all-zero page");
my $mid = int($pages / 2);

my $bad_header = $wal;
substr($bad_header, $mid * 8192 + 9, 1) =
  chr(ord(substr($bad_header, $mid * 8192 + 9, 1)) ^ 0x40);
refused_ok($pgdata, bad_file($seg, $bad_header), $seg,
	qr/\bThe page header at offset @{[$mid * 8192]} is not that of the next page of this segment\./,
	'page address wrong in the middle');

my $zeroed = $wal;
substr($zeroed, $mid * 8192, 8192, "\0" x 8192);
refused_ok($pgdata, bad_file($seg, $zeroed), $seg,
	qr/\bData follows an all-zero page at offset @{[($mid + 1) * 8192]}\./,
	'data after an all-zero page');

# A directory, and a link to a file that is not WAL.
my $dir_case = "$tempdir/bad_directory";
make_path("$dir_case/$seg");
refused_ok($pgdata, $dir_case, $seg,
	qr/\bFile "\Q$dir_case\/$seg\E" is not a regular file\./,
	'directory with a segment name');
my $passwd_case = "$tempdir/bad_passwd";
mkdir $passwd_case;
symlink('/etc/passwd', "$passwd_case/$seg") or die "could not symlink: $!";
my $passwd_size = -s '/etc/passwd';
refused_ok($pgdata, $passwd_case, $seg, qr/\bThe file has (?:only )?$passwd_size\b/,
	'symlink to /etc/passwd');

# An archive path with spaces, quotes and shell syntax: used as a path,
# never given to a shell.
my $weird =
    "$tempdir/arch ive 'single' \"double\" \$(touch $tempdir/pwned1) ; "
  . "touch $tempdir/pwned2 ; `touch pwned3` \$HOME \\ end";
make_path($weird);
link("$archive/$seg", "$weird/$seg") or die "could not link: $!";
my $weird_out = "$tempdir/out 'q' \$(touch pwned4) ; touch pwned5";
mkdir $weird_out or die "could not create \"$weird_out\": $!";
($status, $stdout, $stderr) =
  run_pg_standby($pgdata, $weird, $seg, "$weird_out/restored");
is($status, 0, 'archive path with shell syntax: exit status 0');
ok(same_contents("$weird_out/restored", "$archive/$seg"),
	'archive path with shell syntax: byte-identical');
for my $marker ("$tempdir/pwned1", "$tempdir/pwned2", "$pgdata/pwned3",
	"$pgdata/pwned4", "$pgdata/pwned5")
{
	ok(!-e $marker, "archive path with shell syntax: $marker not created");
}

# A restore directory that cannot be written: -r retries, then 255.
SKIP:
{
	skip 'root can write any directory', 5 if $> == 0;

	my $ro = "$tempdir/read_only";
	mkdir $ro;
	chmod 0500, $ro or die "could not chmod \"$ro\": $!";
	($status, $stdout, $stderr) =
	  run_pg_standby($pgdata, '-r', '1', '-s', '0.01', $archive, $seg,
		"$ro/restored");
	chmod 0700, $ro or die "could not chmod \"$ro\": $!";
	is($status, 255, 'unwritable restore directory: exit status 255');
	like(
		$stderr,
		qr/^pg_standby:\ error:\ [^\n]*"\Q$archive\/$seg\E"[^\n]*
		   \battempt\ 1\ of\ 2\b[^\n]*\n
		   pg_standby:\ detail:\ Could\ not\ create\ file\ "\Q$ro\/restored.pg_standby.tmp\E":
		   \ Permission\ denied\.$/mx,
		'unwritable restore directory: first attempt reported');
	like(
		$stderr,
		qr/^pg_standby:\ error:\ [^\n]*"\Q$archive\/$seg\E"[^\n]*
		   \battempt\ 2\ of\ 2\b[^\n]*\n
		   pg_standby:\ detail:\ Could\ not\ create\ file\ "\Q$ro\/restored.pg_standby.tmp\E":
		   \ Permission\ denied\.$/mx,
		'unwritable restore directory: retried once');
	like($stderr, qr/^pg_standby: error: giving up/m,
		'unwritable restore directory: gives up');
	is(listing($ro), '', 'unwritable restore directory: nothing left behind');
}

# The server's own restore path: a present segment is restored, a present
# history file too, an absent history file is never waited for, and an
# absent segment is waited for (here until -w).
my $xlog = "$tempdir/pg_wal";
mkdir $xlog;
($status, $stdout, $stderr) =
  run_pg_standby($pgdata, $archive, $seg, "$xlog/RECOVERYXLOG");
is($status, 0, 'RECOVERYXLOG: exit status 0');
ok(same_contents("$xlog/RECOVERYXLOG", "$archive/$seg"),
	'RECOVERYXLOG: byte-identical');
unlink "$xlog/RECOVERYXLOG";
($status, $stdout, $stderr) = run_pg_standby($pgdata, $hist, '00000002.history',
	"$xlog/RECOVERYHISTORY");
is($status, 0, 'RECOVERYHISTORY: exit status 0');
ok(same_contents("$xlog/RECOVERYHISTORY", "$hist/00000002.history"),
	'RECOVERYHISTORY: byte-identical');
unlink "$xlog/RECOVERYHISTORY";
($status, $stdout, $stderr, $elapsed) = run_pg_standby($pgdata, '-w', '20',
	$archive, '00000003.history', "$xlog/RECOVERYHISTORY");
is($status, 1, 'RECOVERYHISTORY, absent: exit status 1');
cmp_ok($elapsed, '<', 10, 'RECOVERYHISTORY, absent: answered at once');
($status, $stdout, $stderr, $elapsed) = run_pg_standby($pgdata, '-w', '0.3',
	$archive, '0000000100000000000000F0', "$xlog/RECOVERYXLOG");
is($status, 1, 'RECOVERYXLOG, absent, -w 0.3: exit status 1');
cmp_ok($elapsed, '>=', 0.3, 'RECOVERYXLOG, absent, -w 0.3: waited');
like(
	$stderr,
	qr/^pg_standby: [^\n]*"\Q$archive\/0000000100000000000000F0\E"/m,
	'RECOVERYXLOG, absent, -w 0.3: says what it waited for');
is(listing($xlog), '', 'RECOVERYXLOG, absent: nothing created');
ok(!-e "$pgdata/promote", 'RECOVERYXLOG, absent: no promotion requested');

# A directory $name of its own, holding a copy of $seg with mode 0000: a
# segment that is there but cannot be opened.
sub archive_with_locked_segment
{
	my ($name) = @_;
	my $dir = "$tempdir/$name";
	mkdir $dir;
	copy("$archive/$seg", "$dir/$seg") or die "copy failed: $!";
	chmod 0, "$dir/$seg";
	return $dir;
}

# A segment that is there but cannot be opened (written by another OS user
# with mode 0600, say) is trouble that lasts: it is waited through, not
# counted as failed copies, and logged again while it lasts (10 s after the
# first report), with a hint that names the owner and the mode.
SKIP:
{
	skip 'root can open any file', 4 if $> == 0;
	my $locked = archive_with_locked_segment('locked');
	($status, $stdout, $stderr) = run_pg_standby($pgdata, '-s', '0.5', '-w',
		'11', $locked, $seg, "$xlog/RECOVERYXLOG");
	is($status, 1, 'unreadable segment: waited for until -w');
	my @reports = $stderr =~
	  /^pg_standby: error: could not restore file "\Q$locked\/$seg\E"\npg_standby: detail: Could not [^\n]*: Permission denied\.$/mg;
	is(scalar @reports, 2, 'unreadable segment: reported again while it lasts');
	like(
		$stderr,
		qr/^pg_standby: hint: "\Q$locked\/$seg\E" is owned by user "[^"]+" with mode 0000/m,
		'unreadable segment: the hint names owner and mode');
	unlike($stderr, qr/attempt \d+ of/, 'unreadable segment: no failed copy counted');
	unlink "$locked/$seg";
}

# Trouble that lasts is one problem whatever its words, as a dead mount
# fails the look at the directory one time and at the file the next: here
# the file cannot be opened, then the whole directory is gone.  It is
# logged when first seen, then once 10 s later, with the latest words and
# how long the trouble has lasted.
SKIP:
{
	skip 'root can open any file', 3 if $> == 0;
	my $locked = archive_with_locked_segment('locked-then-gone');
	my $mover = fork() // die "fork: $!";
	if ($mover == 0)
	{
		sleep(3);
		rename($locked, "$locked.away");
		POSIX::_exit(0);
	}
	($status, $stdout, $stderr) = run_pg_standby($pgdata, '-s', '0.5', '-w',
		'12', $locked, $seg, "$xlog/RECOVERYXLOG");
	waitpid($mover, 0);
	my @reports = $stderr =~
	  /^pg_standby: error: could not restore file "\Q$locked\/$seg\E"\n((?:pg_standby: (?:detail|hint): [^\n]*\n)+)/mg;
	is(scalar @reports, 2,
		'trouble whose words change: logged when first seen, and once 10 s later');
	like($reports[0], qr/: Permission denied\.$/m,
		'trouble whose words change: first the file that cannot be opened');
	like(
		$reports[1] // '',
		qr/^pg_standby: detail: Could not access archive directory "\Q$locked\E": No such file or directory\.\npg_standby: detail: The problem has lasted 1\d seconds\.$/m,
		'trouble whose words change: then the missing directory, and how long the trouble has lasted'
	);
	rename("$locked.away", $locked);
	unlink "$locked/$seg";
}

is(listing($archive), $archive_listing,
	'the archive was not changed by any restore');

# Cleanup.  The segment restored is the real segment 4; around it, fake
# archived segments and other names.
my $current = $segments[3];
my @older_than_3 = (
	'000000010000000000000000', '000000010000000000000001',
	'000000010000000000000002', '000000010000000000000001.gz',
	'000000010000000000000002.lz4', '000000010000000000000002.zst',
	'000000020000000000000001', '000000030000000000000002.gz');
my @at_3 = ('000000010000000000000003', '000000010000000000000003.gz',
	'000000020000000000000003');
my @older_than_2 = (
	'000000010000000000000000', '000000010000000000000001',
	'000000010000000000000001.gz', '000000020000000000000001');
my @never_removed = (
	'000000010000000000000003', '000000010000000000000003.gz',
	'000000010000000000000005', '000000010000000000000005.zst',
	'000000020000000000000003', '000000010000000000000001.partial',
	'000000010000000000000001.gz.partial', '00000001.history',
	'00000002.history', '000000010000000000000001.00000028.backup',
	'000000010000000000000002.tmp', '0000000100000000000000020',
	'000000010000000000000001.gz.tmp', 'README');
my $clean = "$tempdir/clean";
my $symlink_target = "$tempdir/symlink_target";
write_file($symlink_target, 'not WAL');

sub make_cleanup_archive
{
	rmtree($clean);
	mkdir $clean or die "could not create \"$clean\": $!";
	write_file("$clean/$_", 'not WAL') for (@older_than_3, @never_removed);
	link("$archive/$current", "$clean/$current") or die "could not link: $!";
	# names of older segments that are not regular files
	symlink($symlink_target, "$clean/000000020000000000000000")
	  or die "could not symlink: $!";
	symlink($symlink_target, "$clean/000000010000000000000000.gz")
	  or die "could not symlink: $!";
	mkdir "$clean/000000030000000000000001" or die;
	return listing($clean);
}

sub listing_without
{
	my ($full, @removed) = @_;
	my %removed = map { $_ => 1 } @removed;
	return join(' ', grep { !$removed{$_} } split / /, $full);
}

# Each case: options, %f, %r (or undef), what is removed, test name.
my $absent_segment = '000000010000000000000007';
for my $case (
	[
		[], $current, '000000010000000000000003', \@older_than_3,
		'%r: older segments removed'
	],
	[
		[], $current, $current, [ @older_than_3, @at_3 ],
		'%r equal to %f: everything older removed, %f kept'
	],
	[
		[], $current, '000000010000000000000005', [],
		'%r after %f: nothing removed'
	],
	[
		[], $current, '000000000000000000000000', [],
		'%r all zeros: nothing removed'
	],
	[
		[ '-k', '2' ], $current, undef, \@older_than_2,
		'-k 2: two segments before the current one kept'
	],
	[
		[ '-k', '2' ], $current, '000000010000000000000003', \@older_than_3,
		'-k 2 with %r: %r decides'
	],
	[
		[ '-k', '5' ], $current, undef, [],
		'-k 5 at segment 4: nothing removed'
	],
	[
		[ '-w', '0.1' ], $absent_segment, '000000010000000000000003', [],
		'%f absent: nothing removed'
	],
	[
		[], $current, '000000010000000000000003', [],
		'caller other than the server: nothing removed',
		$restored
	])
{
	my ($options, $name, $restart, $removed, $test_name, $target) = @$case;
	my $before = make_cleanup_archive();

	# cleanup is for the server, which restores to pg_wal/RECOVERYXLOG
	$target //= "$xlog/RECOVERYXLOG";
	unlink $target;
	($status, $stdout, $stderr) = run_pg_standby($pgdata, @$options, $clean,
		$name, $target, defined $restart ? ($restart) : ());
	is($status, $name eq $current ? 0 : 1, "$test_name: exit status");
	if ($name eq $current)
	{
		is($stderr, '', "$test_name: quiet");
	}
	else
	{
		like($stderr, qr/^pg_standby: waited 0\.1 seconds for "[^"]*$absent_segment": giving up$/m,
			"$test_name: says it gave up waiting");
	}
	is(listing($clean), listing_without($before, @$removed), $test_name);
}
unlink "$xlog/RECOVERYXLOG";
ok(-f $symlink_target, 'cleanup: symlink target kept');

done_testing();
