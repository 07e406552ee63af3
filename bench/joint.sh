#!/usr/bin/env bash
# Joint inference (issue 17): a cheap detector on the edge, CenterNet 512 fp32 in the cloud,
# scored against CenterNet 512 run on every frame.
#
#   bench/joint.sh [--edge int8|320|384|320-int8] [--clips vtest,box,cup] [--edge-only]
#                  [--no-candidates] [--policies NAME,...] [--feature-policies NAME,...|none]
#                  [--edge-threads N] [--cloud-threads N] [--allow-load]
#
# 1. Clips: opencv-doc's vtest.avi (768x576, 10 fps, 795 frames) and its box.mp4 and cup.mp4
#    (640x480 h264), fetched once with `apt-get download` into build/bench-data.
# 2. Edge candidates, made once into build/bench/joint/models by `supernova compress`: CenterNet
#    at 320 and 384 (--input-size), int8 at 512 and int8 at 320 (--int8, calibrated on
#    bench/compress_data.sh's photos). Time per frame: `supernova bench` at the edge's threads,
#    5 rounds in which the 512 model and each candidate run one after another (interleaved,
#    so that all see the same machine), medians across rounds.
# 3. The reference: CenterNet 512 on every frame (--skip none --no-realtime), once per clip
#    (cached in build/bench/joint/ref_<clip>.jsonl: delete it to compute it again).
# 4. Edge-only, each candidate (--no-candidates: the --edge model only), every frame inferred (--skip none; faster than real time: with
#    no cloud the output does not depend on timing).
# 5. Cloud configurations, in real time (the cloud's answers arrive when they would on a live
#    stream): a `supernova serve` on 127.0.0.1 serving CenterNet 512 as platform
#    supernova_detector, and `supernova stream --cloud ... --escalate SPEC` with the --edge
#    model (default int8: on these clips it is far more accurate than 320 or 384 for a cost
#    between theirs: see the candidates table): `every` (cloud-only: every frame sent as
#    JPEG) and each joint policy below (--policies: those named only; cloud-only always runs).
#    Skipped, and said so, where this build's `supernova stream` has no --cloud.
# 6. Feature-level joint rows, with the int8 edge (the 320/384 edges' tensors differ in size
#    from the cloud's): CenterNet 512 fp32 split by `supernova split` at FEATURE_CUT (int8
#    codec), its tail served as a supernova_detector reading features; the edge sends its own
#    coded cut tensor instead of the JPEG (--cloud-features) for the policies in
#    --feature-policies (default key=10 and key+scene+score; none: skipped).
#
# Every configuration is scored on its tracks on every frame (the joint output is the edge's
# tracks with the cloud's answers fused in), against the reference's detections; F1 at IoU 0.5
# per class (bench/joint_eval.py). Writes the tables to stdout and build/bench/joint.md.
# Refuses to start above a 1-minute load average of 0.5 (timings and the real-time runs would
# measure the other work): --allow-load runs anyway and marks the report.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
COMMAND="bench/joint.sh $*"
# shellcheck source=bench/lib.sh
. bench/lib.sh

EDGE=int8
CANDIDATES_TOO=1
ONLY_POLICIES=""
FEATURE_POLICIES="key=10,key+scene+score"
# The cut of the feature rows: the end of MobileNetV3's third block, [1, 24, 128, 128] (384 KiB
# as int8); CenterNet's skip connections leave no single-tensor cut between it and the head.
FEATURE_CUT="tower_0/MobilenetV3/expanded_conv_2/add__42"
CLIPS="vtest,box,cup"
EDGE_ONLY=0
ALLOW_LOAD=0
# The edge and the cloud share this machine's cores: one each by default, as two machines
# would not compete.
EDGE_THREADS=1
CLOUD_THREADS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --edge) EDGE="${2:?--edge needs int8, 320, 384 or 320-int8}"; shift ;;
    --clips) CLIPS="${2:?--clips needs a list}"; shift ;;
    --edge-only) EDGE_ONLY=1 ;;
    --no-candidates) CANDIDATES_TOO=0 ;;
    --policies) ONLY_POLICIES="${2:?--policies needs names}"; shift ;;
    --feature-policies) FEATURE_POLICIES="${2:?--feature-policies needs names or none}"; shift ;;
    --edge-threads) EDGE_THREADS="${2:?}"; shift ;;
    --cloud-threads) CLOUD_THREADS="${2:?}"; shift ;;
    --allow-load) ALLOW_LOAD=1 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/joint.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
case "$EDGE" in
  320|384|int8|320-int8) ;;
  *) echo "bench/joint.sh: --edge $EDGE: expected 320, 384, int8 or 320-int8" >&2; exit 1 ;;
