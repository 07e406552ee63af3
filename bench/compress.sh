#!/usr/bin/env bash
# Compressed models beside the float ones, and beside ONNX Runtime running the same files
# (docs/compress.md).
#
#   bench/compress.sh [--models a,b] [--rounds R] [--iterations K] [--min-ms T] [--allow-load]
#                     [--no-setup]
#
# For each model: `supernova compress --int8` on real calibration images (bench/compress_data.sh;
# held-out images give the agreement, for CenterNet 27 images of their own), and `--prune-channels 0.3 --fold` where the model has a
# pruning row below; then R rounds (default 5) of `supernova bench` and bench/ort_bench.js on
# the float file and on each compressed file, at 2 threads and batch 1, one after another and
# never concurrently. Each measurement runs at least K iterations (default 30) and at least T ms
# (default 1500; a probe of 5 runs sets the count per file and runtime), so that a model of one
# millisecond is not timed over 30 ms that a neighbour's burst can fill. The report
# (build/bench/compress.md) gives medians across rounds: ours, ONNX Runtime's net of its
# binding's overhead, file sizes, MACs and agreement; each ratio is the median of the rounds'
# own ratios (two files timed minutes apart on a shared machine differ by more than two files
# timed seconds apart).
# Refuses to start above a 1-minute load average of 0.5 (--allow-load: runs anyway, marked).
# A model whose file is missing (../shared/models outside the project's CI, the torchvision
# exports without python3-torch) is skipped and said so.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
COMMAND="bench/compress.sh $*"
# shellcheck source=bench/lib.sh
. bench/lib.sh

ONLY=""
ROUNDS=5
ITERATIONS=30
MIN_MS=1500
ALLOW_LOAD=0
SETUP=1
while [ $# -gt 0 ]; do
  case "$1" in
    --models) ONLY="${2:?--models needs a list}"; shift ;;
    --rounds) ROUNDS="${2:?--rounds needs a number}"; shift ;;
    --iterations) ITERATIONS="${2:?--iterations needs a number}"; shift ;;
    --min-ms) MIN_MS="${2:?--min-ms needs a number}"; shift ;;
    --allow-load) ALLOW_LOAD=1 ;;
    --no-setup) SETUP=0 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/compress.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
bench_load_gate bench/compress.sh "$ALLOW_LOAD" "at the start"

ASSETS="$ROOT/build/assets"
SHARED="$ROOT/../shared/models"
DATA="$ASSETS/compress"
# name|model|calibration folder|compress flags (preprocessing, int8 options)|prune (1: also prune)
MODELS=(
  "centernet|$SHARED/centernet_mbv3_coco_512.onnx|$DATA/photos|--preprocess raw --per-channel --calib-method percentile --eval $DATA/unseen|0"
  "face_embedding|$SHARED/face_recognition_resnet29_128d.onnx|$DATA/faces|--preprocess raw --per-channel|1"
  "ppocr_det|$ASSETS/ocr/ch_PP-OCRv4_det_infer.onnx|$DATA/text|--preprocess imagenet --bgr --size 640x640|0"
  "resnet18|$ASSETS/torchvision/resnet18.onnx|$DATA/photos|--preprocess imagenet --per-channel|1"
  "mobilenet_v2|$ASSETS/torchvision/mobilenet_v2.onnx|$DATA/photos|--preprocess imagenet --per-channel|1"
)
selected() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

if [ "$SETUP" = 1 ]; then
  scripts/setup.sh --bench
  scripts/fetch_models.sh build/assets
fi
bench_build "$(nproc)" supernova
bench/compress_data.sh "$DATA"
if selected resnet18 || selected mobilenet_v2; then
  [ -f "$ASSETS/torchvision/resnet18.onnx" ] ||
    /usr/bin/python3 bench/export_torchvision.py "$ASSETS/torchvision" || true
fi
PEER="$ROOT/build/peer"
bench_install_ort "$PEER"

SN="$ROOT/build/tools/supernova"
OUT="$ROOT/build/bench/compress"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

