# The .partial segment of the old timeline after a failover, with both
# halves ours and pg_receivewal streaming into the same archive.  A standby
# that streams from the primary (and restores with pg_standby) archives
# the segment it was receiving, as NAME.partial, once it is promoted; the
# archive already holds pg_receivewal's NAME.partial (or NAME.gz.partial,
# NAME.lz4.partial) for that segment.  For pg_receivewal --compress=none,
# gzip and lz4 in turn, the module compressing likewise, it proves that:
#  1. when both hold the same WAL, the promoted server's .partial counts as
#     archived (zeros at the end count as nothing);
#  2. when they differ (pg_receivewal stopped before the last rows, which
#     only the standby received), the archive's file is kept as it was,
#     the server's is not written beside it, and a LOG says so;
#  3. either way, without a single failure, the new primary goes on to
#     archive the segments of its new timeline (the archiver is never
#     stuck on the .partial), and the promoted server has every row.
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
my $module = $ENV{PG_STANDBY_MODULE};
my $tempdir = PostgreSQL::Test::Utils::tempdir;

foreach my $compression ('none', 'gzip', 'lz4')
{
	foreach my $case ('same', 'different')
	{
		my $name = "${compression}_$case";
		my $suffix = { none => '', gzip => '.gz', lz4 => '.lz4' }->{$compression};
		my $archive = "$tempdir/archive_$name";
		mkdir $archive or die "could not create \"$archive\": $!";
		my $archiving = qq(
archive_mode = on
archive_library = '$module'
pg_standby_archive.directory = '$archive'
pg_standby_archive.compression = '$compression'
);

		my $primary = PostgreSQL::Test::Cluster->new("primary_$name");
		$primary->init(allows_streaming => 1);
		$primary->append_conf('postgresql.conf', $archiving);
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

		$primary->safe_psql('postgres', 'CREATE TABLE t (id int)');
		$primary->backup('base');

		# A standby that streams, archiving into the same directory once
		# promoted; log_min_messages shows what the module decided.
		my $standby = PostgreSQL::Test::Cluster->new("standby_$name");
		$standby->init_from_backup($primary, 'base', has_streaming => 1);
		$standby->append_conf(
			'postgresql.conf', qq(
restore_command = '"$pg_standby" -s 0.2 "$archive" %f %p'
log_min_messages = debug1
));
		$standby->start;

		# Rows in a segment that is never completed on the old timeline.
		$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
		my $segment = $primary->safe_psql('postgres',
			'SELECT pg_walfile_name(pg_current_wal_insert_lsn())');
		$primary->safe_psql('postgres',
			'INSERT INTO t SELECT generate_series(1, 1000)');
		my $rows = 1000;
		my $lsn = $primary->safe_psql('postgres',
			'SELECT pg_current_wal_flush_lsn()');
		ok( $primary->poll_query_until('postgres',
				"SELECT flush_lsn >= '$lsn' FROM pg_stat_replication WHERE application_name = 'receiver'"
			),
			"$name: pg_receivewal has received every row")
		  or diag("pg_receivewal: $recv_err");
		if ($case eq 'different')
		{
			# pg_receivewal stops; the standby alone receives what follows
			$receiver->kill_kill;
			$primary->safe_psql('postgres',
				'INSERT INTO t SELECT generate_series(1001, 1500)');
			$rows = 1500;
		}
		$primary->wait_for_catchup($standby);
		$primary->stop('immediate');
		if ($case eq 'same')
		{
			ok( wait_until(
					sub {
						$receiver->pump_nb if $receiver->pumpable;
						!$receiver->pumpable;
					},
					'pg_receivewal to exit'),
				"$name: pg_receivewal exits")
			  or $receiver->kill_kill;
		}
		$receiver->finish;

		my $streamed = "$archive/$segment$suffix.partial";
		ok(-f $streamed, "$name: pg_receivewal left $segment$suffix.partial");
		my $streamed_contents = read_binary($streamed);

		my $offset = -s $standby->logfile;
		$standby->promote;
		is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
			$rows, "$name: every committed row is on the promoted standby");

		# The new primary's archiver: the old timeline's .partial, then
		# the new timeline, in that order.
		my $next = $standby->safe_psql('postgres',
			'INSERT INTO t VALUES (0); SELECT pg_walfile_name(pg_switch_wal())');
		like($next, qr/^00000002/, "$name: $next is of the new timeline");
		ok( $standby->poll_query_until('postgres',
				"SELECT last_archived_wal = '$next' FROM pg_stat_archiver"),
			"$name: the new primary archives $next, of its new timeline");
		is( $standby->safe_psql('postgres',
				'SELECT failed_count FROM pg_stat_archiver'),
			0,
			"$name: without a single failure");
		ok(read_binary($streamed) eq $streamed_contents,
			"$name: pg_receivewal's $segment$suffix.partial is left as it was");
		is( join(',', sort grep { /^\Q$segment\E/ } map { s{.*/}{}r } glob("$archive/*")),
			"$segment$suffix.partial",
			"$name: no other form of $segment beside it");

		my $same = qr/"\Q$segment\E\.partial" is already archived as "\Q$streamed\E" with the same contents/;
		my $differs = qr/LOG:  keeping archive file "\Q$streamed\E", which differs from "pg_wal\/\Q$segment\E\.partial"/;
		if ($case eq 'same')
		{
			# The two hold the same WAL; what follows the switch to the new
			# timeline in the server's file may differ (a recycled segment).
			ok( $standby->log_contains(qr/$same|$differs/, $offset),
				"$name: the server's $segment.partial counts as archived");
		}
		else
		{
			ok($standby->log_contains($differs, $offset),
				"$name: the server's $segment.partial differs: kept apart, and logged");
		}
		$standby->stop;
	}
}

done_testing();
