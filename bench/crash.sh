#!/usr/bin/env bash
# Crash-safety run: SIGKILLs the real `recourse serve` CYCLES times per database while
# four writers create tickets, reply and escalate, and the SLA sweeper escalates 300
# overdue tickets; after each restart every acknowledged write must be there, whole,
# and at the end every overdue ticket must have been escalated exactly once.
# CI runs the same test with 5 cycles; this script runs 50 and prints the tally for
# RELIABILITY.md.
#
#   bash bench/crash.sh            # SQLite, and PostgreSQL on a throwaway cluster
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CYCLES=${CYCLES:-50}
source .ci/pg.sh
pg_start >/dev/null
trap pg_stop EXIT
export RECOURSE_CRASH_CYCLES=$CYCLES CI=1
echo "machine: $(nproc) cores, $(uname -sr); $CYCLES kill/restart cycles per database"
cargo test --locked -p recourse --test cli crash_safety -- --nocapture --test-threads 1 2>&1 \
  | grep -E "crash cycle|test crash_safety|panicked|test result"
