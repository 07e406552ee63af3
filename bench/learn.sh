#!/usr/bin/env bash
# On-device learning (issue 18): few-shot accuracy of the class store's classifiers on real
# backbones and labelled images they never saw as classes, the time to add a class and to
# classify, and the imprinted export's latency beside ONNX Runtime.
#
#   bench/learn.sh [--trials N] [--allow-load]
#
# Backbones: the face embedding ResNet-29 (its 128-D descriptor) and CenterNet MobileNetV3's
# backbone (its last 1x1 convolution, 480 channels at stride 32, pooled), run at the image
# size of each set by `supernova compress --input-size` (both from ../shared/models).
# Sets (bench/learn_data.py):
#   fashion  Fashion-MNIST (Debian dataset-fashion-mnist): 10 classes; enrolment draws from the
#            first 100 training images of each class, 100 test images per class.
#   reid     pedestrians of vtest.avi (opencv-doc): each long person track of CenterNet 512 run
#            on every frame is one identity (23); enrolment draws from the first 40% of its
#            sightings, the test is 20 crops spread over its last 40%. Identities come from the
#            tracker, not from people: a swap between two walkers would count against us.
# For each backbone and set: `supernova learn eval --shots 1,5,10 --method both` (prototype:
# nearest class mean; imprint: cosine to the normalised means), --trials random draws each,
# and with --refine the accuracy before and after online refinement on the first half of the
# test images (unlabelled: the refiner sees predictions only), under the refiner's default
# rules and under looser ones (--min-score 0.85 --min-margin 0.02). Then the imprinted model of
# each backbone (all classes of the set, 5 shots) is exported and timed in `supernova bench`
# and in ONNX Runtime, interleaved, 2 threads, medians of 5 rounds.
# Writes the tables to stdout and build/bench/learn.md. Refuses to start above a 1-minute load
# average of 0.5 (--allow-load runs anyway and marks the report).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
COMMAND="bench/learn.sh $*"
# shellcheck source=bench/lib.sh
. bench/lib.sh

TRIALS=5
ALLOW_LOAD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) TRIALS="${2:?--trials needs a number}"; shift ;;
    --allow-load) ALLOW_LOAD=1 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/learn.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
bench_load_gate bench/learn.sh "$ALLOW_LOAD" "at the start"

SN="$ROOT/build/tools/supernova"
MODELS="$ROOT/../shared/models"
FACE="$MODELS/face_recognition_resnet29_128d.onnx"
CENTERNET="$MODELS/centernet_mbv3_coco_512.onnx"
LABELS="$MODELS/coco.names"
CN_LAYER="tower_0/extern1/hard_swish/mul_1__474"
FASHION_SRC=/usr/share/datasets/fashion-mnist
DATA="$ROOT/build/bench-data"
WORK="$ROOT/build/bench/learn"
OUT="$ROOT/build/bench/learn.md"
for f in "$FACE" "$CENTERNET" "$LABELS"; do
  [ -e "$f" ] || { echo "bench/learn.sh: missing $f (../shared/models)" >&2; exit 1; }
done
[ -e "$FASHION_SRC/t10k-images-idx3-ubyte.gz" ] ||
  { echo "bench/learn.sh: Fashion-MNIST missing: scripts/setup.sh --bench installs it" >&2; exit 1; }
bench_build 2 supernova supernova-stream
bench_install_ort "$ROOT/build/peer"
export ORT_NODE_MODULE="$ROOT/build/peer/node_modules/onnxruntime-node"
mkdir -p "$DATA" "$WORK/models" "$WORK/stores"

# ---- data ----
bench_opencv_clips "$DATA"
if [ ! -d "$WORK/sets/fashion/test" ]; then
  python3 bench/learn_data.py fashion --dataset "$FASHION_SRC" --out "$WORK/sets/fashion.tmp"
  mv "$WORK/sets/fashion.tmp" "$WORK/sets/fashion"
