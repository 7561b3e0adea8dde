# The command line: --help and --version, every option accepted in its
# short and long form, and every bad input (unknown option, bad number,
# missing or surplus argument, a WAL file name the server would never pass)
# refused as a configuration error: the exact one-line message and the hint
# on stderr, exit status 254 (so that the server stops instead of ending
# recovery), and nothing created or removed anywhere.  Also: --help ends
# with the bug-report and home-page lines, a path too long is named, and
# SIGINT (deprecated) is still a fast failover, with a warning and a hint.

use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(run_pg_standby);


my $tempdir = PostgreSQL::Test::Utils::tempdir;

# An archive with a few files a buggy cleanup could remove, an empty
# directory to restore into, and an empty working directory.
my $archive = "$tempdir/archive";
my $out = "$tempdir/out";
my $cwd = "$tempdir/cwd";
mkdir $_ or die "could not create \"$_\": $!" for ($archive, $out, $cwd);
for my $name (
	'000000010000000000000001', '000000010000000000000002',
	'000000010000000000000003.gz', '00000001.history',
	'000000010000000000000001.00000028.backup')
{
	append_to_file("$archive/$name", "not WAL\n");
}

sub listing
{
	my ($dir) = @_;
	return join(' ', sort grep { $_ ne '.' && $_ ne '..' } slurp_dir($dir));
}

# Run pg_standby in $cwd; returns (exit status, stdout, stderr).
sub run_standby
{
	return (run_pg_standby($cwd, @_))[0 .. 2];
}

my $archive_listing = listing($archive);

program_help_ok('pg_standby');
program_version_ok('pg_standby');
program_options_handling_ok('pg_standby');

# What --help and --version say.
my ($status, $stdout, $stderr) = run_standby('--help');
is($status, 0, '--help exits 0');
like(
	$stdout,
	qr/^Usage:\n  pg_standby \[OPTION\]\.\.\. ARCHIVELOCATION NEXTWALFILE XLOGFILEPATH \[RESTARTWALFILE\]$/m,
	'--help shows the synopsis');
for my $option (
	'-c, --copy', '-d, --debug',
	'-k, --keep-files=NUM', '-l, --link',
	'-r, --max-retries=NUM', '-s, --sleep=SECS',
	'-t, --trigger-file=FILE', '-w, --max-wait=SECS',
	'-V, --version', '-?, --help')
{
	like($stdout, qr/^  \Q$option\E /m, "--help lists $option");
}
like(
	$stdout,
	qr/restore_command = 'pg_standby \[OPTION\]\.\.\. ARCHIVELOCATION %f %p %r'/,
	'--help shows the restore_command line');
like(
	$stdout,
	qr/\nReport bugs to <[^>\n]+>\.\n[^\n]+ home page: <[^>\n]+>\n\z/,
	'--help ends with the bug-report and home-page lines');
($status, $stdout, $stderr) = run_standby('-?');
is($status, 0, '-? exits 0');
like($stdout, qr/^Usage:/m, '-? shows the usage');
($status, $stdout, $stderr) = run_standby('-V');
is($status, 0, '-V exits 0');
like($stdout, qr/^pg_standby \(PostgreSQL\) \d+/, '-V shows the version');
is($stderr, '', '-V writes nothing to stderr');

# Arguments that are fine, used with the bad ones below.
my $segment = '000000010000000000000002';
my $restart = '000000010000000000000002';
my @positional = ($archive, $segment, "$out/restored", $restart);

my $hint = qq{pg_standby: hint: Try "pg_standby --help" for more information.\n};
my $name_detail =
  "pg_standby: detail: Expected a segment, timeline history or backup history file name, as the server passes for %f.\n";
my $restart_detail =
  "pg_standby: detail: Expected a segment file name, as the server passes for %r.\n";

