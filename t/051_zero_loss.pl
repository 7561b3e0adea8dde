# What a failover loses, with real servers and a client committing rows
# until the primary dies.  It proves that:
#  1. with pg_receivewal --synchronous streaming into the archive directory
#     as the primary's synchronous standby (so that a COMMIT returns only
#     once pg_receivewal has flushed it), next to an archive_command that
#     writes completed segments into the same directory, a smart failover
#     of a standby in archive recovery restores the segment pg_receivewal
#     was streaming (NAME.partial) and loses no committed row;
#  2. with archive_command alone (archive_timeout = 60, the classic setup),
#     the same failover loses exactly the rows committed after the last
#     segment switch: what archive_timeout costs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until);
use IPC::Run;

my $pg_standby = pg_standby_binary();

my $tempdir = PostgreSQL::Test::Utils::tempdir;

# A primary archiving into $archive with an archive_command that writes
# atomically and takes an identical file already there for success (the
# archiver retries, and pg_receivewal may have written it first).
sub make_primary
{
	my ($name, $archive) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	mkdir $archive;
	$node->init(allows_streaming => 1, has_archiving => 1);
	$node->append_conf('postgresql.conf',
		"archive_command = 'test -f \"$archive/%f\" && cmp -s \"%p\" \"$archive/%f\" || "
		  . "(cp \"%p\" \"$archive/%f.tmp\" && mv \"$archive/%f.tmp\" \"$archive/%f\")'");
	return $node;
}

# The classic warm standby: archive recovery (recovery_prefetch off, as it
# must be there) with pg_standby -t as restore_command.
sub make_standby
{
	my ($name, $primary, $archive) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $trigger = "$tempdir/trigger_$name";

	$node->init_from_backup($primary, 'base');
	$node->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" -d -t "$trigger" -s 0.2 "$archive" %f %p %r'
recovery_prefetch = off
hot_standby = on
archive_mode = off
synchronous_standby_names = ''
));
	$node->set_recovery_mode;
	return ($node, $trigger);
}

# The segment the next WAL record goes to.  (The insert position, never at
# a segment boundary, where pg_walfile_name() names the previous segment.)
sub current_segment
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
}

sub waiting_regex
{
	my ($archive, $segment) = @_;
	return qr/pg_standby: (?:debug: )?waiting for "\Q$archive\/$segment\E"/;
}

# Fail over (empty trigger file: smart) and wait for the promotion.
sub smart_failover
{
	my ($node, $trigger) = @_;
	append_to_file($trigger, '');
	return $node->poll_query_until('postgres',
		'SELECT NOT pg_is_in_recovery()');
}

###########################################################################
# 1. pg_receivewal --synchronous: no committed row is lost.
###########################################################################
my $archive = "$tempdir/archive";
my $primary = make_primary('primary', $archive);
$primary->append_conf('postgresql.conf',
	"synchronous_standby_names = 'receiver'");
$primary->start;
$primary->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('receiver', true)");

my ($recv_out, $recv_err) = ('', '');
my $receiver = IPC::Run::start(
	[
		'pg_receivewal', '-D', $archive, '--slot=receiver', '--synchronous',
		'--no-loop', '-d',
		$primary->connstr('postgres') . ' application_name=receiver'
	],
	'<' => \undef,
	'>' => \$recv_out,
	'2>' => \$recv_err);
ok( $primary->poll_query_until('postgres',
		"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'receiver'"
	),
	'pg_receivewal is the synchronous standby');

$primary->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY)');
$primary->backup('base');
my ($standby, $trigger) = make_standby('standby', $primary, $archive);
$standby->start;

# Everything so far is in completed segments; the client's rows go into
# the next one, which the standby waits for.
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
my $streamed_segment = current_segment($primary);
$standby->wait_for_log(waiting_regex($archive, $streamed_segment), 0);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
	0, 'the standby has replayed the table, empty');

# The client: single-row INSERTs, each its own transaction; after each
# COMMIT returns, psql echoes the id.  It runs until the primary dies.
my $script = "$tempdir/inserts.sql";
append_to_file($script,
	join('', map { "INSERT INTO t VALUES ($_);\n\\echo $_\n" } 1 .. 50000));
my ($client_out, $client_err) = ('', '');
my $client = IPC::Run::start(
	[
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $script, '-d',
		$primary->connstr('postgres')
	],
	'<' => \undef,
	'>' => \$client_out,
	'2>' => \$client_err);
ok( wait_until(
		sub {
			$primary->safe_psql('postgres', 'SELECT count(*) >= 300 FROM t') eq
			  't';
		},
		'the client to commit 300 rows'),
	'the client commits rows');

# The primary dies while the client commits.
$primary->stop('immediate');
$client->finish;
my @acknowledged = $client_out =~ /^(\d+)$/mg;
note('client: ' . scalar(@acknowledged) . ' COMMITs returned, then: '
	  . ($client_err =~ s/\n/ /gr));
