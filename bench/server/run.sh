#!/usr/bin/env bash
# The inference server's benchmark (issue 5): infer req/s and p50/p99 latency over HTTP (wrk)
# and gRPC (bench/server/grpc_load), on the tiny model (`simple`) and on an ASSETS model (the
# PP-OCR text-orientation classifier, FP32 [1,3,48,192]), beside nginx serving a static
# response of the same size on the same machine in the same run, and the speedup dynamic
# batching gives at 32 concurrent clients.
#
#   bench/server/run.sh [--duration 10] [--quick]
#
# Needs the release build (scripts/build.sh: build/tools/supernova, build/bench/grpc_load,
# build/assets) and the benchmark packages (scripts/setup.sh --bench: wrk, nginx-light).
# Writes the tables to stdout and to build/bench/server.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
DURATION=10
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="${2:?}"; shift ;;
    --quick) DURATION=3 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_build 2 supernova supernova-serve grpc_load
SN="$ROOT/build/tools/supernova"
LOAD="$ROOT/build/bench/grpc_load"
CLS="$ROOT/build/assets/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx"
for f in "$SN" "$LOAD" "$CLS"; do
  [ -e "$f" ] || { echo "run.sh: missing $f (run scripts/build.sh)" >&2; exit 1; }
done
for tool in nginx wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool missing (scripts/setup.sh --bench)" >&2; exit 1; }
done
OUT="$ROOT/build/bench/server.md"
mkdir -p "$(dirname "$OUT")"

# shellcheck source=bench/server/common.sh
. "$ROOT/bench/server/common.sh"

# The repository: `simple`, and the orientation classifier twice: with dynamic batching
# (preferred 8/16/32, 2 ms window) and without (each request runs alone), one instance each.
REPO="$TMP/repo"
cp -r "$ROOT/examples/model_repository" "$REPO"
for m in text_orientation text_orientation_nobatch; do
  mkdir -p "$REPO/$m/1"
  ln -s "$CLS" "$REPO/$m/1/model.onnx"
  sed "s/name: \"text_orientation\"/name: \"$m\"/" "$ROOT/examples/text_orientation.config.pbtxt" \
    >"$REPO/$m/config.pbtxt"
done
python3 - "$REPO/text_orientation_nobatch/config.pbtxt" <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"dynamic_batching \{.*?\n\}\n", "", s, flags=re.S)
open(p, "w").write(s)
EOF
grep -q dynamic_batching "$REPO/text_orientation_nobatch/config.pbtxt" && {
  echo "run.sh: could not turn batching off" >&2; exit 1; }

read -r HTTP_PORT GRPC_PORT METRICS_PORT NGINX_PORT < <(free_ports 4)
"$SN" serve --model-repository "$REPO" --address 127.0.0.1 --http-port "$HTTP_PORT" \
  --grpc-port "$GRPC_PORT" --metrics-port "$METRICS_PORT" --max-queue-size 1024 \
  --log-level warning >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
for m in simple text_orientation text_orientation_nobatch; do
  wait_http "http://127.0.0.1:$HTTP_PORT/v2/models/$m/ready" || { cat "$TMP/serve.log" >&2; exit 1; }
done

# Request bodies (binary tensor extension) and Supernova's own answers, which nginx serves.
mkdir -p "$TMP/www"
python3 - "$TMP" <<'EOF'
import json, random, struct, sys
tmp = sys.argv[1]
def binary(name, inputs):
    header = json.dumps({"parameters": {"binary_data_output": True}, "inputs": [
        {"name": n, "shape": s, "datatype": d, "parameters": {"binary_data_size": len(b)}}
        for n, s, d, b in inputs]}, separators=(",", ":")).encode()
    open(f"{tmp}/{name}.body", "wb").write(header + b"".join(b for *_, b in inputs))
    open(f"{tmp}/{name}.hl", "w").write(str(len(header)))
binary("simple", [("INPUT0", [1, 16], "INT32", struct.pack("<16i", *range(16))),
                  ("INPUT1", [1, 16], "INT32", struct.pack("<16i", *[1] * 16))])
random.seed(1)
n = 3 * 48 * 192
binary("text_orientation", [("x", [1, 3, 48, 192], "FP32",
                             struct.pack(f"<{n}f", *[random.random() for _ in range(n)]))])
EOF
for m in simple text_orientation; do
  code="$(curl -s -o "$TMP/www/$m.out" -w '%{http_code}' \
    -H "Inference-Header-Content-Length: $(cat "$TMP/$m.hl")" \
    -H "Content-Type: application/octet-stream" --data-binary @"$TMP/$m.body" \
    "http://127.0.0.1:$HTTP_PORT/v2/models/$m/infer")"
  [ "$code" = 200 ] || { echo "run.sh: $m answered $code: $(cat "$TMP/www/$m.out")" >&2; exit 1; }
