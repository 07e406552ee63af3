#!/usr/bin/env bash
# Supernova's HTTP front end beside nginx on the same machine, in the same run.
#
#   bench/server/run_http.sh [--duration 10s] [--connections "32 64"] [--wrk-threads 2]
#                            [--http-threads 2] [--nginx-workers N] [--variants "json binary"]
#                            [--supernova build/tools/supernova]
#
# Starts `supernova serve` on the bundled repository (examples/model_repository) and nginx
# (Debian's nginx-light) on 127.0.0.1, nginx answering the same POST with a static file holding
# the very bytes of Supernova's answer (so both send and receive the same sizes). Then wrk posts
# the `simple` model's request (INT32 [1,16] + [1,16] -> sum and difference) for a fixed
# duration, JSON and binary tensor extension, at each connection count, Supernova and nginx one
# after the other (never at once), each after a short warm-up. Prints req/s, p50 and p99
# latency for both, the server's CPU time per request (user + system of its processes: robust
# to other load on the machine, unlike req/s) and Supernova's share of nginx's req/s (the
# goal: >= 0.5).
# nginx runs --nginx-workers worker processes (default: --http-threads, Supernova's I/O threads).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

DURATION=10s
CONNECTIONS="32 64"
WRK_THREADS=2
HTTP_THREADS=2
NGINX_WORKERS=""
VARIANTS="json binary"
SUPERNOVA="$ROOT/build/tools/supernova"
WARMUP=2s
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="${2:?}"; shift ;;
    --connections) CONNECTIONS="${2:?}"; shift ;;
    --wrk-threads) WRK_THREADS="${2:?}"; shift ;;
    --http-threads) HTTP_THREADS="${2:?}"; shift ;;
    --nginx-workers) NGINX_WORKERS="${2:?}"; shift ;;
    --variants) VARIANTS="${2:?}"; shift ;;
    --supernova) SUPERNOVA="${2:?}"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run_http.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
NGINX_WORKERS="${NGINX_WORKERS:-$HTTP_THREADS}"

for tool in nginx wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "run_http.sh: $tool is not installed" >&2; exit 1; }
done
[ -x "$SUPERNOVA" ] || { echo "run_http.sh: no $SUPERNOVA (ninja -C build supernova)" >&2; exit 1; }

# shellcheck source=bench/server/common.sh
. "$ROOT/bench/server/common.sh"
read -r HTTP_PORT GRPC_PORT METRICS_PORT NGINX_PORT < <(free_ports 4)

# ---- Supernova ----
"$SUPERNOVA" serve --model-repository "$ROOT/examples/model_repository" \
  --address 127.0.0.1 --http-port "$HTTP_PORT" --grpc-port "$GRPC_PORT" \
  --metrics-port "$METRICS_PORT" --http-threads "$HTTP_THREADS" --log-level warning \
  >"$TMP/serve.log" 2>&1 &
SUPERNOVA_PID=$!
PIDS+=($SUPERNOVA_PID)
wait_http "http://127.0.0.1:$HTTP_PORT/v2/health/ready" || { cat "$TMP/serve.log" >&2; exit 1; }

