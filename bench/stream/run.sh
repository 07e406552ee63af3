#!/usr/bin/env bash
# The stream pipeline's benchmark (issue 6), three tables:
#   1. decode-only throughput of VideoSource (every frame to packed BGR) beside the ffmpeg
#      command line doing the same (`-f rawvideo -pix_fmt bgr24`) on the same file;
#   2. streams sustained in real time on this machine with the ASSETS detector (CenterNet
#      MobileNetV3, COCO, 512x512): N copies of the pedestrian clip at its own 10 fps, without
#      skipping (is every frame inferred with the lag bounded?) and with adaptive skipping
#      (does the lag stay under its 200 ms bound, and how many frames are inferred?);
#   3. one stream and a model slower than the frame rate: adaptive vs fixed-interval (same
#      compute) vs no skipping, lag and tracked-box IoU to ground truth (bench/stream/skip_bench).
#
#   bench/stream/run.sh [--seconds 20] [--quick]
#
# Needs the release build (scripts/build.sh) and ../shared/models (the detector). The clip is
# opencv-doc's vtest.avi (768x576, 10 fps, 795 frames), fetched once with `apt-get download`
# into build/bench-data. Writes the tables to stdout and to build/bench/stream.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
# shellcheck source=bench/lib.sh
. bench/lib.sh
SECONDS_PER_RUN=20
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN="${2:?}"; shift ;;
    --quick) SECONDS_PER_RUN=8 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build 2 supernova supernova-stream decode_bench skip_bench
SN="$ROOT/build/tools/supernova"
DECODE="$ROOT/build/bench/decode_bench"
SKIP="$ROOT/build/bench/skip_bench"
DET="$ROOT/../shared/models/centernet_mbv3_coco_512.onnx"
LABELS="$ROOT/../shared/models/coco.names"
for f in "$SN" "$DECODE" "$SKIP" "$DET"; do
  [ -e "$f" ] || { echo "run.sh: missing $f (scripts/build.sh; ../shared/models)" >&2; exit 1; }
done
command -v ffmpeg >/dev/null || { echo "run.sh: ffmpeg missing (scripts/setup.sh)" >&2; exit 1; }
OUT="$ROOT/build/bench/stream.md"
DATA="$ROOT/build/bench-data"
mkdir -p "$(dirname "$OUT")" "$DATA"
TMP="$(mktemp -d /tmp/supernova-stream-bench.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

CLIP="$DATA/vtest.avi"
bench_opencv_clips "$DATA"

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

{
  echo "# Stream benchmark ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "## 1. Decode only: $(basename "$CLIP") to packed BGR, median of 5"
  echo
  FRAMES=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$CLIP")
  SN_FPS=$("$DECODE" --source "$CLIP" --repeat 5 | python3 -c 'import json,sys; print(json.load(sys.stdin)["fps_median"])')
  FF_FPS=$(for _ in 1 2 3 4 5; do
    s=$(date +%s.%N)
    ffmpeg -v error -i "$CLIP" -f rawvideo -pix_fmt bgr24 -y /dev/null
    e=$(date +%s.%N)
    python3 -c "print($FRAMES / ($e - $s))"
  done | median)
  printf '| decoder | frames/s | ratio to ffmpeg |\n|---|---|---|\n'
  printf '| supernova VideoSource | %.0f | %.2f |\n' "$SN_FPS" "$(python3 -c "print($SN_FPS / $FF_FPS)")"
  printf '| ffmpeg CLI (process included) | %.0f | 1.00 |\n' "$FF_FPS"
  echo
  echo "## 2. Streams sustained in real time: CenterNet 512 on $(basename "$CLIP") at 10 fps, ${SECONDS_PER_RUN} s"
  echo
  echo "No skipping: in real time while every frame is inferred and the lag stays under 1 s."
  echo "Adaptive skipping (200 ms bound): in real time while the detections' lag p99 stays under it."
  echo
  printf '| skipping | streams | input fps (each) | inferred fps (each) | dropped | lag p50 ms | lag p99 ms | real time |\n'
  printf '|---|---|---|---|---|---|---|---|\n'
  for mode in none adaptive; do
    for n in 1 2 3 4; do
      args=()
      for i in $(seq 1 "$n"); do args+=(--source "$CLIP" --name "cam$i"); done
      "$SN" stream --model "$DET" --labels "$LABELS" "${args[@]}" --loop --skip "$mode" \
        --max-lag-ms 200 --duration "$SECONDS_PER_RUN" --metrics-interval 0 \
        2>"$TMP/m.jsonl" >/dev/null || true
      python3 - "$TMP/m.jsonl" "$n" "$mode" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"stream"')]
n, mode = int(sys.argv[2]), sys.argv[3]
if len(rows) != n:
    print(f"| {mode} | {n} | failed | | | | | |"); sys.exit()
avg = lambda k: sum(r[k] for r in rows) / n
dropped = sum(r["dropped"] for r in rows)
p99 = max(r["lag_p99_ms"] for r in rows)
if mode == "none":
    ok = dropped == 0 and all(r["frames"] - r["inferred"] <= 3 for r in rows) and p99 < 1000
else:
    ok = dropped == 0 and p99 <= 200
print(f"| {mode} | {n} | {avg('input_fps'):.1f} | {avg('inferred_fps'):.1f} | {dropped} | "
      f"{avg('lag_p50_ms'):.0f} | {p99:.0f} | {'yes' if ok else 'no'} |")
PY
    done
  done
  echo
  echo "## 3. One stream, a model ~2.5 frame intervals slow (25 fps), 250 ms bound: skipping modes at equal compute"
  echo
  echo '```'
  "$SKIP" --seconds "$SECONDS_PER_RUN" --model-ms 100 --fps 25 --max-lag-ms 250
  echo '```'
} | tee "$OUT"