done
mkdir -p "$TMP/nginx"
sed -e "s|@PREFIX@|$TMP/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@ROOT@|$TMP/www|g" \
  -e "s|@WORKERS@|2|g" "$ROOT/bench/server/nginx.conf.in" >"$TMP/nginx/nginx.conf"
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$NGINX_PORT/simple.out" || { cat "$TMP/nginx/error.log" >&2; exit 1; }

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
wrk_run() {  # model url connections -> "req/s p50_ms p99_ms errors"
  BODY_FILE="$TMP/$1.body" HEADER_LENGTH="$(cat "$TMP/$1.hl")" \
    wrk -t 2 -c "$3" -d 2s -s "$ROOT/bench/server/infer.lua" "$2" >/dev/null
  local line
  line="$(BODY_FILE="$TMP/$1.body" HEADER_LENGTH="$(cat "$TMP/$1.hl")" \
    wrk -t 2 -c "$3" -d "${DURATION}s" -s "$ROOT/bench/server/infer.lua" "$2" | grep '^RESULT')"
  python3 -c "print(f'{$(field requests "$line") / $(field seconds "$line"):.0f}',
    f'{$(field p50_us "$line") / 1000:.2f}', f'{$(field p99_us "$line") / 1000:.2f}',
    $(field non2xx "$line") + $(field errors "$line"))"
}
grpc_run() {  # model concurrency -> "req/s p50_ms p99_ms errors"
  "$LOAD" --target "127.0.0.1:$GRPC_PORT" --model "$1" --concurrency "$2" \
    --duration "$DURATION" --warmup 2 --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(f\"{r['req_per_s']:.0f} {r['p50_ms']:.2f} {r['p99_ms']:.2f} {r['errors']}\")"
}

{
  echo "# Supernova server benchmark"
  echo
  echo "$(nproc) cores, $(date -u +%Y-%m-%d), ${DURATION} s per run after 2 s of warm-up;"
  echo "server and load generator share the machine. HTTP: wrk -t 2, binary tensor extension;"
  echo "gRPC: grpc_load (raw contents). nginx (2 workers) answers the same POST with a static"
  echo "file holding Supernova's own response bytes."
  echo
  echo "| model | protocol | clients | req/s | p50 ms | p99 ms | errors | nginx req/s | ratio |"
  echo "|---|---|---|---|---|---|---|---|---|"
} | tee "$OUT"
for m in simple text_orientation; do
  for c in 32; do
    read -r ng_rps ng_p50 ng_p99 ng_err < <(wrk_run "$m" "http://127.0.0.1:$NGINX_PORT/$m.out" "$c")
    read -r h_rps h_p50 h_p99 h_err < <(wrk_run "$m" "http://127.0.0.1:$HTTP_PORT/v2/models/$m/infer" "$c")
    read -r g_rps g_p50 g_p99 g_err < <(grpc_run "$m" "$c")
    ratio() { python3 -c "print(f'{$1 / $ng_rps:.2f}')"; }
    echo "| $m | nginx (static) | $c | $ng_rps | $ng_p50 | $ng_p99 | $ng_err | | |" | tee -a "$OUT"
    echo "| $m | HTTP | $c | $h_rps | $h_p50 | $h_p99 | $h_err | $ng_rps | $(ratio "$h_rps") |" | tee -a "$OUT"
    echo "| $m | gRPC | $c | $g_rps | $g_p50 | $g_p99 | $g_err | $ng_rps | $(ratio "$g_rps") |" | tee -a "$OUT"
  done
done
for c in 1 8; do
  read -r g_rps g_p50 g_p99 g_err < <(grpc_run simple "$c")
  echo "| simple | gRPC | $c | $g_rps | $g_p50 | $g_p99 | $g_err | | |" | tee -a "$OUT"
done

{
  echo
  echo "Dynamic batching, text_orientation over gRPC, one instance, same model and machine:"
  echo
  echo "| config | clients | req/s | p50 ms | p99 ms | errors | mean batch |"
  echo "|---|---|---|---|---|---|---|"
} | tee -a "$OUT"
mean_batch() {  # model -> inferences per execution so far
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | python3 -c "
import sys
v = {}
for line in sys.stdin:
    for k in ('nv_inference_count', 'nv_inference_exec_count'):
        if line.startswith(k + '{') and 'model=\"$1\"' in line:
            v[k] = float(line.split()[-1])
print(v['nv_inference_count'], v['nv_inference_exec_count'])"
}
declare -A batched_rps=()
for m in text_orientation_nobatch text_orientation; do
  for c in 1 32; do
    read -r n0 e0 < <(mean_batch "$m")
    read -r g_rps g_p50 g_p99 g_err < <(grpc_run "$m" "$c")
    read -r n1 e1 < <(mean_batch "$m")
    mb="$(python3 -c "print(f'{($n1 - $n0) / max(1, $e1 - $e0):.1f}')")"
    batched_rps[$m$c]="$g_rps"
    label="$([ "$m" = text_orientation ] && echo "dynamic batching (8/16/32, 2 ms)" || echo "no batching")"
    echo "| $label | $c | $g_rps | $g_p50 | $g_p99 | $g_err | $mb |" | tee -a "$OUT"
  done
done
speedup="$(python3 -c "print(f'{${batched_rps[text_orientation32]} / ${batched_rps[text_orientation_nobatch32]}:.2f}')")"
echo | tee -a "$OUT"
echo "Dynamic batching at 32 clients: ${speedup}x the requests per second of no batching." | tee -a "$OUT"