# ---- the requests, and Supernova's answers as nginx's static files ----
mkdir -p "$TMP/www"
BINARY_HEADER_LENGTH="$(python3 - "$TMP" <<'EOF'
import json, struct, sys
tmp = sys.argv[1]
in0 = list(range(16))
in1 = [1] * 16
req = {"inputs": [
    {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": in0},
    {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32", "data": in1}]}
open(f"{tmp}/json.body", "w").write(json.dumps(req, separators=(",", ":")))
header = json.dumps({
    "parameters": {"binary_data_output": True},
    "inputs": [
        {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32",
         "parameters": {"binary_data_size": 64}},
        {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32",
         "parameters": {"binary_data_size": 64}}]}, separators=(",", ":")).encode()
open(f"{tmp}/binary.body", "wb").write(header + struct.pack("<16i", *in0) + struct.pack("<16i", *in1))
print(len(header))
EOF
)"

header_length_of() {  # variant
  if [ "$1" = binary ]; then echo "$BINARY_HEADER_LENGTH"; else echo ""; fi
}

for variant in $VARIANTS; do
  hl="$(header_length_of "$variant")"
  extra=()
  [ -n "$hl" ] && extra=(-H "Inference-Header-Content-Length: $hl" -H "Content-Type: application/octet-stream")
  code="$(curl -s -o "$TMP/www/$variant.out" -w '%{http_code}' "${extra[@]}" \
    --data-binary @"$TMP/$variant.body" "http://127.0.0.1:$HTTP_PORT/v2/models/simple/infer")"
  [ "$code" = 200 ] || { echo "run_http.sh: $variant infer answered $code" >&2; exit 1; }
done

# ---- nginx ----
mkdir -p "$TMP/nginx"
sed -e "s|@PREFIX@|$TMP/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@ROOT@|$TMP/www|g" \
  -e "s|@WORKERS@|$NGINX_WORKERS|g" "$ROOT/bench/server/nginx.conf.in" >"$TMP/nginx/nginx.conf"
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" &
NGINX_PID=$!
PIDS+=($NGINX_PID)
for variant in $VARIANTS; do
  wait_http "http://127.0.0.1:$NGINX_PORT/$variant.out" || { cat "$TMP/nginx/error.log" >&2; exit 1; }
  size="$(curl -s -o /dev/null -w '%{size_download}' --data-binary @"$TMP/$variant.body" \
    "http://127.0.0.1:$NGINX_PORT/$variant.out")"
  [ "$size" = "$(stat -c %s "$TMP/www/$variant.out")" ] || {
    echo "run_http.sh: nginx answers a POST with $size bytes" >&2; exit 1; }
done

# ---- wrk ----
run_wrk() {  # variant connections url duration -> RESULT line
  BODY_FILE="$TMP/$1.body" HEADER_LENGTH="$(header_length_of "$1")" \
    wrk -t "$WRK_THREADS" -c "$2" -d "$4" -s "$ROOT/bench/server/infer.lua" "$3" | grep '^RESULT'
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
# CPU time (user + system, clock ticks) of processes and their children processes' threads:
# the server's own cost per request, which other load on the machine does not change much.
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") ))
  done
  echo "$total"
}
TICKS_PER_S="$(getconf CLK_TCK)"

echo "# Supernova HTTP vs nginx: model 'simple' (INT32 [1,16] x 2), $(nproc) cores, wrk -t $WRK_THREADS -d $DURATION"
echo "# supernova --http-threads $HTTP_THREADS; nginx worker_processes $NGINX_WORKERS; response bytes:" \
  "$(for v in $VARIANTS; do printf '%s=%s ' "$v" "$(stat -c %s "$TMP/www/$v.out")"; done)"
printf '%-7s %5s  %-9s %10s %9s %9s %11s %7s  %s\n' variant conns server req/s p50_us p99_us \
  cpu_us/req errors ratio
for variant in $VARIANTS; do
  for c in $CONNECTIONS; do
    declare -A rps=()
    for server in supernova nginx; do
      if [ "$server" = supernova ]; then
        url="http://127.0.0.1:$HTTP_PORT/v2/models/simple/infer"
        pid="$SUPERNOVA_PID"
      else
        url="http://127.0.0.1:$NGINX_PORT/$variant.out"
        pid="$NGINX_PID"
      fi
      run_wrk "$variant" "$c" "$url" "$WARMUP" >/dev/null
      before="$(cpu_ticks "$pid")"
      line="$(run_wrk "$variant" "$c" "$url" "$DURATION")"
      after="$(cpu_ticks "$pid")"
      requests="$(field requests "$line")"
      seconds="$(field seconds "$line")"
      rps[$server]="$(python3 -c "print(round($requests / $seconds))")"
      errors=$(( $(field non2xx "$line") + $(field errors "$line") ))
      cpu_us="$(python3 -c "print(f'{($after - $before) / $TICKS_PER_S * 1e6 / $requests:.1f}')")"
      ratio=""
      if [ "$server" = nginx ]; then
        ratio="$(python3 -c "print(f'{${rps[supernova]} / ${rps[nginx]}:.2f}')")"
      fi
      printf '%-7s %5s  %-9s %10s %9s %9s %11s %7s  %s\n' "$variant" "$c" "$server" \
        "${rps[$server]}" "$(field p50_us "$line")" "$(field p99_us "$line")" "$cpu_us" "$errors" \
        "$ratio"
    done
  done
done
