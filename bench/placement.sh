#!/usr/bin/env bash
# The placement planner's NSGA-II against exhaustive search on growing random instances
# (docs/placement.md): for each size, seeded instances, the median time of each search and how
# much of the true (exhaustive) Pareto front NSGA-II finds: the share of its points and the
# hypervolume ratio. Front quality is deterministic (fixed seeds); times depend on the machine.
#
#   bench/placement.sh [--seeds N] [--runs R] [--allow-load] [-- placement_bench options]
#
# Refuses to start above a 1-minute load average of 0.5 (--allow-load: runs anyway, and the
# table says so).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

SEEDS=3
RUNS=3
ALLOW_LOAD=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) SEEDS="${2:?--seeds needs a number}"; shift ;;
    --runs) RUNS="${2:?--runs needs a number}"; shift ;;
    --allow-load) ALLOW_LOAD=1 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "bench/placement.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bench_load_gate bench/placement.sh "$ALLOW_LOAD" "at the start"
bench_build 2 placement_bench
bench_wait_quiet bench/placement.sh "$ALLOW_LOAD"
LOAD="$(bench_load1)"
echo "placement: NSGA-II (population 100, 150 generations, seed 1) against exhaustive search;"
echo "$(nproc) cores, load average $LOAD at the start$(bench_load_above_limit "$LOAD" &&
  echo ' (above the limit: not for publication)')"
echo "times: median of $RUNS runs; found: share of the exhaustive front's points NSGA-II holds"
./build/bench/placement_bench --seeds "$SEEDS" --runs "$RUNS" "${EXTRA[@]}"
