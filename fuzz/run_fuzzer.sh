#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time: CTest's short run (label fuzz) and
# scripts/fuzz.sh's long one. New inputs go to a work corpus under WORK, never into the
# committed seeds; a crash leaves its input in WORK/artifacts/ and fails the run.
#   run_fuzzer.sh FUZZER WORK SECONDS SEED_DIR... [-- extra libFuzzer flags]
set -euo pipefail
fuzzer="$1" work="$2" seconds="$3"
shift 3
seeds=() flags=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; flags=("$@"); break; fi
  [ -d "$1" ] && seeds+=("$1")
  shift
done
mkdir -p "$work/corpus" "$work/artifacts"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")/.." && pwd)/tests/lsan.supp}"
# -timeout: one input taking longer is a hang, reported as a crash. -rss_limit_mb bounds a
# target's memory: an input that makes it allocate more is a finding too.
exec "$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" ${flags[@]+"${flags[@]}"} "$work/corpus" ${seeds[@]+"${seeds[@]}"}
