#!/usr/bin/env bash
# Supernova beside ONNX Runtime and OpenCV DNN on the project's real models (docs/benchmark.md).
#
#   bench/run.sh [--quick] [--models a,b] [--iterations K]
#
# Installs and builds what it needs (release tree in build/, the ONNX Runtime peer in
# build/peer), then for every model x batch {1,8} x threads {1,2} runs `supernova bench`,
# bench/ort_bench.js and opencv_dnn_bench one after another, never concurrently. Appends one
# JSON line per run to build/bench/results.jsonl (tagged with this run's id) and writes
# build/bench/report.md. --quick: batch 1 only, 5 iterations. --models takes the names below.
# A model that is missing (the ../shared ones outside the project's CI) is skipped with a note.
# Environment: BENCH_TIMEOUT (seconds per run, default 600), JOBS (build jobs, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
COMMAND="bench/run.sh $*"

QUICK=0
ONLY=""
ITERATIONS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --models) ONLY="${2:?--models needs a list}"; shift ;;
    --models=*) ONLY="${1#*=}" ;;
    --iterations) ITERATIONS="${2:?--iterations needs a number}"; shift ;;
    --iterations=*) ITERATIONS="${1#*=}" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  BATCHES=(1); ITERATIONS="${ITERATIONS:-5}"; WARMUP=1
else
  BATCHES=(1 8); ITERATIONS="${ITERATIONS:-30}"; WARMUP=3
fi
THREADS=(1 2)
TIMEOUT="${BENCH_TIMEOUT:-600}"
JOBS="${JOBS:-$(nproc)}"

ASSETS="$ROOT/build/assets"
SHARED="$ROOT/../shared/models"
# name | file | --shape flags for inputs with dynamic dims besides the batch (ASSETS.md sizes)
MODELS=(
  "ocr_det|$ASSETS/ocr/ch_PP-OCRv4_det_infer.onnx|--shape x=Nx3x640x640"
  "ocr_rec|$ASSETS/ocr/ch_PP-OCRv4_rec_infer.onnx|--shape x=Nx3x48x320"
  "ocr_cls|$ASSETS/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx|--shape x=Nx3x48x192"
  "blazeface|$ASSETS/blazeface/face_detection_front_128x128_barracuda.onnx|"
  "centernet|$SHARED/centernet_mbv3_coco_512.onnx|"
  "face_embedding|$SHARED/face_recognition_resnet29_128d.onnx|"
  "resnet18|$ASSETS/torchvision/resnet18.onnx|"
  "mobilenet_v2|$ASSETS/torchvision/mobilenet_v2.onnx|"
)

# --- setup: packages, release build, models, the ONNX Runtime peer ------------------------
scripts/setup.sh --bench
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON >/dev/null
cmake --build build -j "$JOBS" --target supernova
for t in opencv_dnn_bench peak_gflops; do  # opencv_dnn_bench exists only where OpenCV was found
  if ninja -C build -t targets all 2>/dev/null | grep -q "^bench/$t:"; then
    cmake --build build -j "$JOBS" --target "$t"
  fi
done
scripts/fetch_models.sh build/assets
/usr/bin/python3 bench/export_torchvision.py build/assets/torchvision
ORT_VERSION=1.30.0
PEER="$ROOT/build/peer"
if command -v node >/dev/null 2>&1; then
  have="$(node -p "try{require('$PEER/node_modules/onnxruntime-node/package.json').version}catch(e){''}")"
  if [ "$have" != "$ORT_VERSION" ]; then
    # --ignore-scripts: the install script would fetch GPU binaries; the CPU library ships
    # in the package.
    npm install --silent --ignore-scripts --no-audit --no-fund --prefix "$PEER" \
      "onnxruntime-node@$ORT_VERSION"
  fi
fi

SN="$ROOT/build/tools/supernova"
CV="$ROOT/build/bench/opencv_dnn_bench"
PEAK="$ROOT/build/bench/peak_gflops"
OUT="$ROOT/build/bench"
RESULTS="$OUT/results.jsonl"
mkdir -p "$OUT"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT


cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' | tr -s ' ' | sed 's/ $//')"
machine="$cpu, $(nproc) cores"
python3 - "$RUN_ID" "$machine" "$ITERATIONS" "$WARMUP" "$COMMAND" >>"$RESULTS" <<'EOF'
import json, sys
run_id, machine, iterations, warmup, command = sys.argv[1:6]
print(json.dumps({"run_id": run_id, "kind": "meta", "machine": machine,
                  "iterations": int(iterations), "warmup": int(warmup),
                  "loadavg": open("/proc/loadavg").read().split()[0],
                  "command": command.strip()}))
EOF

if [ -x "$PEAK" ]; then
  for t in "${THREADS[@]}"; do
    if line="$("$PEAK" --threads "$t")"; then
      python3 -c 'import json,sys; j=json.loads(sys.argv[1]); j.update(run_id=sys.argv[2], kind="peak"); print(json.dumps(j))' \
        "$line" "$RUN_ID" >>"$RESULTS"
      echo "peak: $line"
    fi
  done
fi

# run_one NAME RUNTIME BATCH THREADS COMMAND...: runs it under the timeout and records it.
run_one() {
  local name="$1" runtime="$2" batch="$3" threads="$4"
  shift 4
  local rc=0
  timeout "$TIMEOUT" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  python3 "$ROOT/bench/report.py" record --run-id "$RUN_ID" --name "$name" --runtime "$runtime" \
    --batch "$batch" --threads "$threads" --rc "$rc" --stdout "$TMP/out" --stderr "$TMP/err" \
    >"$TMP/line"
  cat "$TMP/line" >>"$RESULTS"
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
m=j.get("median_ms"); print("  %-11s %s" % (j["runtime"], "%.2f ms" % m if j["status"]=="ok" else j["status"]+": "+str(j.get("error",""))[:100]))' "$TMP/line"
}

ran=0
for entry in "${MODELS[@]}"; do
  IFS='|' read -r name file shape <<<"$entry"
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
  if [ ! -f "$file" ]; then
    echo "== $name: $file not found, skipped"
    continue
  fi
  ran=1
  for b in "${BATCHES[@]}"; do
    for t in "${THREADS[@]}"; do
      echo "== $name batch $b threads $t"
      # shellcheck disable=SC2206
      flags=(--threads "$t" --batch "$b" $shape --iterations "$ITERATIONS" --warmup "$WARMUP")
      run_one "$name" supernova "$b" "$t" "$SN" bench "$file" "${flags[@]}"
      gflop="$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1])).get("gflop"); print("" if g is None else repr(g))' "$TMP/line")"
      peer_flags=("${flags[@]}")
      [ -n "$gflop" ] && peer_flags+=(--gflop "$gflop")
      if [ -f "$PEER/node_modules/onnxruntime-node/package.json" ]; then
        run_one "$name" onnxruntime "$b" "$t" env ORT_NODE_MODULE="$PEER/node_modules/onnxruntime-node" \
          node "$ROOT/bench/ort_bench.js" "$file" "${peer_flags[@]}"
      fi
      if [ -x "$CV" ]; then
        run_one "$name" opencv_dnn "$b" "$t" "$CV" "$file" "${peer_flags[@]}"
      fi
    done
  done
done
[ "$ran" = 1 ] || { echo "bench/run.sh: no model to run (--models $ONLY?)" >&2; exit 1; }

python3 "$ROOT/bench/report.py" report --results "$RESULTS" --run-id "$RUN_ID" --out "$OUT/report.md"
echo "results: $RESULTS (run $RUN_ID)"
echo "report:  $OUT/report.md"
