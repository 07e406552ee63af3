#!/usr/bin/env bash
# Dynamic int8 on the PP-OCRv4 text recogniser (docs/compress.md, "Dynamic int8"): the float
# file, `supernova compress --dynamic-int8` with one weight scale and with one per column,
# and ONNX Runtime running the same files.
#
#   bench/compress_dynamic.sh [--rounds R] [--iterations K] [--allow-load]
#
# Needs build/tools/supernova, the models (scripts/fetch_models.sh), the text images
# (bench/compress_data.sh) and the ONNX Runtime peer in build/peer (bench/compress.sh installs
# both). Prints, for each file: the greedy CTC text read from the two rendered text lines the
# tests use and from every image of the text folder, the compress report's agreement and
# latency (alternating runs in one process, --runs 60, 2 threads), and the median over R rounds
# (default 5) of `supernova bench` and bench/ort_bench.js at 1 and at 2 threads, one 1x3x48x320
# input, one file after another and never concurrently.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
# shellcheck source=bench/lib.sh
. bench/lib.sh

ROUNDS=5
ITERATIONS=30
ALLOW_LOAD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="${2:?--rounds needs a number}"; shift ;;
    --iterations) ITERATIONS="${2:?--iterations needs a number}"; shift ;;
    --allow-load) ALLOW_LOAD=1 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/compress_dynamic.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

SN="$ROOT/build/tools/supernova"
MODEL="$ROOT/build/assets/ocr/ch_PP-OCRv4_rec_infer.onnx"
KEYS="$ROOT/build/assets/ocr/ppocr_keys_v1.txt"
TEXT="$ROOT/build/assets/compress/text"
PEER="$ROOT/build/peer/node_modules/onnxruntime-node"
OUT="$ROOT/build/bench/compress_dynamic"
INPUT=(--preprocess paddle --size 48x320)
for need in "$SN" "$MODEL" "$KEYS" "$TEXT"; do
  [ -e "$need" ] || { echo "bench/compress_dynamic.sh: $need is missing" >&2; exit 1; }
done
mkdir -p "$OUT"

"$SN" compress "$MODEL" -o "$OUT/rec_dynamic.onnx" --dynamic-int8 --eval "$TEXT" "${INPUT[@]}" \
  --threads 2 --runs 60 >"$OUT/rec_dynamic.txt"
"$SN" compress "$MODEL" -o "$OUT/rec_dynamic_pc.onnx" --dynamic-int8 --per-channel \
  --eval "$TEXT" "${INPUT[@]}" --threads 2 --runs 60 >"$OUT/rec_dynamic_pc.txt"
FILES=("fp32=$MODEL" "dynamic=$OUT/rec_dynamic.onnx" "dynamic_per_column=$OUT/rec_dynamic_pc.onnx")

# The text folder holds scene photos, not cropped lines; the two rendered lines the tests read
# come first.
READS=("$ROOT/examples/text_line.png" "x=$ROOT/tests/data/models/ppocr_rec/input_0.pb"
       "$TEXT"/*)
echo "== greedy CTC text"
for input in "${READS[@]}"; do
  line="$(basename "$input")"
  args=(--input "$input")
  [[ "$input" == *.pb ]] || args+=("${INPUT[@]}")
  for pair in "${FILES[@]}"; do
    text="$("$SN" run "${pair#*=}" "${args[@]}" -o "$OUT/run" --decode ctc --labels "$KEYS" |
      sed -n 's/.*text: //p' | head -1)"
    line+=" | ${pair%%=*}: $text"
  done
  echo "$line"
done
for f in rec_dynamic rec_dynamic_pc; do
  echo "== $f: $(grep -E 'agreement|latency' "$OUT/$f.txt" | tr -s ' ' | tr '\n' ';')"
done

bench_wait_quiet bench/compress_dynamic.sh "$ALLOW_LOAD"
echo "== latency (load average $(bench_load1) at the start)"
RESULTS="$OUT/results.txt"
: >"$RESULTS"
for threads in 1 2; do
  for _ in $(seq 1 "$ROUNDS"); do
    for pair in "${FILES[@]}"; do
      name="${pair%%=*}" file="${pair#*=}"
      ms="$("$SN" bench "$file" --threads "$threads" --iterations "$ITERATIONS" --no-flops \
        --shape x=1x3x48x320 | python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')"
      echo "$threads supernova $name $ms" >>"$RESULTS"
      if [ -f "$PEER/package.json" ]; then
        ms="$(ORT_NODE_MODULE="$PEER" node bench/ort_bench.js "$file" --threads "$threads" \
          --iterations "$ITERATIONS" --shape x=1x3x48x320 --no-overhead |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')"
        echo "$threads onnxruntime $name $ms" >>"$RESULTS"
      fi
    done
  done
done
python3 - "$RESULTS" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    threads, runtime, name, ms = line.split()
    runs.setdefault((threads, runtime, name), []).append(float(ms))
for (threads, runtime, name), v in runs.items():
    print(f"{threads} thr  {runtime:12} {name:20} median {statistics.median(v):7.2f} ms  "
          f"(rounds: {' '.join(f'{x:.2f}' for x in v)})")
PY
echo "load average at the end: $(bench_load1)"
