#!/usr/bin/env bash
# SLA sweeper benchmark: seeds OPEN open tickets (DUE of them due) into a fresh database
# and times the sweeper: idle passes (finding nothing) and the passes that breach and
# escalate the due ones. Prints the figures for BENCHMARKS.md.
#
#   bash bench/sla-sweeper.sh                                  # SQLite in a temp dir
#   RECOURSE_DATABASE_URL=postgres://…/empty_db bash bench/sla-sweeper.sh
#
# Not part of the tests: timings depend on the machine and belong in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OPEN=${OPEN:-1000000}
DUE=${DUE:-1000}

cargo build --release -p recourse --quiet
DATA=$(mktemp -d /tmp/recourse-sweep.XXXXXX)
trap 'rm -rf "$DATA"' EXIT
export RECOURSE_DATA_DIR=$DATA RECOURSE_LOG=warn
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo "database: ${RECOURSE_DATABASE_URL:+PostgreSQL}${RECOURSE_DATABASE_URL:-SQLite (WAL) in $DATA}" | sed 's#postgres://[^ ]*##'
target/release/recourse sla bench --open "$OPEN" --due "$DUE"
