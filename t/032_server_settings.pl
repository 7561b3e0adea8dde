# pg_standby asks the server that runs it for recovery_prefetch and
# primary_conninfo with "postgres -C", using the postmaster's own binary
# and command line from postmaster.opts, while the server runs: it sees
# what the server's own parser sees (quotes escaped by doubling, settings
# in included files, "-cNAME=VALUE" on the command line); it asks only when
# it is about to wait, never to restore a file that is present; and when
# the server cannot be asked, it says so and assumes the defaults.
#
# pg_standby is run directly in the data directory of a running server,
# with the server's restore path, as the server would run it.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(run_pg_standby);

my $node = PostgreSQL::Test::Cluster->new('server');
$node->init(has_archiving => 1, allows_streaming => 1);
my $pgdata = $node->data_dir;
my $archive = $node->archive_dir;

# primary_conninfo in an included file, with a quote escaped by doubling.
mkdir "$pgdata/conf.d" or die "could not create conf.d: $!";
$node->append_conf('conf.d/standby.conf',
	"primary_conninfo = 'host=''/no where'' port=1'");
$node->append_conf('postgresql.conf', "include_dir 'conf.d'");
$node->start;

my $present = $node->safe_psql('postgres',
	"SELECT pg_walfile_name(pg_current_wal_lsn())");
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->poll_query_until('postgres',
	"SELECT last_archived_wal >= '$present' FROM pg_stat_archiver")
  or die "timed out waiting for $present to be archived";
my $absent = '000000010000000100000001';

my ($status, $stdout, $stderr);

# A present segment is restored without asking the server anything.
($status, $stdout, $stderr) = run_pg_standby($pgdata, '-d', $archive,
	$present, 'pg_wal/RECOVERYXLOG');
is($status, 0, 'a present segment is restored');
unlike($stderr, qr/setting of/, 'the server is not asked to restore a present segment');
unlink "$pgdata/pg_wal/RECOVERYXLOG";

# Standby mode: primary_conninfo, as the server parsed it, means no wait.
open(my $fh, '>', "$pgdata/standby.signal") or die $!;
close $fh;
($status, $stdout, $stderr) = run_pg_standby($pgdata, '-d', '-w', '5',
	$archive, $absent, 'pg_wal/RECOVERYXLOG');
is($status, 1, 'standby mode with primary_conninfo: not available');
like(
	$stderr,
	qr/the server's setting of primary_conninfo is "host='\/no where' port=1"/,
	'primary_conninfo is read with its doubled quote and from an included file');
like($stderr, qr/primary_conninfo is set: not waiting/,
	'standby mode with primary_conninfo does not wait');
unlink "$pgdata/standby.signal";

# Archive recovery: recovery_prefetch given on the server's command line
# in the form "-cNAME=VALUE".
$node->stop;
command_ok(
	[
		'pg_ctl', '-D', $pgdata, '-l', $node->logfile, '-w',
		'-o', '-crecovery_prefetch=off', 'start'
	],
	'server started with -crecovery_prefetch=off');
$node->_update_pid(1);
($status, $stdout, $stderr) = run_pg_standby($pgdata, '-d', '-w', '0.2',
	$archive, $absent, 'pg_wal/RECOVERYXLOG');
is($status, 1, 'archive recovery: the wait ends at -w');
like($stderr, qr/the server's setting of recovery_prefetch is "off"/,
	'recovery_prefetch is read from the server command line');
unlike($stderr, qr/warning/, 'no warning when recovery_prefetch is off');

# The server cannot be asked: a warning, and the default (read-ahead on).
rename("$pgdata/postmaster.opts", "$pgdata/postmaster.opts.saved")
  or die "could not rename postmaster.opts: $!";
($status, $stdout, $stderr) = run_pg_standby($pgdata, '-w', '0.2',
	$archive, $absent, 'pg_wal/RECOVERYXLOG');
is($status, 1, 'without postmaster.opts: the wait still ends at -w');
like(
	$stderr,
	qr/warning: could not open file "postmaster.opts": No such file or directory\n.*detail: The value of "recovery_prefetch" is not known; its default is assumed\./,
	'without postmaster.opts: a warning says the setting is not known');
like($stderr, qr/warning: recovery_prefetch is on/,
	'without postmaster.opts: the default, read-ahead on, is assumed');

# A relative -D (relative to wherever the server was started from) stands
# for the data directory pg_standby runs in.
open($fh, '<', "$pgdata/postmaster.opts.saved") or die $!;
my ($postgres) = <$fh> =~ /^(\S+)/;
close $fh;
open($fh, '>', "$pgdata/postmaster.opts") or die $!;
print $fh "$postgres \"-D\" \"elsewhere/data\" \"-c\" \"recovery_prefetch=off\"\n";
close $fh;
($status, $stdout, $stderr) = run_pg_standby($pgdata, '-d', '-w', '0.2',
	$archive, $absent, 'pg_wal/RECOVERYXLOG');
like($stderr, qr/the server's setting of recovery_prefetch is "off"/,
	'a relative -D in postmaster.opts stands for the data directory');

# postmaster.opts naming a program that fails.
open($fh, '>', "$pgdata/postmaster.opts") or die $!;
print $fh "/bin/false \"-D\" \"$pgdata\"\n";
close $fh;
($status, $stdout, $stderr) = run_pg_standby($pgdata, '-w', '0.2',
	$archive, $absent, 'pg_wal/RECOVERYXLOG');
like(
	$stderr,
	qr/warning: "\/bin\/false -C recovery_prefetch" failed with exit code 1/,
	'a failing postgres -C is reported with its exit code');
rename("$pgdata/postmaster.opts.saved", "$pgdata/postmaster.opts")
  or die "could not rename postmaster.opts: $!";

$node->stop;
done_testing();
