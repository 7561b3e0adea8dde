# Topology (e): two standbys on two hosts fed from one primary, whose
# archive_command pushes each segment with rsync over ssh into both
# standby hosts' archives.  Proves that both replay; that with one standby
# host's link down for longer than the keep-alive timeout, and with its
# sshd killed, both catch up by themselves once it is back (the archiver
# retries the file until both have it); and that with the primary's host gone for good, one standby is
# failed over (timeline 2, every row) while the other keeps waiting without
# promoting, until it is re-pointed at the new primary (which archives into
# its archive from then on) and restarted: it then follows timeline 2 and
# replays the new primary's rows.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgStandbyHosts qw(hosts_available new_host start_sshd ssh_command
  new_server test_dir wait_for pg_standby_server rows_of add_rows
  check_network_faults fail_over_for_good);
use Test::More;
use Time::HiRes qw(sleep);

my $why_not = hosts_available();
plan skip_all => $why_not if defined $why_not;

my $dir = test_dir();
new_host('primary', 1);
new_host('standby1', 2);
new_host('standby2', 3);
start_sshd('standby1');
start_sshd('standby2');
my $ssh = ssh_command();
my $push = "rsync --fsync --timeout=10 -e \"$ssh\"";

my %archive;
for my $n (1, 2)
{
	$archive{$n} = "$dir/standby$n-archive";
	mkdir $archive{$n};
	chown scalar(getpwnam('postgres')), -1, $archive{$n};
}

my $primary = new_server('primary', 'primary');
$primary->init;
$primary->append_conf(<<"EOF");
archive_mode = on
archive_command = '$push %p postgres\@192.0.2.2:$archive{1}/%f && $push %p postgres\@192.0.2.3:$archive{2}/%f'
EOF
$primary->start;
add_rows($primary, 10);

my %standby;
for my $n (1, 2)
{
	$standby{$n} = pg_standby_server("standby$n", $primary, '',
		'-t', "$dir/standby$n.trigger", $archive{$n}, '%f', '%p');
}
# once promoted, standby 1 feeds standby 2
$standby{1}->append_conf(<<"EOF");
archive_command = '$push %p postgres\@192.0.2.3:$archive{2}/%f'
EOF
$standby{2}->append_conf("archive_mode = off\n");
$_->start for values %standby;

my $rows = add_rows($primary, 10);
for my $n (1, 2)
{
	ok(defined wait_for(sub { rows_of($standby{$n}) == $rows }, 60),
		"standby $n replays");
}

check_network_faults(
	primary => $primary,
	standby => $standby{2},
	topology => '(e)',
	link_host => 'standby2',
	sshd_host => 'standby2',
	archives => [ $archive{1}, $archive{2} ]);
$rows = rows_of($primary);
is(rows_of($standby{1}), $rows, 'standby 1 has every row too');

fail_over_for_good(
	primary => $primary,
	standby => $standby{1},
	other_standbys => [ $standby{2} ],
	trigger => "$dir/standby1.trigger");
$rows = rows_of($standby{1});

sleep(2);
ok($standby{2}->in_recovery, 'the other standby keeps waiting, not promoted');

# re-point: the new primary archives into standby 2's archive (its
# archive_command), and standby 2 is restarted to look for timeline 2
$standby{1}->sql('SELECT pg_switch_wal()');
$rows = add_rows($standby{1}, 5);
ok( defined wait_for(sub { -f "$archive{2}/00000002.history" }, 30),
	'the new primary archives its timeline history for standby 2');
$standby{2}->stop('fast');
$standby{2}->start;
ok(defined wait_for(sub { rows_of($standby{2}) == $rows }, 60),
	're-pointed standby follows timeline 2 with the new primary\'s rows');
ok($standby{2}->in_recovery, 're-pointed standby is still a standby');

done_testing();
