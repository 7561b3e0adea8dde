# Debian roots with one PostgreSQL major version each, for the scripts
# that build and test pg_standby against a version other than the host's
# (matrix.sh), build and install its packages (package.sh) or build it in
# a PostgreSQL source tree (intree.sh).  Sourced, not run; needs root
# (mmdebstrap, chroot, mounts) and the network the first time.
#
# The root of a version is built with mmdebstrap from the Debian mirror
# the host's apt uses (or PG_STANDBY_MATRIX_MIRROR) and kept as a tarball
# in /var/tmp/pg_standby-matrix (PG_STANDBY_MATRIX_CACHE).  A tarball
# older than 7 days (PG_STANDBY_MATRIX_MAX_AGE), or made with another list
# of packages than root_packages gives now, is rebuilt, so that the tests
# follow the point releases; if rebuilding fails, the old one is used.
# Each user unpacks fresh roots from the tarball and removes them at exit.
#
# The caller sources scripts/common.sh (host_mirror), sets "version" and
# defines say() and die(); elapsed() is here.

cache=${PG_STANDBY_MATRIX_CACHE:-/var/tmp/pg_standby-matrix}
max_age=${PG_STANDBY_MATRIX_MAX_AGE:-7}

elapsed() { echo "$(($(date +%s) - $1)) s"; }

# The Debian suite that has PostgreSQL $1 as its own version.
root_suite() {
	case $1 in
		15) echo bookworm ;;
		17) echo stable ;;
		18) echo testing ;;
		*) return 1 ;;
	esac
}

# What a root of version $1 holds: the same build and test dependencies as
# scripts/install-deps.sh, for this version, and procps (ps, kill) for
# looking into a failed run; what pg_buildext, dpkg-buildpackage and
# lintian need (package.sh); and for 17, what building PostgreSQL itself
# with meson or configure needs (intree.sh).
root_packages() {
	local list="postgresql-$1,postgresql-server-dev-$1,build-essential,libipc-run-perl"
	list+=",zlib1g-dev,liblz4-dev,libzstd-dev,gzip,lz4,zstd,pigz,procps"
	list+=",debhelper,postgresql-server-dev-all,fakeroot,lintian"
	if [ "$1" = 17 ]; then
		list+=",meson,ninja-build,bison,flex,pkgconf"
	fi
	echo "$list"
}

root_mirror() {
	echo "${PG_STANDBY_MATRIX_MIRROR:-$(host_mirror)}"
}

# Build the tarball $1 of the root of "version".  Only the Debian
# packages: the tree is copied in at each run.
build_root() {
	local tarball=$1 mirror suite packages start aptopts=()
	mirror=$(root_mirror)
	[ -n "$mirror" ] || { echo "no Debian mirror found in the host's apt sources" >&2; return 1; }
	suite=$(root_suite "$version")
	packages=$(root_packages "$version")
	if ! command -v mmdebstrap >/dev/null; then
		say "installing mmdebstrap"
		DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null ||
			return 1
	fi
	# testing's Release files may be older than their Valid-Until on a
	# snapshot mirror
	if [ "$suite" = testing ]; then
		aptopts=(--aptopt='Acquire::Check-Valid-Until "false"')
	fi
	start=$(date +%s)
	say "building a Debian $suite root with PostgreSQL $version from $mirror (log: $cache/mmdebstrap-$version.log)"
	mmdebstrap --variant=apt --format=tar "${aptopts[@]}" --include="$packages" \
		"$suite" "$tarball.tmp" "deb $mirror $suite main" \
		>"$cache/mmdebstrap-$version.log" 2>&1 ||
		{ tail -20 "$cache/mmdebstrap-$version.log" >&2; rm -f "$tarball.tmp"; return 1; }
	mv "$tarball.tmp" "$tarball"
	echo "$packages" >"$tarball.packages"
	say "root built in $(elapsed "$start")"
}

# Make sure the tarball of the root of "version" is there and current;
# print its name.  One tarball per version; another run for the same
# version waits here while it is built.
root_tarball() {
	local tarball=$cache/postgresql-$version.tar
	root_suite "$version" >/dev/null || die "no Debian root is known for PostgreSQL $version"
	mkdir -p "$cache"
	exec 9>"$cache/postgresql-$version.lock"
	flock 9
	if [ ! -s "$tarball" ]; then
		build_root "$tarball" >&2 || die "could not build the root"
	elif [ "$(cat "$tarball.packages" 2>/dev/null)" != "$(root_packages "$version")" ]; then
		say "the root holds other packages than are needed now: rebuilding it" >&2
		build_root "$tarball" >&2 || die "could not rebuild the root"
	elif [ -n "$(find "$tarball" -mmin +$((max_age * 24 * 60)))" ]; then
		say "the root is older than $max_age days: rebuilding it" >&2
		build_root "$tarball" >&2 || say "warning: rebuilding failed, using the old root" >&2
	fi
	flock -u 9
	exec 9>&-
	echo "$tarball"
}

