# Several hosts on one machine, for pg_standby's tests across hosts.
#
# Each host is a network namespace ("pgsb-PID-NAME") with one interface,
# 192.0.2.N/24 (TEST-NET-1, a documentation range), plugged into a bridge
# in a namespace of its own (the switch).  There is no default route:
# nothing can leave the machine.  Unplugging a host's cable is setting its
# port on the switch down.  The file system is shared, as it is on one
# machine, but the tests only ever cross hosts over the network: with
# rsync over ssh, sshfs, or PostgreSQL's replication protocol.
#
# Commands run in a host with nsenter --net, which keeps the mount
# namespace ("ip netns exec" makes one of its own), so that an sshfs
# mount made in one host is seen by the processes of that host.  Servers
# and the archive's tools run as the unprivileged user, as in real use.
#
# Needs root.  Everything it makes (namespaces, processes, mounts, servers,
# files) is removed at exit by its own record, even when a test dies;
# the files are kept when a test failed, to read the logs.

package PgStandbyHosts;

use strict;
use warnings;
use Carp;
use Exporter 'import';
use File::Path qw(make_path rmtree);
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(time usleep sleep);

our @EXPORT_OK = qw(hosts_available new_host link_down link_up start_sshd
  stop_sshd ssh_command mount_sshfs unmount_sshfs start_background
  stop_background run_in wait_for new_server unprivileged_user bindir
  test_dir pg_standby_command pg_standby_server archive_problems rows_of
  add_rows measure_lag median check_network_faults fail_over_for_good
  descendants);

my $user = $ENV{PG_STANDBY_USER} // 'postgres';
my $switch = "pgsb-$$-switch";
my $bindir = $ENV{PG_BINDIR} // do { my $d = `pg_config --bindir`; chomp $d; $d };
my $dir;
my %hosts;					# name => { ns, octet, port }
my @namespaces;
my @background;				# [pid, what]
my @mounts;
my @servers;
my $created_by = $$;

