#!/usr/bin/env bash
# Supernova's footprint beside ONNX Runtime's (docs/footprint.md): wall time and peak RSS of
# `supernova --help` and of `supernova run` on a one-node model, RSS of an idle
# `supernova serve` with the bundled model repository, the runtime library's size, the shared
# objects `--help` loads; ONNX Runtime (onnxruntime-node) running the same model in Node.js,
# minus Node.js's own baseline, measured in the same rounds.
#
#   bench/footprint.sh [--runs N] [--serve-runs N] [--allow-load] [--no-setup]
#
# Refuses to start when the 1-minute load average is above 0.5 (--allow-load: runs anyway,
# the report is marked not for publication). --runs: rounds of the short commands (default
# 10); --serve-runs: server starts (default 3); --no-setup: skip scripts/setup.sh (no package
# installation). Writes build/bench/footprint.md (printed) and build/bench/footprint.json.
# Environment: JOBS (build jobs, default nproc), BENCH_LOAD_WAIT (as bench/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
# shellcheck source=bench/lib.sh
. bench/lib.sh
LOAD_START="$(bench_load1)"

RUNS=10
SERVE_RUNS=3
ALLOW_LOAD=0
SETUP=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="${2:?--runs needs a number}"; shift ;;
    --runs=*) RUNS="${1#*=}" ;;
    --serve-runs) SERVE_RUNS="${2:?--serve-runs needs a number}"; shift ;;
    --serve-runs=*) SERVE_RUNS="${1#*=}" ;;
    --allow-load) ALLOW_LOAD=1 ;;
    --no-setup) SETUP=0 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/footprint.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
for n in "$RUNS" "$SERVE_RUNS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench/footprint.sh: counts must be positive" >&2; exit 1; }
done
bench_load_gate bench/footprint.sh "$ALLOW_LOAD" "at the start"

[ "$SETUP" = 1 ] && scripts/setup.sh
bench_build "${JOBS:-$(nproc)}" supernova supernova-serve proc_probe
scripts/fetch_models.sh build/assets
PEER="$ROOT/build/peer"
bench_install_ort "$PEER"
ORT_MODULE=""
[ -f "$PEER/node_modules/onnxruntime-node/package.json" ] && ORT_MODULE="$PEER/node_modules/onnxruntime-node"

OUT="$ROOT/build/bench"
WORK="$OUT/footprint"
rm -rf "$WORK"
mkdir -p "$WORK"
node bench/relu_model.js "$WORK/model"
# The bundled repository, assembled as scripts/run.sh does.
REPO="$WORK/model_repository"
cp -r examples/model_repository "$REPO"
mkdir -p "$REPO/text_orientation/1"
ln -s "$ROOT/build/assets/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" \
  "$REPO/text_orientation/1/model.onnx"
cp examples/text_orientation.config.pbtxt "$REPO/text_orientation/config.pbtxt"
cp examples/orientation_labels.txt "$REPO/text_orientation/labels.txt"

bench_wait_quiet bench/footprint.sh "$ALLOW_LOAD"
python3 bench/footprint.py --supernova "$ROOT/build/tools/supernova" \
  --probe "$ROOT/build/bench/proc_probe" --model-dir "$WORK/model" --repository "$REPO" \
  --ort-module "$ORT_MODULE" --runs "$RUNS" --serve-runs "$SERVE_RUNS" \
  --out "$OUT/footprint.md" --json "$OUT/footprint.json" --load-start "$LOAD_START"
echo "report: $OUT/footprint.md"
