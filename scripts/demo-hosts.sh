#!/bin/bash
# The seed's warm standby on two hosts, in about a minute: two network
# namespaces joined by a veth pair (192.0.2.1, the primary's host, and
# 192.0.2.2, the standby's host; no default route, nothing leaves the
# machine), an sshd on the standby's host, a primary whose archive_command
# pushes each segment there with rsync over ssh, a standby whose
# restore_command is pg_standby, rounds of writes replayed, then failover
# with a trigger file (README.pg_standby section 3.4, recipe (a)).
#
# Usage: sudo bash scripts/demo-hosts.sh
#
# Needs root (namespaces); the servers run as user postgres.  Everything is
# removed at the end, also on failure or interrupt.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

if [ "$(id -u)" != 0 ]; then
	echo "demo-hosts: needs root, to make network namespaces" >&2
	exit 1
fi
bash "$top/scripts/install-deps.sh"
build=$(unprivileged_copy "$top" demo-hosts)
run_unprivileged "$build" make -s USE_PGXS=1
bin=$(pg_config --bindir)

id=pgsb-demo-$$
work=$(mktemp -d /tmp/$id-XXXX)
chmod 755 "$work"
chown postgres "$work"				# the servers' directories, sockets and logs
sshd_pid=

cleanup() {
	set +e
	for s in standby primary; do
		[ -f "$work/$s/postmaster.pid" ] &&
			runuser -u postgres -- "$bin/pg_ctl" -D "$work/$s" -m immediate stop >/dev/null 2>&1
	done
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
	ip netns del "$id-primary" 2>/dev/null
	ip netns del "$id-standby" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

step() { printf '\n== %s\n' "$*"; }
on() { local host=$1; shift; nsenter --net="/run/netns/$id-$host" "$@"; }
as_pg() { local host=$1; shift; on "$host" runuser -u postgres -- "$@"; }
psql_on() { as_pg "$1" "$bin/psql" -X -q -A -t -h "$work" -p "$2" -d postgres -c "$3"; }
wait_until() {
	for _ in $(seq 300); do eval "$1" && return 0; sleep 0.1; done
	echo "demo-hosts: timed out: $1" >&2
	return 1
}

step "two hosts: $id-primary (192.0.2.1) and $id-standby (192.0.2.2)"
ip netns add "$id-primary"
ip netns add "$id-standby"
ip link add "${id:0:10}a" netns "$id-primary" type veth peer name "${id:0:10}b" netns "$id-standby"
on primary ip link set lo up
on standby ip link set lo up
on primary ip addr add 192.0.2.1/24 dev "${id:0:10}a"
on standby ip addr add 192.0.2.2/24 dev "${id:0:10}b"
on primary ip link set "${id:0:10}a" up
on standby ip link set "${id:0:10}b" up

step "sshd on the standby's host; the primary's postgres user logs in with a key"
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
chown postgres "$work/client_key"
cat >"$work/sshd_config" <<EOF
ListenAddress 192.0.2.2
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PidFile none
UsePAM yes
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
EOF
mkdir -p /run/sshd
nsenter --net="/run/netns/$id-standby" /usr/sbin/sshd -D -e -f "$work/sshd_config" \
	</dev/null >/dev/null 2>"$work/sshd.log" &
sshd_pid=$!
ssh="ssh -i $work/client_key -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR -o BatchMode=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o ConnectTimeout=10"
wait_until "as_pg primary $ssh postgres@192.0.2.2 true"

step "the primary, archiving with rsync over ssh into the standby host's archive"
install -d -o postgres "$work/archive"
as_pg primary "$bin/initdb" -A trust -N -D "$work/primary" >/dev/null
cat >>"$work/primary/postgresql.conf" <<EOF
listen_addresses = '192.0.2.1'
unix_socket_directories = '$work'
port = 5441
wal_level = replica
archive_mode = on
archive_command = 'rsync --fsync --timeout=30 -e "$ssh" %p postgres@192.0.2.2:$work/archive/%f'
EOF
echo "host replication all 192.0.2.0/24 trust" >>"$work/primary/pg_hba.conf"
as_pg primary "$bin/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w start >/dev/null
grep archive_command "$work/primary/postgresql.conf"

step "base backup, taken from the standby's host over the network"
as_pg standby "$bin/pg_basebackup" -h 192.0.2.1 -p 5441 -D "$work/standby" -X stream -c fast
cat >>"$work/standby/postgresql.conf" <<EOF
listen_addresses = '192.0.2.2'
port = 5442
archive_mode = off
restore_command = '$build/pg_standby -t $work/standby.trigger $work/archive %f %p %r'
recovery_prefetch = off
EOF
touch "$work/standby/standby.signal"
chown postgres "$work/standby/standby.signal"
as_pg standby "$bin/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w start >/dev/null
grep restore_command "$work/standby/postgresql.conf"

step "three rounds of writes on the primary, each replayed on the standby"
psql_on primary 5441 "CREATE TABLE demo (id int, at timestamptz DEFAULT now())"
for round in 1 2 3; do
	psql_on primary 5441 "INSERT INTO demo SELECT g FROM generate_series(1, 1000) g"
	psql_on primary 5441 "SELECT pg_switch_wal()" >/dev/null
	want=$((round * 1000))
	wait_until "[ \"\$(psql_on standby 5442 'SELECT count(*) FROM demo' 2>/dev/null)\" = $want ]"
	echo "round $round: the standby has $want rows"
done
ls "$work/archive"

step "failover: the trigger file"
touch "$work/standby.trigger"
wait_until "[ \"\$(psql_on standby 5442 'SELECT pg_is_in_recovery()' 2>/dev/null)\" = f ]"
psql_on standby 5442 "SELECT 'promoted, rows: ' || count(*) FROM demo"
psql_on standby 5442 "SELECT 'timeline: ' || ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"
grep "pg_standby" "$work/standby.log" | tail -3
step "done; cleaning up"