# A configuration error: exactly these stderr lines, status 254, nothing
# created in the restore directory or the working directory, nothing
# removed from the archive.
sub config_error_ok
{
	my ($args, $expected_stderr, $test_name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;

	my ($status, $stdout, $stderr) = run_standby(@$args);
	is($status, 254, "$test_name: exit status 254");
	if (ref $expected_stderr eq 'Regexp')
	{
		like($stderr, $expected_stderr, "$test_name: message");
	}
	else
	{
		is($stderr, $expected_stderr, "$test_name: message");
	}
	is($stdout, '', "$test_name: nothing on stdout");
	is(listing($out), '', "$test_name: nothing created at XLOGFILEPATH");
	is(listing($cwd), '',
		"$test_name: nothing created in the working directory");
	is(listing($archive), $archive_listing,
		"$test_name: archive unchanged");
	return;
}

sub error_lines
{
	my ($message, $detail) = @_;
	return "pg_standby: error: $message\n" . ($detail // '') . $hint;
}

# Unknown options and options without their argument: getopt's message.
for my $case (
	[
		[ '-x', @positional ], qr/invalid option -- 'x'/,
		'unknown short option'
	],
	[
		[ '--no-such-option', @positional ],
		qr/unrecognized option '--no-such-option'/,
		'unknown long option'
	],
	[
		['--sleep'], qr/option '--sleep' requires an argument/,
		'missing long option argument'
	],
	[
		['-k'], qr/option requires an argument -- 'k'/,
		'missing short option argument'
	],
	[
		[ '--copy=yes', @positional ],
		qr/option '--copy' doesn't allow an argument/,
		'argument to a flag'
	])
{
	my ($args, $getopt_message, $test_name) = @$case;
	config_error_ok($args,
		qr/\A(?:\S*\/)?pg_standby: $getopt_message\n\Q$hint\E\z/, $test_name);
}

# Bad numbers.  -s and -w take seconds with fractions; -k and -r counts.
my @bad_numbers;
for my $option ('-s/--sleep', '-w/--max-wait')
{
	my ($short, $long) = split m{/}, $option;
	for my $value ('abc', '', '5x', '1.5.2', '5 s', 'nan', 'NaN', 'inf',
		'-inf', 'infinity', '1e999', '0x')
	{
		push @bad_numbers,
		  [ $short, $value, "invalid value \"$value\" for option $option" ];
	}
	my $range = $short eq '-s' ? '0.001..60' : '0..31536000';
	my @out_of_range =
	    $short eq '-s'
	  ? ('0', '0.0009', '-1', '60.5', '61', '1e9')
	  : ('-1', '-0.5', '31536001', '1e9');
	push @bad_numbers, [ $short, $_, "$option must be in range $range" ]
	  for @out_of_range;
	push @bad_numbers, [ $long, '-1', "$option must be in range $range" ];
	push @bad_numbers,
	  [ $long, 'abc', "invalid value \"abc\" for option $option" ];
}
for my $option ('-k/--keep-files', '-r/--max-retries')
{
	my ($short, $long) = split m{/}, $option;
	for my $value ('abc', '5x', '1.5', '0x10', 'nan', 'inf', '1e3')
	{
		push @bad_numbers,
		  [ $short, $value, "invalid value \"$value\" for option $option" ];
	}
	for my $value ('-1', '2147483648', '99999999999999999999')
	{
		push @bad_numbers,
		  [ $short, $value, "$option must be in range 0..2147483647" ];
	}
	push @bad_numbers,
	  [ $long, '-1', "$option must be in range 0..2147483647" ];
	push @bad_numbers,
	  [ $long, 'abc', "invalid value \"abc\" for option $option" ];
}
for my $case (@bad_numbers)
{
	my ($option, $value, $message) = @$case;
	my @args = $option =~ /^--/ ? ("$option=$value") : ($option, $value);
	config_error_ok([ @args, @positional ], error_lines($message),
		"$option \"$value\"");
}

# An empty trigger file name.
config_error_ok([ '-t', '', @positional ],
	error_lines('trigger file name must not be empty'), 'empty -t');
config_error_ok([ '--trigger-file=', @positional ],
	error_lines('trigger file name must not be empty'), 'empty --trigger-file');

# Missing and surplus arguments.
config_error_ok([], error_lines('must specify archive location'),
	'no arguments');
config_error_ok(['-d'], error_lines('must specify archive location'),
	'only an option');
config_error_ok([ '', $segment, "$out/restored" ],
	error_lines('must specify archive location'), 'empty archive location');
config_error_ok([$archive],
	error_lines('must specify WAL file name to restore'), 'one argument');
config_error_ok([ $archive, $segment ],
	error_lines('must specify path to restore to'), 'two arguments');
config_error_ok([ $archive, $segment, '' ],
	error_lines('must specify path to restore to'), 'empty restore path');
config_error_ok([ @positional, 'extra' ],
	error_lines('too many command-line arguments (first is "extra")'),
	'five arguments');
config_error_ok([ @positional, 'extra', 'more' ],
	error_lines('too many command-line arguments (first is "extra")'),
	'six arguments');

# NEXTWALFILE: only names the server passes for %f.
for my $name (
	'', '/', '..', '.', "$archive/$segment", "../$segment", "$segment/..",
	"pg_wal/$segment", "./$segment", '/etc/passwd', 'RECOVERYXLOG', 'garbage',
	'0000000100000000000000a2', '00000001000000000000000',
	'0000000100000000000000020',
	" $segment", "$segment ", "$segment.partial", "$segment.gz",
	'00000001.HISTORY', '0000000a.history', '00000001.history.bak', '1.history',
	"$segment.00000028.backupX", "$segment.0000002g.backup",
	"$segment.00000028.BACKUP",
	"$segment.000028.backup", "$segment\n")
{
	(my $shown = $name) =~ s/\n/\\n/g;
	config_error_ok([ $archive, $name, "$out/restored" ],
		error_lines("invalid WAL file name \"$name\"", $name_detail),
		"NEXTWALFILE \"$shown\"");
}

# RESTARTWALFILE: only a segment name.
for my $name ('', 'bad', '00000001.history', '0000000100000000000000a1',
	"../$segment", "$segment.gz", "$segment.00000028.backup",
	'00000001000000000000000')
{
	config_error_ok([ $archive, $segment, "$out/restored", $name ],
		error_lines("invalid restart WAL file name \"$name\"", $restart_detail),
		"RESTARTWALFILE \"$name\"");
}

# Paths too long to be built: the message says which.
my $long_archive = 'a' x 1100;
config_error_ok(
	[ $long_archive, $segment, "$out/restored" ],
	error_lines(
		"archive location \"$long_archive\" is too long",
		"pg_standby: detail: The paths of archived files, \"$segment\" with a suffix, must be shorter than 1024 bytes.\n"
	),
	'archive location too long');
my $long_restore = "$out/" . ('r' x 1100);
config_error_ok(
	[ $archive, $segment, $long_restore ],
	error_lines(
		"restore path \"$long_restore\" is too long",
		"pg_standby: detail: The path of the temporary file beside it must be shorter than 1024 bytes.\n"
	),
	'restore path too long');

# A server whose WAL format this build does not know.
append_to_file("$cwd/PG_VERSION", "99\n");
my ($st, $so, $se) = run_standby(@positional);
is($st, 254, 'unknown server major version: exit status 254');
is( $se,
	"pg_standby: error: WAL format of PostgreSQL 99 is unknown to this pg_standby\n"
	  . "pg_standby: hint: Use a pg_standby built for that server version.\n",
	'unknown server major version: message');
is(listing($out), '', 'unknown server major version: nothing created');
is(listing($archive), $archive_listing,
	'unknown server major version: archive unchanged');
unlink "$cwd/PG_VERSION" or die "could not remove PG_VERSION: $!";

# Every option in its short and long form.  The request is for a segment
# the archive does not hold and the restore path is not the server's, so
# pg_standby answers at once: 1, "not available".
my $absent = '000000010000000000000009';
my $trigger = "$tempdir/trigger";
my @accepted = (
	['-c'],
	['--copy'],
	[ '-k', '3' ],
	[ '-k', '0' ],
	[ '-k', '2147483647' ],
	['-k5'],
	['--keep-files=3'],
	[ '--keep-files', '3' ],
	['-l'],
	['--link'],
	[ '-r', '0' ],
	[ '-r', '2147483647' ],
	['-r7'],
	['--max-retries=5'],
	[ '--max-retries', '5' ],
	[ '-s', '0.001' ],
	[ '-s', '0.25' ],
	[ '-s', '.5' ],
	[ '-s', '60' ],
	[ '-s', '1e-2' ],
	['-s0.5'],
	['--sleep=1.5'],
	[ '--sleep', '2' ],
	[ '-t', $trigger ],
	[ '--trigger-file=' . $trigger ],
	[ '--trigger-file', $trigger ],
	[ '-w', '0' ],
	[ '-w', '0.5' ],
	[ '-w', '31536000' ],
	['--max-wait=0.3'],
	[ '--max-wait', '10' ],
	[ '-cl', '-k2', '-r1', '-s0.5', '-w1', "-t$trigger" ],
	[
		'--copy', '--link', '--keep-files=1', '--max-retries=1', '--sleep=0.1',
		'--max-wait=1', "--trigger-file=$trigger"
	]);
for my $args (@accepted)
{
	my $test_name = 'option ' . join(' ', @$args);
	my ($status, $stdout, $stderr) =
	  run_standby(@$args, $archive, $absent, "$out/restored", $restart);
	is($status, 1, "$test_name: accepted, file not available");
	is($stderr, '', "$test_name: quiet");
	is(listing($out), '', "$test_name: nothing created");
}
is(listing($archive), $archive_listing, 'accepted options: archive unchanged');

# -d/--debug explains what happened.
for my $option ('-d', '--debug')
{
	my ($status, $stdout, $stderr) =
	  run_standby($option, $archive, $absent, "$out/restored");
	is($status, 1, "$option: accepted, file not available");
	like(
		$stderr,
		qr/^pg_standby: [^\n]*"\Q$archive\/$absent\E"/m,
		"$option: explains the outcome");
}

# -l/--link is ignored, with a warning when a timeline history file is
# asked for (the classic linked those).
for my $option ('-l', '--link')
{
	my ($status, $stdout, $stderr) =
	  run_standby($option, $archive, '00000005.history', "$out/restored");
	is($status, 1, "$option with a history file: accepted, file not available");
	like(
		$stderr,
		qr/\Apg_standby: warning: [^\n]*-l\/--link[^\n]*\n\z/,
		"$option with a history file: warns");
}
# SIGINT, deprecated for a fast failover since the classic pg_standby,
# still is one, with a warning and a hint to use SIGUSR1.  pg_standby runs
# as the server would run it (restore path pg_wal/RECOVERYXLOG, archive
# recovery), so that it waits for the absent segment.
{
	my $server_dir = "$tempdir/server";
	mkdir $server_dir or die "could not create \"$server_dir\": $!";
	mkdir "$server_dir/pg_wal" or die "could not create pg_wal: $!";
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::start(
		[ 'pg_standby', $archive, $absent, 'pg_wal/RECOVERYXLOG' ],
		init => sub { chdir $server_dir or die "could not chdir: $!" },
		'<' => \undef,
		'>' => \$stdout,
		'2>' => \$stderr,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	# it says that recovery_prefetch is on just before it starts to wait
	$h->pump until $stderr =~ /recovery_prefetch is on/;
	$h->signal('INT');
	$h->finish;
	is($h->full_result(0) >> 8, 1, 'SIGINT: exit status 1, a fast failover');
	like(
		$stderr,
		qr/^pg_standby: warning: SIGINT received: fast failover\npg_standby: hint: SIGINT is deprecated for this; use SIGUSR1\.$/m,
		'SIGINT: a warning and a hint to use SIGUSR1');
}

ok(!-e $trigger, 'no option created the trigger file');
is(listing($out), '', 'nothing was ever created at XLOGFILEPATH');
is(listing($cwd), '', 'nothing was ever created in the working directory');
is(listing($archive), $archive_listing, 'archive never changed');

done_testing();