esac
bench_load_gate bench/joint.sh "$ALLOW_LOAD" "at the start"

# Joint policies: name|--escalate spec. Thresholds are on the edge's box scores (>= 0.3, the
# detector's threshold) and on the 0..255 luma difference to the last frame sent. On the 320
# edge's detections the hard-example filters alone flag 20-80 % of the frames (its scores sit
# near the threshold), so each gets a min-gap that holds it to 1 frame in 6 at most: the
# issue's target is under 20 % of cloud-only's bytes.
POLICIES=(
  "key=10|key=10"
  "key=5|key=5"
  "scene|scene=12,min-gap=5"
  "score|score=0.45,min-gap=5"
  "entropy|entropy=0.98,min-gap=5"
  "ibt|ibt=0.5:0.35,min-gap=5"
  "key+scene+score|key=10,scene=12,score=0.4,min-gap=5"
)

SN="$ROOT/build/tools/supernova"
CLOUD_MODEL="$ROOT/../shared/models/centernet_mbv3_coco_512.onnx"
LABELS="$ROOT/../shared/models/coco.names"
DATA="$ROOT/build/bench-data"
WORK="$ROOT/build/bench/joint"
OUT="$ROOT/build/bench/joint.md"
for f in "$CLOUD_MODEL" "$LABELS"; do
  [ -e "$f" ] || { echo "bench/joint.sh: missing $f (../shared/models)" >&2; exit 1; }
done
command -v ffprobe >/dev/null || { echo "bench/joint.sh: ffprobe missing (scripts/setup.sh)" >&2; exit 1; }
bench_build 2 supernova supernova-stream supernova-serve
mkdir -p "$DATA" "$WORK/models" "$WORK/runs"
TMP="$(mktemp -d /tmp/supernova-joint-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---- 1. clips ----
clip_file() { case "$1" in vtest) echo "$DATA/vtest.avi" ;; *) echo "$DATA/$1.mp4" ;; esac; }
bench_opencv_clips "$DATA"
IFS=',' read -r -a CLIP_LIST <<<"$CLIPS"
for c in "${CLIP_LIST[@]}"; do
  [ -e "$(clip_file "$c")" ] || { echo "bench/joint.sh: unknown clip $c (vtest, box, cup)" >&2; exit 1; }
done

# ---- 2. edge candidates ----
PHOTOS="$ROOT/build/assets/compress/photos"
CANDIDATES=(320 384 int8 320-int8)
[ "$CANDIDATES_TOO" = 1 ] || CANDIDATES=("$EDGE")
INT8=(--int8 --calib "$PHOTOS" --per-channel --calib-method percentile)
candidate_flags() {  # CANDIDATE: its compress options, into FLAGS
  case "$1" in
    320) FLAGS=(--input-size 320x320) ;;
    384) FLAGS=(--input-size 384x384) ;;
    int8) FLAGS=("${INT8[@]}") ;;
    320-int8) FLAGS=(--input-size 320x320 "${INT8[@]}") ;;
  esac
}
edge_model() { echo "$WORK/models/centernet_$1.onnx"; }
bench/compress_data.sh "$ROOT/build/assets/compress" >/dev/null
for cand in "${CANDIDATES[@]}"; do
  model="$(edge_model "$cand")"
  [ -e "$model" ] && [ -e "$model.json" ] && continue
  candidate_flags "$cand"
  # int8 measures agreement on held-out calibration photos: the assets' images are among them.
  eval_flags=(--eval "$ROOT/build/assets/images")
  [[ "$cand" == *int8* ]] && eval_flags=()
  "$SN" compress "$CLOUD_MODEL" -o "$model" "${FLAGS[@]}" --preprocess raw "${eval_flags[@]}" \
    --threads 2 --runs 5 --json >"$model.json.tmp"
  mv "$model.json.tmp" "$model.json"
done
TIMES="$WORK/times.jsonl"
: >"$TIMES"
for _ in 1 2 3 4 5; do
  for cand in 512 "${CANDIDATES[@]}"; do
    model="$CLOUD_MODEL"
    [ "$cand" = 512 ] || model="$(edge_model "$cand")"
    "$SN" bench "$model" --threads "$EDGE_THREADS" --iterations 20 --no-flops |
      python3 -c "import json, sys; print(json.dumps({'model': '$cand', 'ms': json.load(sys.stdin)['median_ms']}))" >>"$TIMES"
  done
done

stream_args() {  # MODEL CLIP OUT.jsonl: the options every run shares, into ARGS
  ARGS=(--model "$1" --labels "$LABELS" --decoder centernet --source "$(clip_file "$2")"
    --name "$2" --sink "jsonl:$3" --skip none --metrics-interval 0)
}