# However a test ends, END below cleans up: on a signal, and on a hang.
$SIG{INT} = $SIG{TERM} = sub { diag("killed by SIG$_[0]"); exit 1; };
$SIG{ALRM} = sub { diag('timed out'); exit 1; };
alarm($ENV{PG_STANDBY_HOSTS_TIMEOUT} // 600);

sub unprivileged_user { return $user; }
sub bindir { return $bindir; }

# Why the tests cannot run here, or undef if they can.
sub hosts_available
{
	return 'not running as root (the host tests make network namespaces)'
	  if $> != 0;
	for my $tool (qw(ip nsenter runuser sshd ssh sshfs fusermount3 rsync strace))
	{
		return "\"$tool\" not found (scripts/install-deps.sh installs it)"
		  unless grep { -x "$_/$tool" } split(/:/, "$ENV{PATH}:/usr/sbin:/sbin");
	}
	return "/dev/fuse is missing" unless -c '/dev/fuse';
	return "user \"$user\" does not exist" unless defined getpwnam($user);
	my $probe = "pgsb-$$-probe";
	if (system("ip netns add $probe >/dev/null 2>&1") != 0)
	{
		return 'network namespaces cannot be made here';
	}
	my $bridge_ok =
	  system("ip -n $probe link add br0 type bridge >/dev/null 2>&1") == 0;
	system("ip netns del $probe");
	return 'no bridge device in a network namespace' unless $bridge_ok;
	return undef;
}

# The directory of this run's files, readable by the unprivileged user.
sub test_dir
{
	return $dir if defined $dir;
	$dir = tempdir("pgsb-hosts-$$-XXXX", DIR => '/tmp');
	chmod 0755, $dir;
	return $dir;
}

sub run_or_die
{
	my @cmd = @_;
	system(@cmd) == 0 or croak "command failed ($?): @cmd";
}

sub make_switch
{
	return if grep { $_ eq $switch } @namespaces;
	run_or_die('ip', 'netns', 'add', $switch);
	push @namespaces, $switch;
	run_or_die('ip', '-n', $switch, 'link', 'add', 'br0', 'type', 'bridge');
	run_or_die('ip', '-n', $switch, 'link', 'set', 'br0', 'up');
}

# A host named $name with address 192.0.2.$octet, plugged into the switch.
sub new_host
{
	my ($name, $octet) = @_;
	my $ns = "pgsb-$$-$name";
	my $port = "p$$-$octet";	# switch side, at most 15 characters

	make_switch();
	run_or_die('ip', 'netns', 'add', $ns);
	push @namespaces, $ns;
	run_or_die('ip', '-n', $ns, 'link', 'set', 'lo', 'up');
	run_or_die('ip', '-n', $ns, 'link', 'add', 'eth0', 'type', 'veth',
		'peer', 'name', $port, 'netns', $switch);
	run_or_die('ip', '-n', $switch, 'link', 'set', $port, 'master', 'br0');
	run_or_die('ip', '-n', $switch, 'link', 'set', $port, 'up');
	run_or_die('ip', '-n', $ns, 'addr', 'add', "192.0.2.$octet/24", 'dev',
		'eth0');
	run_or_die('ip', '-n', $ns, 'link', 'set', 'eth0', 'up');
	$hosts{$name} = { ns => $ns, octet => $octet, port => $port,
		addr => "192.0.2.$octet" };
	return $hosts{$name};
}

# Unplug a host's cable, and plug it back.
sub link_down
{
	my ($name) = @_;
	run_or_die('ip', '-n', $switch, 'link', 'set', $hosts{$name}{port}, 'down');
	note("link of host $name down");
}

sub link_up
{
	my ($name) = @_;
	run_or_die('ip', '-n', $switch, 'link', 'set', $hosts{$name}{port}, 'up');
	note("link of host $name up");
}

# The command line that runs @cmd in host $name, as $as (a user name, or
# undef for root).
sub in_host
{
	my ($name, $as, @cmd) = @_;
	my @prefix = ('nsenter', "--net=/run/netns/$hosts{$name}{ns}");
	push @prefix, 'runuser', '-u', $as, '--' if defined $as;
	return (@prefix, @cmd);
}

# Run a command in a host and return its output (stdout and stderr), or die.
sub run_in
{
	my ($name, $as, @cmd) = @_;
	my @line = in_host($name, $as, @cmd);
	my $out;
	my $pid = open(my $fh, '-|') // croak "fork: $!";
	if ($pid == 0)
	{
		open(STDERR, '>&', \*STDOUT);
		exec(@line) or POSIX::_exit(127);
	}
	local $/;
	$out = <$fh> // '';
	close($fh);
	croak "command failed ($?) in host $name: @cmd\n$out" if $? != 0;
	return $out;
}

# Start a long-running command in a host, output to $log; returns its pid.
sub start_background
{
	my ($name, $as, $log, @cmd) = @_;
	my $pid = fork() // croak "fork: $!";
	if ($pid == 0)
	{
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $log) or POSIX::_exit(127);
		open(STDERR, '>&', \*STDOUT);
		setpgrp(0, 0);
		exec(in_host($name, $as, @cmd)) or POSIX::_exit(127);
	}
	push @background, [ $pid, "@cmd" ];
	return $pid;
}

