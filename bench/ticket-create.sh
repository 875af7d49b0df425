#!/usr/bin/env bash
# Ticket-creation benchmark over HTTP: starts a release `recourse serve` on a fresh
# database, makes an agent and a token with the CLI, then runs `recourse bench` at
# each concurrency given (default: 4 and 64). By default the workload is the one we
# measured Request Tracker with (500 tickets, one reply each, 100 subject searches);
# FULL=1 adds interventions, escalations, queue listings, ticket pages (API and console)
# and the report. Prints the figures for BENCHMARKS.md.
#
#   bash bench/ticket-create.sh                       # SQLite in a temp dir
#   RECOURSE_DATABASE_URL=postgres://… bash bench/ticket-create.sh   # an EMPTY PostgreSQL database
#
# Not part of the tests: timings depend on the machine and belong in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TICKETS=${TICKETS:-500}
SEARCHES=${SEARCHES:-100}
CONCURRENCY=${CONCURRENCY:-"4 64"}
FULL=${FULL:-}
PORT=${PORT:-18181}

cargo build --release -p recourse --quiet
BIN=target/release/recourse
DATA=$(mktemp -d /tmp/recourse-bench.XXXXXX)
export RECOURSE_DATA_DIR=$DATA
export RECOURSE_LOG=warn
export RECOURSE_BENCH_PASSWORD="long enough bench password"  # the bench agent made below

"$BIN" migrate >/dev/null
echo "long enough bench password" | "$BIN" agent add --email bench@example.com --name "Bench Agent" --role admin --experience senior --password-stdin >/dev/null
TOKEN=$("$BIN" token create --agent bench@example.com --name bench)

"$BIN" serve --listen "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
if [[ -n ${RECOURSE_DATABASE_URL:-} ]]; then
  echo "database: PostgreSQL"
else
  echo "database: SQLite (WAL) in $DATA"
fi
if [[ -n $FULL ]]; then
  PHASES=(--reports 20 --agent-email bench@example.com)
else
  PHASES=(--basic)
fi
for c in $CONCURRENCY; do
  echo "--- concurrency $c"
  "$BIN" bench --url "http://127.0.0.1:$PORT" --token "$TOKEN" --concurrency "$c" --tickets "$TICKETS" \
    --searches "$SEARCHES" --server-pid "$SERVER" "${PHASES[@]}"
done
echo "server RSS after the runs: $(awk '/VmRSS/{print $2, $3}' /proc/$SERVER/status)"