# --- compress ------------------------------------------------------------------------------
declare -A FILES
for entry in "${MODELS[@]}"; do
  IFS='|' read -r name model calib flags prune <<<"$entry"
  selected "$name" || continue
  if [ ! -f "$model" ]; then
    echo "compress: $name skipped: $model is missing"
    continue
  fi
  echo "== $name: int8"
  # shellcheck disable=SC2086
  "$SN" compress "$model" -o "$OUT/${name}_int8.onnx" --int8 --calib "$calib" $flags \
    --threads 2 --json >"$OUT/${name}_int8.json"
  FILES[$name]="fp32=$model int8=$OUT/${name}_int8.onnx"
  if [ "$prune" = 1 ]; then
    echo "== $name: prune 30% + fold"
    # shellcheck disable=SC2086
    "$SN" compress "$model" -o "$OUT/${name}_pruned.onnx" --prune-channels 0.3 --fold \
      --calib "$calib" $flags --threads 2 --json >"$OUT/${name}_pruned.json"
    FILES[$name]+=" pruned=$OUT/${name}_pruned.onnx"
  fi
done

# --- time ----------------------------------------------------------------------------------
# bench_command RUNTIME FILE NAME ITERATIONS: the timing command, into the array `cmd`.
bench_command() {
  local runtime="$1" file="$2" name="$3" iterations="$4"
  if [ "$runtime" = supernova ]; then
    cmd=("$SN" bench "$file" --threads 2 --iterations "$iterations" --no-flops)
  else
    cmd=(env ORT_NODE_MODULE="$PEER/node_modules/onnxruntime-node" node bench/ort_bench.js
         "$file" --threads 2 --iterations "$iterations")
  fi
  # ppocr_det's input size is dynamic: the benchmark's 640x640.
  if [ "$name" = ppocr_det ]; then cmd+=(--shape x=1x3x640x640); fi
}
RUNTIMES=(supernova)
[ -f "$PEER/node_modules/onnxruntime-node/package.json" ] && RUNTIMES+=(onnxruntime)

bench_wait_quiet bench/compress.sh "$ALLOW_LOAD"
LOAD="$(bench_load1)"
# Iterations per file and runtime: K, or as many as fill T ms by a probe of 5 runs (at most
# 5000); a probe that fails leaves K, and the timed run reports the failure.
declare -A COUNT
for name in "${!FILES[@]}"; do
  for pair in ${FILES[$name]}; do
    file="${pair#*=}"
    for runtime in "${RUNTIMES[@]}"; do
      bench_command "$runtime" "$file" "$name" 5
      COUNT["$runtime $file"]="$("${cmd[@]}" 2>/dev/null | python3 -c '
import json, math, sys
k, t = int(sys.argv[1]), float(sys.argv[2])
try:
    ms = json.loads(sys.stdin.read().strip().splitlines()[-1])["median_ms"]
    print(min(5000, max(k, math.ceil(t / ms))))
except Exception:
    print(k)' "$ITERATIONS" "$MIN_MS")"
    done
  done
done
for round in $(seq 1 "$ROUNDS"); do
  for name in "${!FILES[@]}"; do
    for pair in ${FILES[$name]}; do
      variant="${pair%%=*}" file="${pair#*=}"
      for runtime in "${RUNTIMES[@]}"; do
        iterations="${COUNT["$runtime $file"]}"
        bench_command "$runtime" "$file" "$name" "$iterations"
        if line="$("${cmd[@]}" 2>"$OUT/err")"; then
          python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(json.dumps({"name": sys.argv[2], "variant": sys.argv[3], "runtime": sys.argv[4], "round": int(sys.argv[5]), "iterations": int(sys.argv[6]), "median_ms": j["median_ms"], "median_ms_net": j.get("median_ms_net")}))' \
            "$line" "$name" "$variant" "$runtime" "$round" "$iterations" >>"$RESULTS"
        else
          python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "variant": sys.argv[2], "runtime": sys.argv[3], "round": int(sys.argv[4]), "error": open(sys.argv[5]).read().strip()[-300:]}))' \
            "$name" "$variant" "$runtime" "$round" "$OUT/err" >>"$RESULTS"
        fi
      done
    done
  done
  echo "round $round done"
done

cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' | tr -s ' ' | sed 's/ $//')"
quiet=yes
bench_load_above_limit "$LOAD" && quiet=no
python3 bench/compress_report.py "$OUT" "$cpu, $(nproc) cores" "$LOAD" "$quiet" "$COMMAND" "$MIN_MS" \
  >"$ROOT/build/bench/compress.md"
cat "$ROOT/build/bench/compress.md"