# Stop a background command (its process group) and reap it.
sub stop_background
{
	my ($pid, $signal) = @_;
	kill($signal // 'TERM', -$pid);
	for (1 .. 100)
	{
		last if waitpid($pid, WNOHANG) != 0;
		usleep(50_000);
	}
	if (kill(0, $pid))
	{
		kill('KILL', -$pid);
		waitpid($pid, 0);
	}
	@background = grep { $_->[0] != $pid } @background;
}

# Poll until $check returns true or $seconds pass; returns how long it took,
# or undef on timeout.
sub wait_for
{
	my ($check, $seconds) = @_;
	my $start = time();
	while (time() - $start < $seconds)
	{
		return time() - $start if $check->();
		usleep(50_000);
	}
	return undef;
}

# One key pair for the whole run: the unprivileged user's client key, and
# the hosts' host key.
sub keys_dir
{
	my $keys = test_dir() . "/keys";
	return $keys if -d $keys;
	mkdir $keys;
	run_or_die('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
		"$keys/host_key");
	run_or_die('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
		"$keys/client_key");
	run_or_die('cp', "$keys/client_key.pub", "$keys/authorized_keys");
	chmod 0644, "$keys/authorized_keys";
	my $uid = getpwnam($user);
	chown $uid, -1, "$keys/client_key", "$keys/client_key.pub";

	# the ssh client options every test uses: the keep-alive declares a
	# link dead after 3 unanswered probes 1 s apart
	open(my $fh, '>', "$keys/ssh_config") or die;
	print $fh <<"EOF";
Host *
	IdentityFile $keys/client_key
	IdentitiesOnly yes
	UserKnownHostsFile /dev/null
	StrictHostKeyChecking no
	LogLevel ERROR
	BatchMode yes
	ConnectTimeout 3
	ServerAliveInterval 1
	ServerAliveCountMax 3
EOF
	close($fh);
	chmod 0644, "$keys/ssh_config";
	return $keys;
}

# "ssh" with this run's options, as a string for archive_command.
sub ssh_command
{
	return 'ssh -F ' . keys_dir() . '/ssh_config';
}

# Start sshd in host $name, on its address only; returns its pid.
sub start_sshd
{
	my ($name) = @_;
	my $keys = keys_dir();
	my $conf = test_dir() . "/sshd-$name.conf";
	my $addr = $hosts{$name}{addr};

	make_path('/run/sshd');
	open(my $fh, '>', $conf) or die;
	print $fh <<"EOF";
ListenAddress $addr
Port 22
HostKey $keys/host_key
AuthorizedKeysFile $keys/authorized_keys
PidFile none
UsePAM yes
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
ClientAliveInterval 1
ClientAliveCountMax 3
EOF
	close($fh);
	my $pid = start_background($name, undef, test_dir() . "/sshd-$name.log",
		'/usr/sbin/sshd', '-D', '-e', '-f', $conf);
	$hosts{$name}{sshd} = $pid;

	# ready when it accepts connections
	wait_for(
		sub {
			system(in_host($name, undef, 'bash', '-c',
					"exec 2>/dev/null 3<>/dev/tcp/$addr/22")) == 0;
		},
		10) // croak "sshd in host $name did not start";
	return $pid;
}

# Kill sshd in host $name: the listener and every connection it serves
# (each in a session of its own), as when the host's sshd dies, so that an
# sshfs mount must reconnect.
sub stop_sshd
{
	my ($name) = @_;
	my $sshd = delete $hosts{$name}{sshd};
	kill('KILL', descendants($sshd));
	stop_background($sshd, 'KILL');
}

# The processes below $pid, from /proc.
sub descendants
{
	my ($pid) = @_;
	my %children;
	for my $stat (glob('/proc/[0-9]*/stat'))
	{
		open(my $fh, '<', $stat) or next;
		my $line = <$fh> // next;
		close($fh);
		push @{ $children{$2} }, $1 if $line =~ /^(\d+) \(.*\) \S (\d+)/;
	}
	my @found;
	my @todo = ($pid);
	while (defined(my $p = shift @todo))
	{
		push @found, @{ $children{$p} // [] };
		push @todo, @{ $children{$p} // [] };
	}
	return @found;
}

# Mount $remote_dir of host $server on $mnt in host $client with sshfs,
# logged in as the unprivileged user (or as "login=USER" first in
# @options says), with the recipe's options.
sub mount_sshfs
{
	my ($client, $server, $remote_dir, $mnt, @options) = @_;
	my $keys = keys_dir();
	my $login = $user;
	$login = $1 if @options && $options[0] =~ /^login=(.*)$/ && shift @options;
	make_path($mnt);
	my $pid = start_background(
		$client, undef,
		test_dir() . "/sshfs-$client-$login.log",
		'sshfs', '-f',
		"$login\@$hosts{$server}{addr}:$remote_dir", $mnt,
		'-F', "$keys/ssh_config",
		'-o', 'allow_other,reconnect,ServerAliveInterval=1,ServerAliveCountMax=3',
		@options);
	push @mounts, [ $mnt, $pid ];
	wait_for(sub { mounted($mnt) }, 10)
	  // croak "sshfs mount of $server:$remote_dir on $mnt failed";
	return $pid;
}

sub mounted
{
	my ($mnt) = @_;
	open(my $fh, '<', '/proc/self/mounts') or return 0;
	my $found = grep { (split ' ')[1] eq $mnt } <$fh>;
	close($fh);
	return $found;
}

sub unmount_sshfs
{
	my ($mnt) = @_;
	for my $m (grep { $_->[0] eq $mnt } @mounts)
	{
		system('fusermount3', '-u', '-z', $mnt);
		stop_background($m->[1]) if grep { $_->[0] == $m->[1] } @background;
	}
	@mounts = grep { $_->[0] ne $mnt } @mounts;
}

# A PostgreSQL server in host $host.
sub new_server
{
	my ($host, $name) = @_;
	my $self = PgStandbyHosts::Server->new($host, $name, test_dir());
	push @servers, $self;
	return $self;
}

# restore_command for a standby of these tests: the pg_standby just built.
sub pg_standby_command
{
	my (@args) = @_;
	return join(' ', $ENV{PG_STANDBY_PROGRAM}, @args);
}

# A standby in host $host (named after it), from $primary's base backup, in
# standby mode, whose restore_command is pg_standby with @args; $conf is
# added to its configuration.  Not started.
sub pg_standby_server
{
	my ($host, $primary, $conf, @args) = @_;
	my $standby = new_server($host, $host);
	my $restore = pg_standby_command(@args);

	$standby->init_from_backup($primary);
	$standby->append_conf(<<"EOF");
restore_command = '$restore'
recovery_prefetch = off
$conf
EOF
	$standby->append_conf('', 'standby.signal');
	return $standby;
}

# What is wrong with an archive directory: temporary files (rsync's
# ".NAME.XXXXXX", pg_standby_archive's "NAME.PID.TIME.tmp", sshfs's
# nothing) and segments under their final name that are not whole.
sub archive_problems
{
	my ($archive, $seg_size) = @_;
	my @problems;
	opendir(my $dh, $archive) or return ("cannot read $archive: $!");
	for my $name (sort readdir($dh))
	{
		next if $name eq '.' || $name eq '..';
		if ($name =~ /^\./ || $name =~ /\.tmp$/)
		{
			push @problems, "temporary file $name";
		}
		elsif ($name =~ /^[0-9A-F]{24}$/ && -s "$archive/$name" != $seg_size)
		{
			push @problems, "$name has " . (-s _) . " bytes";
		}
	}
	closedir($dh);
	return @problems;
}

# How many rows the test table has on $server, or -1 if it cannot say.
sub rows_of
{
	my ($server) = @_;
	my $n = $server->try_sql('SELECT count(*) FROM t');
	return defined $n && $n =~ /^\d+$/ ? $n : -1;
}

# Commit $n rows on $primary, then switch to a new segment so that the
# commit is archived.  Returns the table's rows.
sub add_rows
{
	my ($primary, $n) = @_;
	$primary->sql('CREATE TABLE IF NOT EXISTS t (id serial, at timestamptz DEFAULT now())');
	$primary->sql("INSERT INTO t SELECT FROM generate_series(1, $n)");
	$primary->sql('SELECT pg_switch_wal()');
	return $primary->sql('SELECT count(*) FROM t');
}

# Lag of a standby: commit a row, switch segments, time until the standby
# shows it.  $count samples, $gap seconds apart (a segment every $gap s);
# returns the sorted lags.
sub measure_lag
{
	my ($primary, $standby, $count, $gap) = @_;
	my @lags;
	for (1 .. $count)
	{
		my $start = time();
		my $rows = add_rows($primary, 1);
		my $took = wait_for(sub { rows_of($standby) >= $rows }, 60);
		push @lags, $took // 60;
		my $rest = $gap - (time() - $start);
		usleep($rest * 1e6) if $rest > 0;
	}
	return sort { $a <=> $b } @lags;
}

# A network fault while the primary commits: $break, rows committed, a
# pause longer than the keep-alive timeout (3 s; $pause seconds, default
# 5), $repair.  Checks that the standby never promoted, catches up by
# itself with every row, and that the archives @archives hold nothing
# temporary or incomplete.
sub check_fault
{
	my (%a) = @_;
	my ($primary, $standby, $what) = @a{qw(primary standby what)};

	$a{break}->();
	add_rows($primary, 5);
	my $expected = add_rows($primary, 5);
	sleep($a{pause} // 5);
	ok($standby->in_recovery, "$what: standby still in recovery");
	$a{repair}->();
	my $took = wait_for(sub { rows_of($standby) == $expected }, 120);
	ok(defined $took, "$what: replay resumes by itself, nothing lost");
	diag(sprintf('topology %s, %s: caught up %.1f s after the repair',
			$a{topology}, $what, $took // -1));
	for my $archive (@{ $a{archives} })
	{
		is(join(', ', archive_problems($archive, 1024 * 1024)), '',
			"$what: no temporary or incomplete file in $archive");
	}
	return $took;
}

# The two faults of a topology that crosses over ssh, each checked by
# check_fault(): the link of host $link_host down ($link_pause seconds),
# and sshd killed in host $sshd_host.
sub check_network_faults
{
	my (%a) = @_;
	my ($link, $sshd, $link_pause) =
	  delete @a{qw(link_host sshd_host link_pause)};
	check_fault(
		%a,
		what => "$link host link down",
		pause => $link_pause,
		break => sub { link_down($link) },
		repair => sub { link_up($link) });
	check_fault(
		%a,
		what => "$sshd host sshd killed",
		break => sub { stop_sshd($sshd) },
		repair => sub { start_sshd($sshd) });
}

# The primary's host goes away for good, with every row archived: the
# standby waits, never promotes by itself, and a failover through the
# trigger file brings it up on timeline 2 with every row.
sub fail_over_for_good
{
	my (%a) = @_;
	my ($primary, $standby) = @a{qw(primary standby)};

	my $rows = add_rows($primary, 5);
	for my $s ($standby, @{ $a{other_standbys} // [] })
	{
		ok(defined wait_for(sub { rows_of($s) == $rows }, 60),
			'last rows replayed before the primary goes away');
	}
	link_down($primary->host);
	$primary->stop('immediate');
	sleep(3);
	ok($standby->in_recovery, 'primary gone: no promotion without a trigger');

	open(my $fh, '>', $a{trigger}) or die "$a{trigger}: $!";
	close($fh);

	# If the archive went away with the primary's host, a smart failover
	# waits for it (what it holds may not be lost); "fast" ends the wait.
	if ($a{archive_lost})
	{
		sleep(5);
		ok($standby->in_recovery,
			'archive unreachable: a smart failover waits for it');
		open($fh, '>', $a{trigger}) or die "$a{trigger}: $!";
		print $fh "fast";
		close($fh);
	}
	ok( defined wait_for(
			sub {
				($standby->try_sql('SELECT pg_is_in_recovery()') // '') eq 'f';
			},
			60),
		'trigger file: standby promoted');
	is(rows_of($standby), $rows, 'failover: every archived row is there');
	is($standby->timeline, 2, 'failover: on timeline 2');
	$standby->sql('INSERT INTO t DEFAULT VALUES');
	is(rows_of($standby), $rows + 1, 'failover: the new primary takes writes');
}

sub median
{
	my @sorted = sort { $a <=> $b } @_;
	return $sorted[ $#sorted / 2 ];
}

END
{
	return if $$ != $created_by;
	my $status = $?;
	for my $server (@servers)
	{
		$server->stop('immediate', 1);
	}
	for my $m (@mounts)
	{
		system('fusermount3', '-u', '-z', $m->[0]);
	}
	for my $b (@background)
	{
		kill('KILL', -$b->[0]);
		waitpid($b->[0], 0);
	}
	for my $ns (reverse @namespaces)
	{
		system('ip', 'netns', 'del', $ns);
	}
	if (defined $dir)
	{
		my $failed = $status != 0 || !Test::More->builder->is_passing;
		if ($failed)
		{
			diag("files and logs kept in $dir");
		}
		else
		{
			rmtree($dir);
		}
	}
	$? = $status;
}

package PgStandbyHosts::Server;

use strict;
use warnings;
use Carp;
use File::Path qw(make_path);
use Test::More;

sub new
{
	my ($class, $host, $name, $base) = @_;
	my $self = bless {
		host => $host,
		name => $name,
		pgdata => "$base/$name/data",
		sockdir => "$base/$name",
		log => "$base/$name/server.log",
	}, $class;
	make_path($self->{sockdir});
	chown scalar(getpwnam($user)), -1, $self->{sockdir};
	return $self;
}

sub pgdata { return $_[0]{pgdata}; }
sub log { return $_[0]{log}; }
sub host { return $_[0]{host}; }
sub addr { return $hosts{ $_[0]{host} }{addr}; }

sub bin
{
	my ($self, $program, @args) = @_;
	return PgStandbyHosts::run_in($self->{host}, $user, "$bindir/$program",
		@args);
}

# initdb, with settings for these tests: listening on the host's address
# only, replication and the unprivileged user trusted within 192.0.2.0/24.
sub init
{
	my ($self, %conf) = @_;
	$self->bin('initdb', '-A', 'trust', '-N', '-D', $self->{pgdata},
		'--wal-segsize=1');
	$self->append_conf(<<"EOF");
listen_addresses = '@{[ $self->addr ]}'
unix_socket_directories = '$self->{sockdir}'
port = 5432
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
fsync = off
shared_buffers = 16MB
log_line_prefix = '%m [%p] '
EOF
	open(my $fh, '>>', "$self->{pgdata}/pg_hba.conf") or die;
	print $fh "host all all 192.0.2.0/24 trust\n";
	print $fh "host replication all 192.0.2.0/24 trust\n";
	close($fh);
}

sub append_conf
{
	my ($self, $text, $file) = @_;
	$file //= 'postgresql.conf';
	open(my $fh, '>>', "$self->{pgdata}/$file") or die "$file: $!";
	print $fh $text;
	close($fh);
}

# A base backup of $primary, taken over the network from this server's host.
sub init_from_backup
{
	my ($self, $primary) = @_;
	$self->bin('pg_basebackup', '-h', $primary->addr, '-p', '5432',
		'-D', $self->{pgdata}, '-X', 'stream', '-c', 'fast');
	# the backup brought the primary's addresses: make them ours
	$self->append_conf(<<"EOF");
listen_addresses = '@{[ $self->addr ]}'
unix_socket_directories = '$self->{sockdir}'
EOF
}

sub start
{
	my ($self) = @_;
	$self->bin('pg_ctl', '-D', $self->{pgdata}, '-l', $self->{log}, '-w',
		'-t', '60', 'start');
	$self->{running} = 1;
}

sub stop
{
	my ($self, $mode, $quiet) = @_;
	return unless $self->{running};
	my @cmd = PgStandbyHosts::in_host($self->{host}, $user,
		"$bindir/pg_ctl", '-D', $self->{pgdata}, '-m', $mode // 'fast',
		'-w', 'stop');
	system(join(' ', map { "'$_'" } @cmd) . ' >/dev/null 2>&1');
	$self->{running} = 0;
}

sub kill9
{
	my ($self) = @_;
	open(my $fh, '<', "$self->{pgdata}/postmaster.pid") or return;
	my $pid = <$fh>;
	close($fh);
	chomp $pid;
	kill('KILL', $pid);
	$self->{running} = 0;
}

# Run SQL through the unix socket (which crosses network namespaces, so
# that a host without network can still be asked); returns the output.
sub sql
{
	my ($self, $sql) = @_;
	my $out = PgStandbyHosts::run_in($self->{host}, $user, "$bindir/psql",
		'-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h',
		$self->{sockdir}, '-p', '5432', '-d', 'postgres', '-c', $sql);
	chomp $out;
	return $out;
}

# Like sql(), but undef instead of dying (the server may be starting).
sub try_sql
{
	my ($self, $sql) = @_;
	my $out = eval { $self->sql($sql) };
	return $out;
}

sub in_recovery
{
	my ($self) = @_;
	return $self->sql('SELECT pg_is_in_recovery()') eq 't';
}

# The timeline WAL is written on (a promoted server's new one at once,
# before any checkpoint).
sub timeline
{
	my ($self) = @_;
	return hex(substr($self->sql('SELECT pg_walfile_name(pg_current_wal_lsn())'), 0, 8));
}

sub log_contents
{
	my ($self) = @_;
	open(my $fh, '<', $self->{log}) or return '';
	local $/;
	my $text = <$fh>;
	close($fh);
	return $text;
}

1;
