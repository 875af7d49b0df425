#!/usr/bin/env bash
# Coverage-guided fuzzing of the four targets in fuzz/ (libFuzzer via cargo-fuzz, on
# stable Rust with `--sanitizer none`): builds them, runs each for a bounded time and
# prints, per target, the executions, the corpus it ended with and any crash. Too slow
# for .ci/run; run it by hand and record the results in RELIABILITY.md.
#
#   bash bench/fuzz.sh [seconds-per-target] [target...]   # default 60 s, all targets
#
# Targets: mime (the email pipeline's reading of a message), judge (reading and the
# coach), api_json (every JSON body through the real router), template (variables).
# Seeds: fuzz/seeds/<target>, and for mime and judge the email samples in
# ../shared/data/email, read where they are (never copied into the repository). The
# working corpus grows across runs in fuzz/corpus/<target> (not committed); crashing
# inputs land in fuzz/artifacts/<target>/. Exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
secs=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(mime judge api_json template)
fi
shared_email=$root/../shared/data/email

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
# libFuzzer needs no sanitizer, and without one cargo-fuzz passes only stable flags
# (-Cpasses=sancov-module, -Cllvm-args=...): no nightly compiler is needed.
if [[ -z ${FUZZ_NO_BUILD:-} ]]; then
(cd fuzz && cargo fuzz build --sanitizer none 2>&1 | tail -n 3) >&2 \
  || { echo "building the fuzz targets failed" >&2; exit 2; }
fi
bin=$root/fuzz/target/x86_64-unknown-linux-gnu/release

seeds_for() {
  local t=$1
  case $t in
    mime)
      echo "$root/fuzz/seeds/mime"
      [[ -d $shared_email ]] && echo "$shared_email"
      ;;
    judge)
      echo "$root/fuzz/seeds/judge"
      [[ -d $shared_email/reply-bodies ]] && echo "$shared_email/reply-bodies"
      ;;
    api_json)
      # Inputs are [caller][route][body]: every seed body for every caller and for
      # the first 48 routes (the harness takes the route number modulo their count).
      local dir
      dir=$(mktemp -d)
      for body in "$root"/fuzz/seeds/api_json/*.json; do
        for caller in 0 1 2; do
          for route in $(seq 0 47); do
            { printf "\\x$(printf %02x "$caller")\\x$(printf %02x "$route")"; cat "$body"; } \
              >"$dir/$(basename "$body" .json)-$caller-$route"
          done
        done
      done
      echo "$dir"
      ;;
    *) echo "$root/fuzz/seeds/$t" ;;
  esac
}

max_len_for() {
  case $1 in
    mime) echo 65536 ;;
    judge) echo 16384 ;;
    api_json) echo 8192 ;;
    template) echo 24576 ;; # past the 20,000-byte limit of a template
  esac
}

echo "machine: $(nproc) cores, $(uname -sr), $(rustc --version)"
echo "seconds per target: $secs"
printf '%-10s %8s %12s %8s %s\n' target seconds executions corpus result
failed=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  mapfile -t seeds < <(seeds_for "$t")
  log=fuzz/artifacts/$t/last-run.log
  start=$(date +%s)
  set +e
  "$bin/$t" "fuzz/corpus/$t" "${seeds[@]}" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len_for "$t")" -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  took=$(($(date +%s) - start))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [[ -z $execs ]]; then
    # After a crash libFuzzer prints no final stats; take the last status line.
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
  fi
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  if ((rc == 0)); then
    result="no crash"
  else
    failed=1
    artifact=$(grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to //' | tail -n 1)
    result="CRASH (exit $rc): ${artifact:-see $log}"
    grep -m 3 -E "panicked at|ERROR: libFuzzer" "$log" | sed 's/^/    /' || true
  fi
  printf '%-10s %8s %12s %8s %s\n' "$t" "$took" "${execs:-?}" "$corpus" "$result"
  if [[ $t == api_json ]]; then
    # The generated seeds, and the SQLite desk the harness served from.
    rm -rf "${seeds[0]}" "${TMPDIR:-/tmp}"/recourse-fuzz-api-*
  fi
done
exit "$failed"
