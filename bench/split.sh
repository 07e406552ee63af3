#!/usr/bin/env bash
# Split execution measured (issue 16, docs/collab.md "Benchmark"): for CenterNet and the face
# embedding, every sampled cut over the loopback, its latency on each link of the grid
# {1, 10, 100} Mbit/s x {20, 100} ms, the cut `supernova split` chooses against the best one
# measured, a check of the link arithmetic against the emulator, the re-cut when the link
# changes mid-run, and the placement planner against exhaustive search.
#
#   bench/split.sh [--models centernet,face_embedding] [--slowdown F[,F2...]] [--requests R]
#                  [--emulate-requests N] [--cuts N] [--recut-slowdown F] [--no-recut]
#                  [--no-placement] [--allow-load]
#
# The edge is this host at 1 thread with a slowdown F (default 10: profile --slowdown F and the
# runner's --slowdown F); the cloud is this host at 2 threads (profile --threads 2, and one
# `supernova serve --threads-per-instance 2` on 127.0.0.1): both share the same cores, one
# after the other, never at once. Output: build/bench/split.md and build/bench/split/.
# Refuses to start above a 1-minute load average of 0.5 (--allow-load: runs anyway, marked).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
COMMAND="bench/split.sh $*"
# shellcheck source=bench/lib.sh
. bench/lib.sh

ONLY=""
SLOWDOWNS=10
REQUESTS=7
EMULATE_REQUESTS=3
CUTS=12
RECUT_SLOWDOWN=20
RECUT=1
PLACEMENT=1
ALLOW_LOAD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --models) ONLY="${2:?--models needs a list}"; shift ;;
    --slowdown) SLOWDOWNS="${2:?--slowdown needs a factor}"; shift ;;
    --requests) REQUESTS="${2:?--requests needs a number}"; shift ;;
    --emulate-requests) EMULATE_REQUESTS="${2:?--emulate-requests needs a number}"; shift ;;
    --cuts) CUTS="${2:?--cuts needs a number}"; shift ;;
    --recut-slowdown) RECUT_SLOWDOWN="${2:?--recut-slowdown needs a factor}"; shift ;;
    --no-recut) RECUT=0 ;;
    --no-placement) PLACEMENT=0 ;;
    --allow-load) ALLOW_LOAD=1 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/split.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
bench_load_gate bench/split.sh "$ALLOW_LOAD" "at the start"
LOAD_START="$(bench_load1)"

SHARED="$ROOT/../shared/models"
ASSETS="$ROOT/build/assets"
FACE_IMAGE="$ASSETS/compress/faces/megamind_0.png"
[ -f "$FACE_IMAGE" ] || FACE_IMAGE="$ASSETS/images/person.jpg"
# name|model|--shape of the profile|input image
MODELS=(
  "centernet|$SHARED/centernet_mbv3_coco_512.onnx|tower_0/images=1,512,512,3|$ASSETS/images/dog.jpg"
  "face_embedding|$SHARED/face_recognition_resnet29_128d.onnx|image=1,3,150,150|$FACE_IMAGE"
)
LINKS=("1,20" "1,100" "10,20" "10,100" "100,20" "100,100")
selected() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

bench_build 2 supernova supernova-collab supernova-serve placement_bench
SN="$ROOT/build/tools/supernova"
OUT="$ROOT/build/bench/split"
rm -rf "$OUT"
mkdir -p "$OUT/repository"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
REPORT="python3 $ROOT/bench/split_report.py"
# A remote call under the emulated 1 Mbit/s link takes seconds: no run here should fall back
# for a deadline, so that every figure is the split itself.
TIMEOUT_MS=120000

