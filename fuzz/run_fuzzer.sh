#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time: CTest's short run (label fuzz) and
# scripts/fuzz.sh's long one. New inputs go to a work corpus under WORK, never into the
# committed seeds; a crash leaves its input in WORK/artifacts/ and fails the run.
#   run_fuzzer.sh [--fresh] FUZZER WORK SECONDS SEED_DIR... [-- extra libFuzzer flags]
# --fresh empties WORK's corpus first, so that the run starts from the committed seeds alone:
# with a fixed -seed and -runs (CTest's short run) it then tries the same inputs on every
# machine, and what fails in CI fails again on a developer's.
set -euo pipefail
fresh=0
if [ "${1:-}" = "--fresh" ]; then fresh=1; shift; fi
fuzzer="$1" work="$2" seconds="$3"
shift 3
seeds=() flags=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; flags=("$@"); break; fi
  [ -d "$1" ] && seeds+=("$1")
  shift
done
if [ "$fresh" = 1 ]; then rm -rf "$work/corpus"; fi
mkdir -p "$work/corpus" "$work/artifacts"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")/.." && pwd)/tests/lsan.supp}"
# -timeout: one input taking longer is a hang, reported as a crash. -rss_limit_mb bounds a
# target's memory: an input that makes it allocate more is a finding too.
exec "$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" ${flags[@]+"${flags[@]}"} "$work/corpus" ${seeds[@]+"${seeds[@]}"}
