#!/usr/bin/env bash
# The project's link emulator against the kernel's: the cloud's `supernova serve` in a network
# namespace behind a veth pair shaped with tc, the edge runner outside it, every cut that
# `supernova split` wrote for the OCR classifier; then the same cuts over the loopback with
# `--emulate-link` at the same figures. Prints, per cut, the bytes, the predicted transfer
# (Link::TransferMs), and the median remote_ms of each (docs/collab.md, "Emulated links").
#
#   bench/netns_link.sh [--rate-mbit 10] [--rtt-ms 20] [--requests 10]     (needs root)
#
# tc netem gives the delay (RTT/2 each way) and the rate where the kernel has it; without
# netem (some VM kernels), tbf shapes the rate alone and the RTT is left at the veth's own.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=10
RTT=20
REQUESTS=10
while [ $# -gt 0 ]; do
  case "$1" in
    --rate-mbit) RATE="${2:?}"; shift ;;
    --rtt-ms) RTT="${2:?}"; shift ;;
    --requests) REQUESTS="${2:?}"; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/netns_link.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench/netns_link.sh: needs root (ip netns, tc)" >&2; exit 1; }
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
  echo "bench/netns_link.sh: needs ip and tc (iproute2)" >&2
  exit 1
fi

SN="$PWD/build/tools/supernova"
MODEL="$PWD/build/assets/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx"
INPUT="$PWD/tests/data/models/ppocr_cls/input_0.pb"
for f in "$SN" "$MODEL" "$INPUT"; do
  [ -e "$f" ] || { echo "bench/netns_link.sh: $f is missing (scripts/build.sh, scripts/fetch_models.sh)" >&2; exit 1; }
done
OUT="$PWD/build/bench/netns_link"
rm -rf "$OUT"
mkdir -p "$OUT"
NS="sn_cloud_$$"
VETH="snv$$"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$VETH-a" 2>/dev/null || true
}
trap cleanup EXIT

# The split, with an edge 10 times slower so that cuts between the ends are written out too.
"$SN" profile "$MODEL" --shape x=1,3,48,192 --threads 1 --slowdown 10 -o "$OUT/edge.json" >/dev/null
"$SN" profile "$MODEL" --shape x=1,3,48,192 --threads 1 -o "$OUT/cloud.json" >/dev/null
"$SN" split "$MODEL" -o "$OUT/split" --cut auto --edge-profile "$OUT/edge.json" \
  --cloud-profile "$OUT/cloud.json" --link "$RATE,$RTT" --edge-margin 0 >/dev/null

ip netns add "$NS"
ip link add "$VETH-a" type veth peer name "$VETH-b"
ip link set "$VETH-b" netns "$NS"
ip addr add 10.213.0.1/24 dev "$VETH-a"
ip link set "$VETH-a" up
ip netns exec "$NS" ip addr add 10.213.0.2/24 dev "$VETH-b"
ip netns exec "$NS" ip link set "$VETH-b" up
ip netns exec "$NS" ip link set lo up
HALF=$(awk -v r="$RTT" 'BEGIN { printf "%g", r / 2 }')
if tc qdisc add dev "$VETH-a" root netem delay "${HALF}ms" rate "${RATE}mbit" 2>/dev/null; then
  ip netns exec "$NS" tc qdisc add dev "$VETH-b" root netem delay "${HALF}ms" rate "${RATE}mbit"
  SHAPER="netem delay ${HALF}ms rate ${RATE}mbit each way"
  EMULATE="$RATE,$RTT"
else
  tc qdisc add dev "$VETH-a" root tbf rate "${RATE}mbit" burst 32kbit latency 400ms
  ip netns exec "$NS" tc qdisc add dev "$VETH-b" root tbf rate "${RATE}mbit" burst 32kbit latency 400ms
  SHAPER="tbf rate ${RATE}mbit each way (no netem in this kernel: no added delay)"
  EMULATE="$RATE,0.1"
fi

serve() {  # serve PREFIX...: the tails' repository on port 18501, waits until it is ready
  "$@" "$SN" serve --model-repository "$OUT/split/repository" --grpc-port 18501 --http-port -1 \
    --metrics-port -1 --threads-per-instance 1 2>"$OUT/serve.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q server_ready "$OUT/serve.log" && return 0
    sleep 0.1
  done
  echo "bench/netns_link.sh: the server did not start:" >&2
  cat "$OUT/serve.log" >&2
  exit 1
}
measure() {  # measure REMOTE TAG [FLAGS]: every materialized remote cut, REQUESTS requests each
  local remote="$1" tag="$2"
  shift 2
  local id
  for id in $(python3 -c 'import json,sys; print(" ".join(str(c["id"]) for c in json.load(open(sys.argv[1]))["candidates"] if c["materialized"] and c["kind"] != "edge_only"))' "$OUT/split/plan.json"); do
    "$SN" run -i "x=$INPUT" --split "$OUT/split" --remote "$remote" --cut "$id" --threads 1 \
      --compression none --requests "$REQUESTS" --json "$@" -o "$OUT/out" 2>/dev/null |
      sed "s/^{/{\"tag\": \"$tag\", /" >>"$OUT/records.jsonl"
  done
}

serve ip netns exec "$NS"
measure 10.213.0.2:18501 kernel
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
serve
measure 127.0.0.1:18501 emulated --emulate-link "$EMULATE"

python3 - "$OUT/split/plan.json" "$OUT/records.jsonl" "$SHAPER" "$EMULATE" "$RATE" "$RTT" <<'PY'
import json, statistics, sys
plan = json.load(open(sys.argv[1]))
rows = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
shaper, emulate, rate = sys.argv[3], sys.argv[4], float(sys.argv[5])
bw, rtt = (float(x) for x in emulate.split(","))
print(f"kernel: {shaper}; emulator: --emulate-link {emulate}; median remote_ms after the first request")
print(f"{'cut':>4} {'kind':>10} {'sent B':>8} {'back B':>7} {'predicted ms':>13} {'kernel ms':>10} {'emulated ms':>12}")
for c in plan["candidates"]:
    if not c["materialized"] or c["kind"] == "edge_only":
        continue
    pred = rtt + (c["sent_bytes"] + c["result_bytes"]) * 8 / (bw * 1e3)
    med = {}
    for tag in ("kernel", "emulated"):
        ms = [r["remote_ms"] for r in rows if r["tag"] == tag and r["candidate"] == c["id"]][1:]
        med[tag] = statistics.median(ms) if ms else float("nan")
    print(f"{c['id']:>4} {c['kind']:>10} {c['sent_bytes']:>8} {c['result_bytes']:>7} {pred:>13.1f} "
          f"{med['kernel']:>10.1f} {med['emulated']:>12.1f}")
PY
