#!/bin/bash
# Install what building and testing pg_standby needs on Debian 12 with
# PostgreSQL 15, if it is missing.  Needs root; does nothing if all is there.
#
# Usage: bash scripts/install-deps.sh [--ci]
#   --ci   also what CI's extra checks use: clang and its libFuzzer and
#          sanitizer runtimes (make fuzz), valgrind, and mmdebstrap for the
#          Debian roots of the other major versions (scripts/roots.sh)
set -euo pipefail

# compiler and make; the server; PGXS with headers, libpgcommon, libpgport
# and libpgfeutils; the compression libraries PostgreSQL links, for .gz,
# .lz4 and .zst archives, and their command-line tools, which the tests
# use (pigz too; zstd brings pzstd); IPC::Run for PostgreSQL::Test::Cluster;
# for the tests across hosts (scripts/test-hosts.sh), network namespaces,
# sshd, sshfs and rsync, and strace to count pg_standby's looks at an idle
# network file system
packages=(build-essential postgresql-15 postgresql-server-dev-15
	zlib1g-dev liblz4-dev libzstd-dev gzip lz4 zstd pigz libipc-run-perl
	iproute2 util-linux openssh-server openssh-client sshfs fuse3 rsync strace)
if [ "${1:-}" = --ci ]; then
	packages+=(clang libclang-rt-14-dev valgrind mmdebstrap)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