# ---------------------------------------------------------------------------
# Fresh roots, unpacked from the tarball, removed by remove_root or at exit.
roots=()
root_mounts=(proc sys dev dev/pts dev/shm)

# Unpack a fresh root of "version" and mount what a build and servers
# need; sets "root" to its directory.
new_root() {
	local tarball
	tarball=$(root_tarball)
	root=$(mktemp -d "$cache/root-$version.XXXXXX")
	roots+=("$root")
	tar -xf "$tarball" -C "$root"
	# As ../shared/tools/fresh-machine does; rslave keeps unmounting here
	# from reaching the host's own mounts.
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --make-rslave "$root/sys"
	mount --bind /dev "$root/dev"
	mount --make-slave "$root/dev"
	mount --bind /dev/pts "$root/dev/pts"
	mount -t tmpfs shm "$root/dev/shm"
}

# Processes still running inside root $1: the tests' servers, if a test
# failed before stopping them.  Each run has its own root, so they are
# ours.
stop_processes() {
	local dir=$1 pids=() p link signal
	for p in /proc/[0-9]*; do
		link=$(readlink "$p/root" 2>/dev/null) || continue
		[ "$link" = "$dir" ] && pids+=("${p#/proc/}")
	done
	[ ${#pids[@]} -eq 0 ] && return 0
	# TERM lets a server shut down and release its shared memory; what is
	# still there after 5 seconds is killed.
	for signal in TERM KILL; do
		kill -"$signal" "${pids[@]}" 2>/dev/null || true
		for _ in $(seq 50); do
			alive "${pids[@]}" || return 0
			sleep 0.1
		done
	done
}

# Is any of these processes still running (not gone, not a zombie)?
alive() {
	local p state
	for p in "$@"; do
		state=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		[ "${state%% *}" != Z ] && return 0
	done
	return 1
}

# Stop what runs in root $1, unmount and remove it.
remove_root() {
	local dir=$1 i kept=()
	stop_processes "$dir"
	for ((i = ${#root_mounts[@]} - 1; i >= 0; i--)); do
		if mountpoint -q "$dir/${root_mounts[i]}"; then
			umount -l "$dir/${root_mounts[i]}" || true
		fi
	done
	# Never remove anything under a mount that is still there: that could
	# be the host's /dev.
	if grep -q " $dir/" /proc/mounts; then
		echo "$dir still has mounts: not removed" >&2
	else
		rm -rf --one-file-system "$dir"
	fi
	for i in "${roots[@]}"; do
		[ "$i" = "$dir" ] || kept+=("$i")
	done
	roots=("${kept[@]}")
}

remove_roots_at_exit() {
	local status=$?
	trap - EXIT INT TERM
	while [ ${#roots[@]} -gt 0 ]; do
		remove_root "${roots[0]}"
	done
	exit $status
}
trap remove_roots_at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run a shell command in root "root", in directory $1, as user $2 (root
# or postgres), with this version's programs first on PATH.  With
# root_offline=1, without network: in a network namespace of its own that
# has only the loopback interface, which disappears with the command.  In
# the background, so that a signal to the script is handled at once, not
# once the command is over.
in_root_as() {
	local dir=$1 user=$2 offline=()
	shift 2
	if [ "${root_offline:-}" = 1 ]; then
		offline=(unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh)
	fi
	"${offline[@]}" chroot --userspec="$user:$user" "$root" /usr/bin/env -i \
		HOME="$(chroot "$root" getent passwd "$user" | cut -d: -f6)" \
		LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
		PATH="/usr/lib/postgresql/$version/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		/bin/bash -c "cd $dir && $*" &
	wait $!
}

# Copy the tree $1 as it is (also what is not committed yet), without
# what a build left behind, into directory $2 of the root, owned by
# postgres.
copy_tree_into_root() {
	local top=$1 dest=$2
	mkdir -p "$root$dest"
	(cd "$top" && tar --exclude=./.git --exclude='*.o' --exclude='*.bc' \
		--exclude='*.so' --exclude=./pg_standby --exclude=./tmp_check \
		--exclude=./tmp_regress --exclude=./tmp_fuzz --exclude=./results \
		--exclude=./log --exclude=./regression.diffs --exclude=./regression.out \
		-cf - .) | tar -xf - -C "$root$dest"
	chroot "$root" chown -R postgres:postgres "$dest"
}
