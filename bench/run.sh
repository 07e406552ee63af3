#!/usr/bin/env bash
# Supernova beside ONNX Runtime and OpenCV DNN on the project's real models (docs/benchmark.md).
#
#   bench/run.sh [--quick] [--models a,b] [--iterations K] [--rounds R] [--allow-load]
#                [--no-setup]
#
# Refuses to start when the 1-minute load average is above 0.5 (--allow-load: runs anyway,
# the report is marked not for publication). Installs and builds what it needs (release tree
# in build/, the ONNX Runtime peer in build/peer), then for every model x batch {1,8} x
# threads {1,2} runs R rounds (default 3) of `supernova bench`, bench/ort_bench.js and
# opencv_dnn_bench in turn, never concurrently; the report gives medians across rounds.
# Appends one JSON line per run to build/bench/results.jsonl (tagged with this run's id) and
# writes build/bench/report.md. --quick: batch 1 only, 5 iterations. --models takes the names
# below. A model that is missing (the ../shared ones outside the project's CI) is skipped.
# --no-setup: skip scripts/setup.sh --bench (no package installation; the torchvision models
# are then exported only if Debian's python3-torch is there).
# Environment: BENCH_TIMEOUT (seconds per run, default 600), JOBS (build jobs, default nproc),
# BENCH_LOAD_WAIT (seconds to wait after the build for the load to settle, default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
COMMAND="bench/run.sh $*"
# shellcheck source=bench/lib.sh
. bench/lib.sh
LOAD_START="$(bench_load1)"

QUICK=0
ONLY=""
ITERATIONS=""
ROUNDS=3
ALLOW_LOAD=0
SETUP=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --models) ONLY="${2:?--models needs a list}"; shift ;;
    --models=*) ONLY="${1#*=}" ;;
    --iterations) ITERATIONS="${2:?--iterations needs a number}"; shift ;;
    --iterations=*) ITERATIONS="${1#*=}" ;;
    --rounds) ROUNDS="${2:?--rounds needs a number}"; shift ;;
    --rounds=*) ROUNDS="${1#*=}" ;;
    --allow-load) ALLOW_LOAD=1 ;;
    --no-setup) SETUP=0 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: --rounds needs a positive number" >&2; exit 1; }
bench_load_gate bench/run.sh "$ALLOW_LOAD" "at the start"
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
selected() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
[ "$SETUP" = 1 ] && scripts/setup.sh --bench
bench_build "$JOBS" supernova opencv_dnn_bench peak_gflops
scripts/fetch_models.sh build/assets
for m in resnet18 mobilenet_v2; do  # torch only where a torchvision model is wanted and missing
  if selected "$m" && [ ! -f "$ASSETS/torchvision/$m.onnx" ]; then
    if [ "$SETUP" = 1 ] || /usr/bin/python3 -c 'import torchvision' 2>/dev/null; then
      /usr/bin/python3 bench/export_torchvision.py "$ASSETS/torchvision"
    fi
    break
  fi
done
PEER="$ROOT/build/peer"
bench_install_ort "$PEER"

SN="$ROOT/build/tools/supernova"
CV="$ROOT/build/bench/opencv_dnn_bench"
PEAK="$ROOT/build/bench/peak_gflops"
OUT="$ROOT/build/bench"
RESULTS="$OUT/results.jsonl"
mkdir -p "$OUT"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

bench_wait_quiet bench/run.sh "$ALLOW_LOAD"
LOAD_MEASURE="$(bench_load1)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' | tr -s ' ' | sed 's/ $//')"
machine="$cpu, $(nproc) cores"
python3 - "$RUN_ID" "$machine" "$ITERATIONS" "$WARMUP" "$COMMAND" "$ROUNDS" "$LOAD_START" \
  "$LOAD_MEASURE" "$BENCH_LOAD_LIMIT" "$ALLOW_LOAD" >>"$RESULTS" <<'EOF'
import json, sys
run_id, machine, iterations, warmup, command, rounds, start, measure, limit, allow = sys.argv[1:11]
print(json.dumps({"run_id": run_id, "kind": "meta", "machine": machine,
                  "iterations": int(iterations), "warmup": int(warmup), "rounds": int(rounds),
                  "loadavg": start, "loadavg_measure": measure, "load_limit": float(limit),
                  "allow_load": allow == "1", "command": command.strip()}))
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

# run_one NAME RUNTIME BATCH THREADS ROUND COMMAND...: runs it under the timeout and records it.
run_one() {
  local name="$1" runtime="$2" batch="$3" threads="$4" round="$5"
  shift 5
  local rc=0
  timeout "$TIMEOUT" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  python3 "$ROOT/bench/report.py" record --run-id "$RUN_ID" --name "$name" --runtime "$runtime" \
    --batch "$batch" --threads "$threads" --round "$round" --rc "$rc" --stdout "$TMP/out" \
    --stderr "$TMP/err" >"$TMP/line"
  cat "$TMP/line" >>"$RESULTS"
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
m=j.get("median_ms"); o=j.get("binding_overhead_ms")
print("  round %s %-11s %s" % (j["round"], j["runtime"], ("%.3f ms" % m + ("" if o is None else " (binding %.3f ms)" % o)) if j["status"]=="ok" else j["status"]+": "+str(j.get("error",""))[:100]))' "$TMP/line"
}

ran=0
for entry in "${MODELS[@]}"; do
  IFS='|' read -r name file shape <<<"$entry"
  selected "$name" || continue
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
      gflop=""
      # Rounds interleave the runtimes, so that a slow minute of the machine falls on all of
      # them rather than on one runtime's runs.
      for ((r = 1; r <= ROUNDS; r++)); do
        sn_flags=("${flags[@]}")
        [ -n "$gflop" ] && sn_flags+=(--no-flops)  # counted once: the count does not change
        run_one "$name" supernova "$b" "$t" "$r" "$SN" bench "$file" "${sn_flags[@]}"
        if [ -z "$gflop" ]; then
          gflop="$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1])).get("gflop"); print("" if g is None else repr(g))' "$TMP/line")"
        fi
        peer_flags=("${flags[@]}")
        [ -n "$gflop" ] && peer_flags+=(--gflop "$gflop")
        if [ -f "$PEER/node_modules/onnxruntime-node/package.json" ]; then
          run_one "$name" onnxruntime "$b" "$t" "$r" env ORT_NODE_MODULE="$PEER/node_modules/onnxruntime-node" \
            node "$ROOT/bench/ort_bench.js" "$file" "${peer_flags[@]}"
        fi
        if [ -x "$CV" ]; then
          run_one "$name" opencv_dnn "$b" "$t" "$r" "$CV" "$file" "${peer_flags[@]}"
        fi
      done
    done
  done
done
[ "$ran" = 1 ] || { echo "bench/run.sh: no model to run (--models $ONLY?)" >&2; exit 1; }

# The end figure includes this script's own last runs (up to the thread count): information,
# not a gate.
python3 -c 'import json,sys; print(json.dumps({"run_id": sys.argv[1], "kind": "end", "loadavg_end": sys.argv[2]}))' \
  "$RUN_ID" "$(bench_load1)" >>"$RESULTS"
python3 "$ROOT/bench/report.py" report --results "$RESULTS" --run-id "$RUN_ID" --out "$OUT/report.md"
echo "results: $RESULTS (run $RUN_ID)"
echo "report:  $OUT/report.md"