# ---- 3. reference ----
for c in "${CLIP_LIST[@]}"; do
  ref="$WORK/ref_$c.jsonl"
  [ -s "$ref" ] && continue
  stream_args "$CLOUD_MODEL" "$c" "$ref.tmp"
  "$SN" stream "${ARGS[@]}" --no-realtime 2>"$TMP/ref.err" >/dev/null
  mv "$ref.tmp" "$ref"
done

RESULTS="$WORK/results.jsonl"
CAND_RESULTS="$WORK/candidates.jsonl"
: >"$RESULTS"
: >"$CAND_RESULTS"
score() {  # CLIP CONFIG RUN.jsonl RUN.err RESULTS
  python3 bench/joint_eval.py score --reference "$WORK/ref_$1.jsonl" --run "$3" --metrics "$4" \
    --clip "$1" --config "$2" >>"$5"
}

# ---- 4. edge-only, every candidate ----
# The reference's own tracks: what the tracker alone costs, the ceiling of every row.
for c in "${CLIP_LIST[@]}"; do score "$c" "edge-only 512" "$WORK/ref_$c.jsonl" /dev/null "$CAND_RESULTS"; done
for cand in "${CANDIDATES[@]}"; do
  for c in "${CLIP_LIST[@]}"; do
    run="$WORK/runs/edge_${cand}_$c"
    stream_args "$(edge_model "$cand")" "$c" "$run.jsonl"
    "$SN" stream "${ARGS[@]}" --no-realtime --threads "$EDGE_THREADS" 2>"$run.err" >/dev/null
    score "$c" "edge-only $cand" "$run.jsonl" "$run.err" "$CAND_RESULTS"
    [ "$cand" = "$EDGE" ] && score "$c" "edge-only $cand" "$run.jsonl" "$run.err" "$RESULTS"
  done
done