fi
if [ ! -d "$WORK/sets/reid/test" ]; then
  tracks="$WORK/vtest_tracks.jsonl"
  if [ ! -s "$tracks" ]; then
    "$SN" stream --model "$CENTERNET" --labels "$LABELS" --decoder centernet \
      --source "$DATA/vtest.avi" --name vtest --sink "jsonl:$tracks.tmp" --skip none \
      --no-realtime --metrics-interval 0 >/dev/null 2>"$WORK/stream.err"
    mv "$tracks.tmp" "$tracks"
  fi
  python3 bench/learn_data.py reid --video "$DATA/vtest.avi" --tracks "$tracks" \
    --out "$WORK/sets/reid.tmp"
  mv "$WORK/sets/reid.tmp" "$WORK/sets/reid"
fi

# ---- backbones at each set's size ----
# name|model|eval flags
cn_at() {  # HxW: CenterNet at that input size, made once
  local m="$WORK/models/centernet_$1.onnx"
  [ -e "$m" ] || "$SN" compress "$CENTERNET" --input-size "$1" -o "$m" >/dev/null
  echo "$m"
}
RUNS=(
  "face|fashion|$FACE|--preprocess raw"
  "face|reid|$FACE|--preprocess raw"
  "centernet|fashion|$(cn_at 128x128)|--preprocess raw --layer $CN_LAYER"
  "centernet|reid|$(cn_at 256x128)|--preprocess raw --layer $CN_LAYER"
)

bench_wait_quiet bench/learn.sh "$ALLOW_LOAD"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
for run in "${RUNS[@]}"; do
  IFS='|' read -r backbone set model flags <<<"$run"
  echo "== $backbone on $set" >&2
  # The refiner's default rules, then looser ones (a smaller margin over the runner-up): with
  # these backbones' close cosines the default margin lets few updates through.
  for rules in default loose; do
    refine_flags=()
    [ "$rules" = loose ] && refine_flags=(--min-score 0.85 --min-margin 0.02)
    # shellcheck disable=SC2086
    "$SN" learn eval --model "$model" $flags --train "$WORK/sets/$set/train" \
      --test "$WORK/sets/$set/test" --shots 1,5,10 --method both --trials "$TRIALS" --refine \
      "${refine_flags[@]}" --threads 2 --json |
      python3 -c "import json, sys; r = json.load(sys.stdin); r.update(backbone='$backbone', set='$set', rules='$rules'); print(json.dumps(r))" \
        >>"$RESULTS"
  done
done

# ---- the imprinted export beside ONNX Runtime ----
TIMES="$WORK/times.jsonl"
: >"$TIMES"
for run in "${RUNS[@]}"; do
  IFS='|' read -r backbone set model flags <<<"$run"
  store="$WORK/stores/${backbone}_$set"
  rm -rf "$store"
  for cls in "$WORK/sets/$set/train"/*/; do
    # shellcheck disable=SC2086
    "$SN" learn add --model "$model" $flags --store "$store" --class "$(basename "$cls")" \
      $(find "$cls" -name '*.png' | sort | head -5) >/dev/null
  done
  exported="$WORK/models/imprinted_${backbone}_$set.onnx"
  # shellcheck disable=SC2086
  "$SN" learn export --model "$model" $flags --store "$store" --output "$exported" >/dev/null
done
for _ in 1 2 3 4 5; do
  for run in "${RUNS[@]}"; do
    IFS='|' read -r backbone set model flags <<<"$run"
    exported="$WORK/models/imprinted_${backbone}_$set.onnx"
    ours="$("$SN" bench "$exported" --threads 2 --batch 1 --iterations 30 --no-flops)"
    peer="$(node bench/ort_bench.js "$exported" --threads 2 --batch 1 --iterations 30)"
    python3 - "$backbone" "$set" "$ours" "$peer" >>"$TIMES" <<'PY'
import json, sys
backbone, set_, ours, peer = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(json.dumps({"backbone": backbone, "set": set_, "ours_ms": ours["median_ms"],
                  "ort_ms": peer["median_ms"], "ort_net_ms": peer.get("median_ms_net")}))
PY
  done
done

python3 bench/learn_report.py --results "$RESULTS" --times "$TIMES" --command "$COMMAND" \
  --load "$(bench_load1)" --allow-load "$ALLOW_LOAD" | tee "$OUT"
