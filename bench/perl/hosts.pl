# Benchmark 9 (run by bench/09-hosts.sh, as root): lag across two hosts
# (network namespaces joined by a bridge, as in t/hosts/) per topology,
# beside PostgreSQL's own standby mode with "cp" over the same sshfs mount
# and beside streaming replication over the same link; and the time to
# catch up after a 20 s outage of the standby host's link.  Lag: commit a
# row and switch segments on the primary, time until the row is visible on
# the standby; one sample a second (a segment a second).  Prints Markdown.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../../t/hosts";
use PgStandbyHosts qw(hosts_available new_host link_down link_up start_sshd
  ssh_command mount_sshfs new_server test_dir wait_for pg_standby_command
  rows_of add_rows measure_lag median start_background stop_background
  bindir unprivileged_user);
use Test::More;
use Time::HiRes qw(time sleep);

my $samples = $ENV{BENCH_HOSTS_SAMPLES} // 15;
my $outage = $ENV{BENCH_HOSTS_OUTAGE} // 20;

my $why_not = hosts_available();
die "09: cannot run: $why_not\n" if defined $why_not;

my $dir = test_dir();
my $module = $ENV{PG_STANDBY_MODULE};
my $push = 'rsync --fsync --timeout=10 -e "' . ssh_command() . '"';
my $n = 0;
my @rows;

# One topology on two fresh hosts: returns (primary, standby).
sub topology
{
	my ($kind) = @_;
	$n++;
	my ($p, $s) = ("p$n", "s$n");
	new_host($p, 10 * $n + 1);
	new_host($s, 10 * $n + 2);
	my ($paddr, $saddr) = ('192.0.2.' . (10 * $n + 1), '192.0.2.' . (10 * $n + 2));
	my $archive = "$dir/archive$n";
	mkdir $archive;
	chown scalar(getpwnam('postgres')), -1, $archive;
	my $mnt = "$dir/mnt$n";

	my $primary = new_server($p, "primary$n");
	$primary->init;
	my $standby_conf = "recovery_prefetch = off\narchive_mode = off\n";
	my $restore = pg_standby_command($archive, '%f', '%p');
	if ($kind eq 'a')
	{
		start_sshd($s);
		$primary->append_conf("archive_mode = on\narchive_command = '$push %p postgres\@$saddr:$archive/%f'\n");
	}
	elsif ($kind eq 'b')
	{
		start_sshd($s);
		mount_sshfs($p, $s, $archive, $mnt);
		$primary->append_conf("archive_mode = on\narchive_library = '$module'\npg_standby_archive.directory = '$mnt'\n");
	}
	elsif ($kind eq 'c' || $kind eq 'c-cp')
	{
		start_sshd($p);
		mount_sshfs($s, $p, $archive, $mnt);
		$primary->append_conf("archive_mode = on\narchive_library = '$module'\npg_standby_archive.directory = '$archive'\n");
		$restore = $kind eq 'c' ? pg_standby_command($mnt, '%f', '%p')
		  : "cp $mnt/%f %p";
	}
	elsif ($kind eq 'd')
	{
		$primary->append_conf("synchronous_standby_names = 'pg_receivewal'\n");
	}
	$primary->start;
	# a slot keeps the WAL a receiver or a streaming standby has not had
	$primary->sql("SELECT pg_create_physical_replication_slot('s')")
	  if $kind eq 'd' || $kind eq 'stream';
	if ($kind eq 'd')
	{
		# commits wait for the receiver from now on
		start_background($s, unprivileged_user(), "$dir/receivewal$n.log",
			bindir() . '/pg_receivewal', '-h', $paddr, '-S', 's',
			'--synchronous', '-D', $archive);
	}
	add_rows($primary, 1);

	my $standby = new_server($s, "standby$n");
	$standby->init_from_backup($primary);
	if ($kind eq 'stream')
	{
		$standby_conf .= "primary_conninfo = 'host=$paddr port=5432'\nprimary_slot_name = 's'\n";
	}
	else
	{
		$standby_conf .= "restore_command = '$restore'\n";
	}
	$standby->append_conf($standby_conf);
	$standby->append_conf('', 'standby.signal');
	$standby->start;
	my $rows = add_rows($primary, 1);
	wait_for(sub { rows_of($standby) == $rows }, 120)
	  // die "09: topology $kind: the standby does not replay\n";
	return ($primary, $standby, $s);
}

# Commit a segment a second for the outage, then time the catch-up.
sub outage
{
	my ($primary, $standby, $host) = @_;
	link_down($host);
	my $end = time() + $outage;
	my $expected;
	while (time() < $end)
	{
		$expected = add_rows($primary, 1);
		sleep(1);
	}
	link_up($host);
	my $took = wait_for(sub { rows_of($standby) == $expected }, 180);
	if (!defined $took)
	{
		# say why, from the servers' own words
		for my $server ($standby, $primary)
		{
			my @lines = split /\n/, $server->log_contents;
			print STDERR "09: the last lines of ", $server->log, ":\n",
			  map { "$_\n" } @lines[ -(@lines < 20 ? @lines : 20) .. -1 ];
		}
	}
	return $took;
}

my @configs = (
	[ 'a', '(a) rsync over ssh push, pg_standby (inotify)', 1 ],
	[ 'b', '(b) pg_standby_archive over sshfs, pg_standby (inotify)', 1 ],
	[ 'c', '(c) standby reads sshfs, pg_standby -s 5 (adaptive poll)', 1 ],
	[ 'c-cp', '(c) same sshfs, standby mode with restore_command = cp', 0 ],
	[ 'd', '(d) pg_receivewal --synchronous, pg_standby (inotify)', 0 ],
	[ 'stream', 'streaming replication over the same link', 1 ]);

print "### 9. Across hosts: lag per topology, catch-up after a ${outage} s outage\n\n";
print "One segment a second, $samples samples each; two network namespaces joined by a bridge (veth); sshfs with reconnect and ServerAliveInterval=1, ServerAliveCountMax=3.\n\n";
print "| topology | lag median | lag min | lag max | catch-up after ${outage} s link outage |\n";
print "|---|---|---|---|---|\n";
for my $c (@configs)
{
	my ($kind, $label, $with_outage) = @$c;
	my ($primary, $standby, $host) = topology($kind);
	my @lags = measure_lag($primary, $standby, $samples, 1);
	my $catchup = $with_outage ? outage($primary, $standby, $host) : undef;
	printf "| %s | %.2f s | %.2f s | %.2f s | %s |\n", $label, median(@lags),
	  $lags[0], $lags[-1],
	  !$with_outage ? '—' : defined $catchup ? sprintf('%.1f s', $catchup) : 'more than 180 s';
	$standby->stop('immediate');
	$primary->stop('immediate');
}
print "\n";