# ---- 5. cloud configurations ----
CLOUD_NOTE=""
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_server() {
  local repo="$TMP/repo" http
  mkdir -p "$repo/centernet/1"
  cp "$CLOUD_MODEL" "$repo/centernet/1/model.onnx"
  cat >"$repo/centernet/config.pbtxt" <<'EOF'
name: "centernet"
platform: "supernova_detector"
max_batch_size: 0
parameters { key: "decoder" value { string_value: "centernet" } }
EOF
  if [ -n "$TAIL_FILE" ]; then
    mkdir -p "$repo/centernet_tail/1"
    cp "$TAIL_FILE" "$repo/centernet_tail/1/model.onnx"
    cat >"$repo/centernet_tail/config.pbtxt" <<'EOF'
name: "centernet_tail"
platform: "supernova_detector"
max_batch_size: 0
parameters { key: "decoder" value { string_value: "centernet" } }
parameters { key: "input" value { string_value: "features" } }
parameters { key: "input_width" value { string_value: "512" } }
parameters { key: "input_height" value { string_value: "512" } }
EOF
  fi
  http="$(free_port)"
  GRPC_PORT="$(free_port)"
  "$ROOT/build/tools/supernova" serve --model-repository "$repo" --address 127.0.0.1 \
    --http-port "$http" --grpc-port "$GRPC_PORT" --metrics-port -1 \
    --threads-per-instance "$CLOUD_THREADS" --log-level warning >"$TMP/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 60); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$http/v2/models/centernet/ready', timeout=1)" 2>/dev/null; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  return 1
}
cloud_run() {  # CLIP CONFIG SPEC [FLAGS...]: the flags replace --cloud-model centernet
  local run clip="$1" config="$2" spec="$3"
  shift 3
  local cloud=(--cloud-model centernet)
  [ $# -eq 0 ] || cloud=("$@")
  run="$WORK/runs/$(printf '%s' "$config" | tr -c 'A-Za-z0-9=+.-' '_')_$clip"
  stream_args "$(edge_model "$EDGE")" "$clip" "$run.jsonl"
  "$SN" stream "${ARGS[@]}" --threads "$EDGE_THREADS" \
    --cloud "127.0.0.1:$GRPC_PORT" "${cloud[@]}" --escalate "$spec" 2>"$run.err" >/dev/null
  score "$clip" "$config" "$run.jsonl" "$run.err" "$RESULTS"
}
# The tail of the feature-level rows: made once, from a profile of this machine (the cut is
# given, so the profile only has to exist).
TAIL_FILE=""
if [ "$EDGE_ONLY" = 0 ] && [ "$FEATURE_POLICIES" != none ] && [ "$EDGE" = int8 ]; then
  split="$WORK/split"
  if [ ! -e "$split/plan.json" ]; then
    "$SN" profile "$CLOUD_MODEL" --iterations 1 --threads 1 -o "$WORK/profile.json" >/dev/null
    "$SN" split "$CLOUD_MODEL" -o "$split" --cut "$FEATURE_CUT" --edge-profile "$WORK/profile.json" \
      --cloud-profile "$WORK/profile.json" --link 100,20 --cut-codec int8 >/dev/null
  fi
  tail_model="$(python3 -c "import json, sys; p = json.load(open(sys.argv[1])); print(next(c['tail_model'] for c in p['candidates'] if c['id'] == p['chosen']))" "$split/plan.json")"
  TAIL_FILE="$split/repository/$tail_model/1/model.onnx"
fi
if [ "$EDGE_ONLY" = 1 ]; then
  CLOUD_NOTE="Cloud configurations not run (--edge-only)."
elif ! grep -q -- '--cloud ' <<<"$("$SN" stream --help 2>&1)"; then
  CLOUD_NOTE="Cloud configurations not run: this build's \`supernova stream\` has no --cloud."
elif ! start_server; then
  CLOUD_NOTE="Cloud configurations not run: \`supernova serve\` did not serve CenterNet as supernova_detector ($(tail -3 "$TMP/serve.log" | tr '\n' ' '))."
else
  for c in "${CLIP_LIST[@]}"; do
    cloud_run "$c" "cloud-only" "every"
    for p in "${POLICIES[@]}"; do
      [ -z "$ONLY_POLICIES" ] || [[ ",$ONLY_POLICIES," == *",${p%%|*},"* ]] || continue
      cloud_run "$c" "joint ${p%%|*}" "${p#*|}"
    done
    [ -n "$TAIL_FILE" ] || continue
    for p in "${POLICIES[@]}"; do
      [[ ",$FEATURE_POLICIES," == *",${p%%|*},"* ]] || continue
      cloud_run "$c" "joint ${p%%|*} (features)" "${p#*|}" --cloud-model centernet_tail \
        --cloud-features "$FEATURE_CUT" --cloud-cut-codec int8
    done
  done
fi
[ -n "$CLOUD_NOTE" ] && echo "bench/joint.sh: $CLOUD_NOTE" >&2

# ---- tables ----
{
  echo "# Joint inference benchmark ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "\`$COMMAND\`; 1-minute load average $(bench_load1) at the end."
  if [ "$ALLOW_LOAD" = 1 ]; then echo; echo "**Run with --allow-load on a busy machine: not for publication.**"; fi
  echo
  echo "Reference: CenterNet 512 fp32 detections on every frame. Every configuration is scored on"
  echo "its tracks on every frame; F1 at IoU 0.5, micro over all classes; per class for the clip's"
  echo "three classes with the most reference boxes. KB/s: bytes sent per second of video (the JPEGs;"
  echo "in (features) rows the int8-coded cut tensor instead)."
  echo
  echo "## Edge candidates (edge-only, every frame inferred)"
  echo
  python3 - "$WORK/models" "$CAND_RESULTS" "$TIMES" "$EDGE_THREADS" "${CANDIDATES[@]}" <<'PY'
import json, statistics, sys
models, results, times, threads, cands = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
rows = [json.loads(l) for l in open(results) if l.strip()]
ms = {}
for l in open(times):
    t = json.loads(l)
    ms.setdefault(t["model"], []).append(t["ms"])
med = {k: statistics.median(v) for k, v in ms.items()}
clips = []
for r in rows:
    if r["clip"] not in clips:
        clips.append(r["clip"])
print("| edge model | ms/frame | / 512 fp32 | box match vs 512 (compress) | "
      + " | ".join(f"F1 {c}" for c in clips) + " |")
print("|---|---|---|---|" + "---|" * len(clips))
for cand in ["512"] + cands:
    match = "1.000"
    if cand != "512":
        match = f"{json.load(open(f'{models}/centernet_{cand}.onnx.json'))['agreement']['value']:.3f}"
    f1 = {r["clip"]: r["f1"] for r in rows if r["config"] == f"edge-only {cand}"}
    print(f"| {cand if cand != '512' else '512 fp32 (the reference)'} | {med[cand]:.1f} | "
          f"{med[cand] / med['512']:.2f} | {match} | " + " | ".join(f"{f1.get(c, 0):.3f}" for c in clips) + " |")
print()
print(f"ms/frame: `supernova bench`, {threads} thread(s), median over 5 interleaved rounds of 20 runs. "
      "Box match: the compress report's, on the 7 asset photographs (int8: on held-out "
      "calibration photographs). F1: edge-only tracks against the reference.")
PY
  echo
  echo "## Edge-only, cloud-only and joint (edge: $EDGE)"
  echo
  python3 bench/joint_eval.py table "$RESULTS"
  if [ -n "$CLOUD_NOTE" ]; then echo; echo "$CLOUD_NOTE"; fi
} | tee "$OUT"
