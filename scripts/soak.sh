#!/bin/bash
# Fault soak (bench/soak.pl): build pg_standby and run the soak as the
# unprivileged user, through "make installcheck" like the tests, so that
# the small file system for the "pg_wal full" faults is mounted when run
# as root (scripts/test.sh).
#
# Usage: bash scripts/soak.sh [SECONDS [SEED]]   (default 180 s, seed: time)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export SOAK_SECONDS=${1:-180}
[ -z "${2:-}" ] || export SOAK_SEED=$2
# the soak's own bound, plus set-up and the final failover
export PG_TEST_TIMEOUT_DEFAULT=${PG_TEST_TIMEOUT_DEFAULT:-180}
exec bash "$top/scripts/test.sh" REGRESS= PROVE_TESTS=bench/soak.pl