SERVER_PID=""
cleanup() { [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

bench_wait_quiet bench/split.sh "$ALLOW_LOAD"
LOAD_MEASURE="$(bench_load1)"
python3 -c 'import json, sys
a = sys.argv[1:]
print(json.dumps({"type": "meta", "command": a[0], "load_start": float(a[1]),
                  "load_measure": float(a[2]), "allow_load": a[3] == "1", "requests": int(a[4]),
                  "emulate_requests": int(a[5]), "machine": a[6]}))' \
  "$COMMAND" "$LOAD_START" "$LOAD_MEASURE" "$ALLOW_LOAD" "$REQUESTS" "$EMULATE_REQUESTS" \
  "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' | tr -s ' ' | sed 's/ $//'), $(nproc) cores" \
  >>"$RESULTS"

# --- profiles, plans, sampled cuts, one split directory per cut ----------------------------
# add_tails DIR: its tails into the one repository the server reads (a tail is the same file
# whichever split wrote it: it depends on the cut's tensors only).
add_tails() {
  local t
  for t in "$1"/repository/*; do
    [ -e "$OUT/repository/$(basename "$t")" ] || ln -s "$t" "$OUT/repository/$(basename "$t")"
  done
}
SETS=()  # name|model|image|F|dir
for entry in "${MODELS[@]}"; do
  IFS='|' read -r name model shape image <<<"$entry"
  selected "$name" || continue
  if [ ! -f "$model" ]; then
    echo "split: $name skipped: $model is missing"
    continue
  fi
  "$SN" profile "$model" --threads 2 --shape "$shape" -o "$OUT/${name}_cloud.json"
  for F in ${SLOWDOWNS//,/ }; do
    dir="$OUT/${name}_F$F"
    mkdir -p "$dir"
    "$SN" profile "$model" --threads 1 --slowdown "$F" --shape "$shape" -o "$dir/edge.json"
    plans=()
    for link in "${LINKS[@]}"; do
      "$SN" split "$model" -o "$dir/link_$link" --cut auto --edge-profile "$dir/edge.json" \
        --cloud-profile "$OUT/${name}_cloud.json" --link "$link" >/dev/null
      plans+=("$dir/link_$link/plan.json")
    done
    $REPORT plans "$name" "$F" "${plans[@]}" >>"$RESULTS"
    while IFS=$'\t' read -r id tensors; do
      "$SN" split "$model" -o "$dir/cut$id" --cut "$tensors" --edge-profile "$dir/edge.json" \
        --cloud-profile "$OUT/${name}_cloud.json" --link 10,20 >/dev/null
      $REPORT expect-chosen "$dir/cut$id/plan.json" "$id"
      add_tails "$dir/cut$id"
    done < <($REPORT sample "$CUTS" "${plans[@]}")
    SETS+=("$name|$model|$image|$F|$dir")
  done
done
RECUT_DIR=""
if [ "$RECUT" = 1 ] && selected face_embedding && [ -f "$SHARED/face_recognition_resnet29_128d.onnx" ]; then
  # The face embedding flips between cloud and edge as the link goes from 100 to 10 Mbit/s
  # at a slowdown of 15 to 20 (its plan says where: printed in the report).
  RECUT_DIR="$OUT/recut_F$RECUT_SLOWDOWN"
  "$SN" profile "$SHARED/face_recognition_resnet29_128d.onnx" --threads 1 \
    --slowdown "$RECUT_SLOWDOWN" --shape image=1,3,150,150 -o "$OUT/recut_edge.json"
  "$SN" split "$SHARED/face_recognition_resnet29_128d.onnx" -o "$RECUT_DIR" --cut auto \
    --edge-profile "$OUT/recut_edge.json" --cloud-profile "$OUT/face_embedding_cloud.json" \
    --link 100,20 >/dev/null
  add_tails "$RECUT_DIR"
  $REPORT recut-plan "$RECUT_DIR/plan.json" 100,20 10,100 >>"$RESULTS"
fi

# --- the cloud -------------------------------------------------------------------------------
read -r GRPC_PORT HTTP_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
"$SN" serve --model-repository "$OUT/repository" --address 127.0.0.1 --grpc-port "$GRPC_PORT" \
  --http-port "$HTTP_PORT" --metrics-port -1 --threads-per-instance 2 --log-level warning \
  >"$OUT/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/v2/health/ready" >/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "split: the server died:" >&2; cat "$OUT/serve.log" >&2; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$HTTP_PORT/v2/health/ready" >/dev/null ||
  { echo "split: the server is not ready after 120 s" >&2; exit 1; }
REMOTE="127.0.0.1:$GRPC_PORT"

# run_split TAG DIR IMAGE F N [runner flags]: N requests, every record tagged into results.
run_split() {
  local tag="$1" dir="$2" image="$3" F="$4" n="$5"
  shift 5
  "$SN" run -i "$image" --preprocess raw --split "$dir" --remote "$REMOTE" --slowdown "$F" \
    --threads 1 --compression none --timeout-ms "$TIMEOUT_MS" --requests "$n" --json "$@" \
    -o "$OUT/last_output" 2>"$OUT/run.err" | $REPORT tag "$tag" >>"$RESULTS" ||
    { echo "split: run failed ($tag):" >&2; cat "$OUT/run.err" >&2; exit 1; }
}

# --- every sampled cut over the loopback -----------------------------------------------------
for set in "${SETS[@]}"; do
  IFS='|' read -r name model image F dir <<<"$set"
  for cutdir in "$dir"/cut*; do
    id="${cutdir##*/cut}"
    echo "== $name F=$F cut $id: $REQUESTS requests over the loopback"
    run_split "{\"model\": \"$name\", \"slowdown\": $F, \"cut\": $id, \"mode\": \"loopback\"}" \
      "$cutdir" "$image" "$F" "$REQUESTS" --cut "$id"
  done
done

# --- the emulated links: the chosen cut and cloud-only, run for real -------------------------
# A run predicted above 20 s a request is skipped (recorded as such).
for set in "${SETS[@]}"; do
  IFS='|' read -r name model image F dir <<<"$set"
  while IFS=$'\t' read -r link id predicted; do
    tag="{\"model\": \"$name\", \"slowdown\": $F, \"cut\": $id, \"mode\": \"emulated\", \"link\": \"$link\", \"predicted_ms\": $predicted}"
    if awk -v p="$predicted" 'BEGIN { exit !(p > 20000) }'; then
      echo "== $name F=$F cut $id on $link: skipped (predicted $predicted ms a request)"
      echo "${tag%\}}, \"skipped\": true}" >>"$RESULTS"
      continue
    fi
    echo "== $name F=$F cut $id on $link: $EMULATE_REQUESTS requests (predicted $predicted ms)"
    run_split "$tag" "$dir/cut$id" "$image" "$F" "$EMULATE_REQUESTS" --cut "$id" \
      --emulate-link "$link"
  done < <($REPORT emulations "$RESULTS" "$name" "$F" "${LINKS[@]}")
done

# --- the re-cut: the adaptive runner while the link changes ----------------------------------
if [ -n "$RECUT_DIR" ]; then
  # Fast, slow, fast again for long enough to see the runner come back from edge-only (its
  # explorations back off to one in 40 requests), the remote unreachable, fast.
  SCHEDULE="0:100,20;20:10,100;45:100,20;125:off;135:100,20"
  echo "== re-cut: face_embedding F=$RECUT_SLOWDOWN, --link-schedule '$SCHEDULE'"
  # A deadline of 1 s, as a service would set: the slow phase's cloud-only call (320 ms) fits.
  TIMEOUT_MS=1000 run_split \
    "{\"model\": \"face_embedding\", \"slowdown\": $RECUT_SLOWDOWN, \"mode\": \"recut\", \"schedule\": \"$SCHEDULE\"}" \
    "$RECUT_DIR" "$FACE_IMAGE" "$RECUT_SLOWDOWN" 160 --link-schedule "$SCHEDULE"
fi
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

# --- the planner against exhaustive search ---------------------------------------------------
# Small sizes only (DEVICES,PIPELINES,STAGES per pipeline): the full table is docs/placement.md's.
if [ "$PLACEMENT" = 1 ]; then
  allow=()
  [ "$ALLOW_LOAD" = 1 ] && allow=(--allow-load)
  bench/placement.sh --seeds 1 --runs 3 "${allow[@]}" -- --size 4,2,2 --size 5,2,3 --size 6,2,3 \
    >"$OUT/placement.txt" || echo "split: bench/placement.sh failed or refused: see $OUT/placement.txt"
fi

echo "{\"type\": \"end\", \"load_end\": $(bench_load1)}" >>"$RESULTS"
$REPORT report "$OUT" >"$ROOT/build/bench/split.md"
cat "$ROOT/build/bench/split.md"
