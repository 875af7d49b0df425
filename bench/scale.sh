#!/usr/bin/env bash
# Scale run: seeds a desk with many tickets and their messages through the bulk path
# (`recourse bench --seed`), then drives the running server over HTTP with every phase
# of `recourse bench` (create, reply, intervention, escalate, search, queues, ticket pages
# through the API and the console, report) and reports the server's memory idle and under load.
#
#   bash bench/scale.sh                                   # SQLite, 1,000,000 tickets × 5 messages
#   SEED=100000 bash bench/scale.sh                       # a smaller desk
#   RECOURSE_DATABASE_URL=postgres://… bash bench/scale.sh   # an EMPTY PostgreSQL database
#
# Not part of the tests: figures depend on the machine and belong in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SEED=${SEED:-1000000}
MESSAGES=${MESSAGES:-5}
CONCURRENCY=${CONCURRENCY:-16}
PORT=${PORT:-18182}

cargo build --release -p recourse --quiet
BIN=target/release/recourse
DATA=$(mktemp -d /tmp/recourse-scale.XXXXXX)
export RECOURSE_DATA_DIR=$DATA
export RECOURSE_LOG=warn
trap 'kill ${SERVER:-0} 2>/dev/null || true; wait ${SERVER:-0} 2>/dev/null || true; rm -rf "$DATA"' EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo "database: ${RECOURSE_DATABASE_URL:+PostgreSQL}${RECOURSE_DATABASE_URL:-SQLite (WAL, synchronous=FULL) in $DATA}"
"$BIN" migrate >/dev/null
echo "long enough bench password" | "$BIN" agent add --email bench@example.com --name "Bench Agent" --role admin --experience senior --password-stdin >/dev/null
TOKEN=$("$BIN" token create --agent bench@example.com --name bench)
/usr/bin/time -f "seed: %e s wall, %M KB max RSS" "$BIN" bench --seed "$SEED" --messages-per-ticket "$MESSAGES"
# A bulk load leaves PostgreSQL without statistics until autovacuum comes round; a real
# desk has them, so gather them now (and mark pages all-visible for index-only scans).
if [[ -n ${RECOURSE_DATABASE_URL:-} ]]; then
  /usr/bin/time -f "vacuum analyze: %e s" psql -q "$RECOURSE_DATABASE_URL" -c "VACUUM ANALYZE"
fi

"$BIN" serve --listen "127.0.0.1:$PORT" --sweep-secs 3600 >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done
RECOURSE_BENCH_PASSWORD="long enough bench password" \
  "$BIN" bench --url "http://127.0.0.1:$PORT" --token "$TOKEN" --server-pid "$SERVER" \
  --concurrency "$CONCURRENCY" --tickets 500 --searches 500 --reports 20 --agent-email bench@example.com
echo "server RSS after the run: $(awk '/VmRSS/{print $2, $3}' /proc/$SERVER/status)"
