#!/bin/bash
# Format the C files of the tree with PostgreSQL's pgindent, or check that
# they are formatted ("make pgindent", "make pgindent-check", .ci/run).
#
# Usage: bash scripts/pgindent.sh [--check]
#   --check  change nothing: print what pgindent would change, and exit 1
#            if it would change anything
#
# The tools are PostgreSQL's own, as Debian 13's postgresql-server-dev-17
# ships them: pgindent, pg_bsd_indent (2.1.2, the version pgindent 17
# requires) and PostgreSQL's typedefs.list.  Our own typedefs (every name
# a "typedef" of the tree defines) are added to that list.  The package is
# fetched with apt-get, from the Debian mirror the host's apt uses, with a
# private source list and package state, so that the host's apt is left as
# it was.  pg_bsd_indent is built for Debian 13's C library: it runs with
# that library (from Debian 13's libc6 package) and its own loader, so no
# Debian 13 root is needed.  Both packages are kept in
# /var/tmp/pg_standby-pgindent (PG_STANDBY_PGINDENT_CACHE) and fetched
# again when older than 30 days; if fetching fails, the old ones are used.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

check=
case ${1:-} in
	--check) check=1 ;;
	"") ;;
	*) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2 ;;
esac

say() { echo "pgindent: $*" >&2; }
die() { echo "pgindent: error: $*" >&2; exit 2; }

cache=${PG_STANDBY_PGINDENT_CACHE:-/var/tmp/pg_standby-pgindent}
suite=trixie
packages=(postgresql-server-dev-17 libc6)
tools=$cache/root
pgindent=$tools/usr/lib/postgresql/17/bin/pgindent
typedefs=$tools/usr/share/postgresql/17/typedefs.list
libdir=$tools/usr/lib/x86_64-linux-gnu

# Download the packages into $cache/debs with apt-get, from the host's
# mirror, with a source list and package state of our own.
fetch_packages() {
	local mirror apt=$cache/apt opts
	mirror=${PG_STANDBY_PGINDENT_MIRROR:-$(host_mirror)}
	[ -n "$mirror" ] || { say "no Debian mirror found in the host's apt sources"; return 1; }
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$cache/debs.new"
	echo "deb $mirror $suite main" >"$apt/sources.list"
	opts=(-q -o Dir::Etc::SourceList="$apt/sources.list"
		-o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists="$apt/lists"
		-o Dir::Cache="$apt/cache" -o APT::Sandbox::User=root)
	say "fetching ${packages[*]} of Debian $suite from $mirror"
	apt-get "${opts[@]}" update >"$cache/apt.log" 2>&1 &&
		(cd "$cache/debs.new" && apt-get "${opts[@]}" download "${packages[@]}") \
			>>"$cache/apt.log" 2>&1 ||
		{ tail -5 "$cache/apt.log" >&2; rm -rf "$cache/debs.new"; return 1; }
	rm -rf "$cache/debs" "$tools"
	mv "$cache/debs.new" "$cache/debs"
}

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ ! -d "$cache/debs" ]; then
	fetch_packages || die "could not fetch the packages"
elif [ -n "$(find "$cache/debs" -maxdepth 0 -mtime +30)" ]; then
	fetch_packages || say "warning: fetching failed, using the packages fetched before"
fi
if [ ! -x "$pgindent" ]; then
	rm -rf "$tools"
	for deb in "$cache"/debs/*.deb; do
		dpkg-deb -x "$deb" "$tools"
	done
	# pgindent runs pg_bsd_indent by the path it is given: this one runs
	# it with Debian 13's C library.
	cat >"$tools/pg_bsd_indent" <<EOF
#!/bin/sh
exec "$libdir/ld-linux-x86-64.so.2" --library-path "$libdir" \
	"$tools/usr/lib/postgresql/17/bin/pg_bsd_indent" "\$@"
EOF
	chmod +x "$tools/pg_bsd_indent"
fi
flock -u 9

cd "$top"
# The C files of the tree: the ones git tracks, or, outside a git checkout
# (a copy of the tree), every one outside the build's output directories.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find . \( -name 'tmp_*' -o -name .git \) -prune -o \
		\( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi
[ ${#files[@]} -gt 0 ] || die "no C files found in $top"

# Our typedefs: the name that ends each "typedef ... NAME;" or
# "typedef struct { ... } NAME;" of the tree.
our_typedefs=$(sed -n -e 's/^typedef .*[ *]\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' \
	-e 's/^} \([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' "${files[@]}" | sort -u | tr '\n' ' ')

args=(--indent="$tools/pg_bsd_indent" --typedefs="$typedefs"
	--list-of-typedefs="$our_typedefs")
if [ -n "$check" ]; then
	status=0
	perl "$pgindent" "${args[@]}" --diff --check "${files[@]}" || status=$?
	case $status in
		0) say "${#files[@]} files checked: formatted as pgindent formats them" ;;
		2) say "the files above are not formatted as pgindent formats them: run \"make pgindent\""
		   exit 1 ;;
		*) die "pgindent failed (exit status $status)" ;;
	esac
else
	perl "$pgindent" "${args[@]}" "${files[@]}"
	say "${#files[@]} files formatted"
fi
