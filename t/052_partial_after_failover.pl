# The .partial segment of the old timeline after a failover, with both
# halves ours and pg_receivewal streaming into the same archive.  For
# pg_receivewal --compress=none, gzip and lz4 in turn, it proves that:
#  1. a smart failover restores pg_receivewal's NAME.partial (in that
#     compression) and promotes the standby with every row committed;
#  2. the promoted standby, archiving with pg_standby_archive into that
#     same archive, archives its own .partial of the old timeline without
#     a single failure, leaves pg_receivewal's file exactly as it was, and
#     goes on to archive the segments of its new timeline: the archiver is
#     never stuck on the .partial.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyTest qw(pg_standby_binary wait_until read_binary);
use IPC::Run;

my $pg_standby = pg_standby_binary();
my $module = "$ENV{TESTDIR}/pg_standby_archive";
my $tempdir = PostgreSQL::Test::Utils::tempdir;

foreach my $compression ('none', 'gzip', 'lz4')
{
	my $suffix = { none => '', gzip => '.gz', lz4 => '.lz4' }->{$compression};
	my $archive = "$tempdir/archive_$compression";
	my $trigger = "$tempdir/trigger_$compression";
	mkdir $archive or die "could not create \"$archive\": $!";

	# The primary archives with the module; pg_receivewal, its synchronous
	# standby, streams into the same directory.
	my $primary = PostgreSQL::Test::Cluster->new("primary_$compression");
	$primary->init(allows_streaming => 1);
	$primary->append_conf(
		'postgresql.conf', qq(
archive_mode = on
archive_library = '$module'
pg_standby_archive.directory = '$archive'
pg_standby_archive.compression = '$compression'
synchronous_standby_names = 'receiver'
));
	$primary->start;
	$primary->safe_psql('postgres',
		"SELECT pg_create_physical_replication_slot('receiver', true)");
	my ($recv_out, $recv_err) = ('', '');
	my $receiver = IPC::Run::start(
		[
			'pg_receivewal', '-D', $archive, "--compress=$compression",
			'--slot=receiver', '--synchronous', '--no-loop', '-d',
			$primary->connstr('postgres') . ' application_name=receiver'
		],
		'<' => \undef,
		'>' => \$recv_out,
		'2>' => \$recv_err);
	ok( $primary->poll_query_until('postgres',
			"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'receiver'"
		),
		"$compression: pg_receivewal is the synchronous standby")
	  or diag("pg_receivewal: $recv_err");

	$primary->safe_psql('postgres', 'CREATE TABLE t (id int)');
	$primary->backup('base');

	# The standby, in standby mode, archives with the module once promoted.
	my $standby = PostgreSQL::Test::Cluster->new("standby_$compression");
	$standby->init_from_backup($primary, 'base');
	$standby->append_conf(
		'postgresql.conf', qq(
restore_command = '"$pg_standby" -t "$trigger" -s 0.2 "$archive" %f %p'
recovery_prefetch = off
synchronous_standby_names = ''
));
	$standby->set_standby_mode;
	$standby->start;

	# Rows in a segment that is never completed: only pg_receivewal's
	# .partial has them when the primary dies.
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	my $segment = $primary->safe_psql('postgres',
		'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
	$primary->safe_psql('postgres',
		'INSERT INTO t SELECT generate_series(1, 1000)');
	$primary->stop('immediate');
	ok(wait_until(sub { $receiver->pump_nb if $receiver->pumpable; !$receiver->pumpable },
			'pg_receivewal to exit'),
		"$compression: pg_receivewal exits")
	  or $receiver->kill_kill;
	$receiver->finish;

	my $streamed = "$archive/$segment$suffix.partial";
	ok(-f $streamed, "$compression: pg_receivewal left $segment$suffix.partial");
	my $streamed_contents = read_binary($streamed);

	append_to_file($trigger, '');
	ok($standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		"$compression: smart failover promoted the standby");
	is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
		1000, "$compression: every committed row is on the promoted standby");

	# The new primary's archiver, from the old timeline's .partial on.
	my $partial_done =
	  $standby->data_dir . "/pg_wal/archive_status/$segment.partial.done";
	my $next = $standby->safe_psql('postgres',
		'INSERT INTO t VALUES (0); SELECT pg_walfile_name(pg_switch_wal())');
	like($next, qr/^00000002/, "$compression: $next is of the new timeline");
	ok( $standby->poll_query_until('postgres',
			"SELECT last_archived_wal = '$next' FROM pg_stat_archiver"),
		"$compression: the new primary archives $next, of its new timeline");
	ok(-f $partial_done,
		"$compression: it archived $segment.partial of the old timeline first");
	is($standby->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver'),
		0, "$compression: without a single failure");
	ok(read_binary($streamed) eq $streamed_contents,
		"$compression: pg_receivewal's $segment$suffix.partial is left as it was");
	note("$compression: the server's .partial "
		  . ($standby->log_contains(qr/LOG:  archive file "[^"]*\.partial" differs/)
			? 'differs from pg_receivewal\'s (logged, kept apart)'
			: 'holds the same WAL as pg_receivewal\'s'));

	$standby->stop;
}

done_testing();