cmp_ok(scalar(@acknowledged), '>=', 300,
	'the client saw its COMMITs return until the primary died');
cmp_ok(scalar(@acknowledged), '<', 50000, 'the client did not finish');

# pg_receivewal --no-loop exits once the server is gone.
ok( wait_until(
		sub {
			$receiver->pump_nb if $receiver->pumpable;
			!$receiver->pumpable;
		},
		'pg_receivewal to exit'),
	'pg_receivewal exits after the primary died')
  or $receiver->kill_kill;
$receiver->finish;
note("pg_receivewal: $recv_err");
ok(-f "$archive/$streamed_segment.partial",
	"pg_receivewal left $streamed_segment.partial");
ok(!-e "$archive/$streamed_segment",
	"$streamed_segment was never completed: only the .partial has its rows");
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
	0, 'before failover, none of the rows is on the standby');

my $offset = -s $standby->logfile;
ok(smart_failover($standby, $trigger), 'smart failover: the standby promoted');
ok( $standby->log_contains(
		qr/pg_standby: smart failover: restored partial segment "\Q$archive\/$streamed_segment.partial\E"/,
		$offset),
	"smart failover: pg_standby restored $streamed_segment.partial");

my %on_standby = map { $_ => 1 } split(/\n/,
	$standby->safe_psql('postgres', 'SELECT id FROM t ORDER BY id'));
my @lost = grep { !$on_standby{$_} } @acknowledged;
note('with pg_receivewal: '
	  . scalar(@acknowledged)
	  . ' rows acknowledged, '
	  . scalar(keys %on_standby)
	  . ' on the promoted standby, '
	  . scalar(@lost)
	  . ' lost');
is(scalar(@lost), 0, 'with pg_receivewal: no acknowledged row is lost')
  or diag('lost: ' . join(' ', @lost[ 0 .. ($#lost < 19 ? $#lost : 19) ]));
$standby->stop;

###########################################################################
# 2. archive_command alone, archive_timeout = 60: the rows committed after
#    the last switch are lost.
###########################################################################
my $archive_2 = "$tempdir/archive_2";
my $primary_2 = make_primary('primary_2', $archive_2);
$primary_2->append_conf('postgresql.conf', 'archive_timeout = 60');
$primary_2->start;
$primary_2->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY)');
$primary_2->backup('base');
my ($standby_2, $trigger_2) = make_standby('standby_2', $primary_2, $archive_2);
$standby_2->start;

# Single-row transactions, $n of them, ids from $first.
sub commit_rows
{
	my ($node, $first, $n) = @_;
	$node->safe_psql('postgres',
		join('', map { "INSERT INTO t VALUES ($_);\n" } $first .. $first + $n - 1));
	return;
}

my ($before_switch, $after_switch) = (40, 25);
commit_rows($primary_2, 1, $before_switch);
my $switched = current_segment($primary_2);
$primary_2->safe_psql('postgres', 'SELECT pg_switch_wal()');
my $unarchived = current_segment($primary_2);
ok( $standby_2->poll_query_until('postgres',
		"SELECT count(*) = $before_switch FROM t"),
	"archive only: the rows before the switch are replayed once $switched is archived"
);
$standby_2->wait_for_log(waiting_regex($archive_2, $unarchived), 0);

commit_rows($primary_2, $before_switch + 1, $after_switch);
is($primary_2->safe_psql('postgres', 'SELECT count(*) FROM t'),
	$before_switch + $after_switch, 'archive only: every row committed');
$primary_2->stop('immediate');

$offset = -s $standby_2->logfile;
ok(smart_failover($standby_2, $trigger_2),
	'archive only: smart failover promoted the standby');
ok( $standby_2->log_contains(
		qr/pg_standby: trigger file "\Q$trigger_2\E" found: smart failover/,
		$offset),
	'archive only: pg_standby reported the smart failover');
ok(!-e "$archive_2/$unarchived" && !-e "$archive_2/$unarchived.partial",
	"archive only: nothing of $unarchived reached the archive");

my $kept = $standby_2->safe_psql('postgres', 'SELECT count(*) FROM t');
my $lost = $before_switch + $after_switch - $kept;
note("without pg_receivewal: $lost of "
	  . ($before_switch + $after_switch)
	  . " committed rows lost (those after the last switch)");
is($lost, $after_switch,
	'archive only: exactly the rows committed after the last switch are lost');
cmp_ok($lost, '>=', 1, 'archive only: at least one committed row is lost');
is( $standby_2->safe_psql('postgres', 'SELECT max(id) FROM t'),
	$before_switch, 'archive only: the rows kept are those before the switch');
$standby_2->stop;

done_testing();
