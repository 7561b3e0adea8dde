# Helpers shared by the scripts that build and run pg_standby as an
# unprivileged user.  Sourced, not run.

# The user that servers run as when we are started as root.
PG_STANDBY_USER=${PG_STANDBY_USER:-postgres}

# Print a directory the unprivileged user can build in: the tree itself
# when we are not root, else a fresh copy of it owned by that user, under
# PG_STANDBY_BUILD_ROOT (default /tmp) so that several checkouts can be
# tested at once.
unprivileged_copy() {
	local top=$1 purpose=$2 dir
	if [ "$(id -u)" != 0 ]; then
		echo "$top"
		return
	fi
	dir=${PG_STANDBY_BUILD_ROOT:-/tmp}/pg_standby-$purpose
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$top" && tar --exclude=.git --exclude='*.o' --exclude=tmp_check \
		--exclude=tmp_regress -cf - .) | tar -xf - -C "$dir"
	chown -R "$PG_STANDBY_USER" "$dir"
	echo "$dir"
}

# Run a command in a directory as the unprivileged user (or as ourselves
# when we are not root).
run_unprivileged() {
	local dir=$1
	shift
	if [ "$(id -u)" != 0 ]; then
		(cd "$dir" && "$@")
	else
		(cd "$dir" && runuser -u "$PG_STANDBY_USER" -- env PATH="$PATH" "$@")
	fi
}

# The Debian mirror the host's apt uses (never a name written here), for
# the scripts that fetch packages of another Debian release than the
# host's: roots.sh (matrix.sh, package.sh, intree.sh) and pgindent.sh.
host_mirror() {
	local uri=
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
			/etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" {
				for (i = 2; i <= NF; i++)
					if ($i ~ /^[a-z+]+:\/\// && $i !~ /security/) { print $i; exit }
			}' /etc/apt/sources.list)
	fi
	echo "$uri"
}
