#!/bin/bash
# Build the cached Debian roots of the given PostgreSQL major versions, or
# check that they are current, before the scripts that use them
# (matrix.sh, package.sh, intree.sh) need them: .ci/run starts this in the
# background while the host's own tests run, so that a new machine does
# not wait for the roots afterwards.  scripts/roots.sh says how a root is
# built and cached; a script that needs a root while it is being built
# here waits for it.
#
# Usage: sudo bash scripts/prepare-roots.sh VERSION...   (15, 17 or 18)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

version=
say() { echo "roots: PostgreSQL $version: $*"; }
die() { echo "roots: PostgreSQL $version: error: $*" >&2; exit 1; }

[ $# -gt 0 ] || { sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap needs it)"
. "$top/scripts/roots.sh"

for version in "$@"; do
	start=$(date +%s)
	say "ready: $(root_tarball) ($(elapsed "$start"))"
done
