#!/usr/bin/env bash
# The web console end to end (issue 21): starts the real `supernova-serve` of BUILD_DIR on
# 127.0.0.1 with a copy of the bundled model repository, an inference and an admin token and a
# live stream of a clip ffmpeg draws (a white square moving on black) through the squares
# detector, then
# drives the page in headless Chromium (tests/console/console_e2e.js) and stops the server
# with SIGTERM, which must exit 0 within 10 s. Screenshots and the server's log go to
# ARTIFACT_DIR.
#
#   tests/console/run_console_e2e.sh BUILD_DIR ARTIFACT_DIR
#
# Exit 77 (CTest's skip) only when Debian's chromium or puppeteer-core (scripts/build.sh
# installs it in BUILD_DIR/browser; $PUPPETEER_MODULE overrides) is missing; anything else
# missing is a failure.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR ARTIFACT_DIR" >&2
  exit 2
fi
BUILD="$(cd "$1" && pwd)"
mkdir -p "$2"
ARTIFACTS="$(cd "$2" && pwd)"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
PUPPETEER_MODULE="${PUPPETEER_MODULE:-$BUILD/browser/node_modules/puppeteer-core}"
export PUPPETEER_MODULE

if [ ! -x /usr/bin/chromium ]; then
  echo "SKIP: /usr/bin/chromium is not installed (scripts/setup.sh installs Debian's chromium)"
  exit 77
fi
if [ ! -f "$PUPPETEER_MODULE/package.json" ]; then
  echo "SKIP: puppeteer-core is not in $PUPPETEER_MODULE (scripts/build.sh installs it)"
  exit 77
fi
for tool in node ffmpeg "$BUILD/tools/supernova-serve" "$BUILD/tests/squares_model"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: $tool is missing"
    exit 1
  fi
done

WORK="$(mktemp -d /tmp/supernova-console.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -f "$WORK/server.log" ]; then cp "$WORK/server.log" "$ARTIFACTS/server.log"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  if [ -f "$WORK/server.log" ]; then
    echo "--- the server's log (last 40 lines)"
    tail -n 40 "$WORK/server.log"
  fi
  exit 1
}

# The clip: 10 s of a white 40 px square on black at 25 fps, the recipe of
# tests/stream/video/test_media.cc's MovingClip, but moving to and fro on a sine that ends where
# and how it starts: it stays in the frame the whole time, and --stream-loop replays it without
# a jump, so the tracker keeps the square as track 1 (whose colour the test looks for).
ffmpeg -loglevel error -y -f lavfi -i color=black:s=320x240:r=25 \
  -f lavfi -i color=white:s=40x40:r=25 \
  -filter_complex "[0][1]overlay=x='140+120*sin(2*PI*t/10)':y=60:shortest=1" \
  -frames:v 250 -c:v libx264 -pix_fmt yuv420p "$WORK/clip.mp4" ||
  fail "ffmpeg could not make the clip"
# The detector of those squares (tests/stream/squares.h): input pixels / 255, CenterNet-style.
"$BUILD/tests/squares_model" "$WORK/squares.onnx" 320 240 40 ||
  fail "squares_model could not write the detector"
# A copy of the repository: the test unloads and loads `simple`, never in the checkout.
cp -r "$SRC/examples/model_repository" "$WORK/repo"
# Two tokens: with the inference token the page shows everything and may act on nothing, which
# is what read-only means; with only an admin token every read would need that one.
(
  umask 077
  for t in infer admin; do od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$WORK/$t.token"; done
)
chmod 600 "$WORK/infer.token" "$WORK/admin.token"

# Port 0: the kernel picks a free port; the server says which in its server_ready log line.
# The squares model takes pixels / 255 and scores a centred square 1 (check_edgex.py runs it so).
"$BUILD/tools/supernova-serve" --model-repository "$WORK/repo" --http-port 0 \
  --grpc-port -1 --metrics-port -1 --infer-token-file "$WORK/infer.token" \
  --admin-token-file "$WORK/admin.token" \
  --stream-model "$WORK/squares.onnx" --stream-scale 0.00392157 --stream-score-threshold 0.5 \
  --stream "clip=$WORK/clip.mp4" --stream-loop 2>"$WORK/server.log" &
SERVER_PID=$!

PORT=""
for _ in $(seq 300); do
  kill -0 "$SERVER_PID" 2>/dev/null || fail "supernova-serve exited before it was ready"
  PORT="$(grep -m1 '"event":"server_ready"' "$WORK/server.log" |
    sed -n 's/.*"http_port":"\([0-9]*\)".*/\1/p')" || true
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || fail "no server_ready line with an http_port in 30 s"
URL="http://127.0.0.1:$PORT"

ready() {
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "$URL/v2/health/ready"
}
for _ in $(seq 100); do
  ready && break
  sleep 0.2
done
ready || fail "$URL/v2/health/ready did not answer 200 in 20 s"
echo "server ready on $URL"

status=0
timeout 90 node "$SRC/tests/console/console_e2e.js" "$URL" "$ARTIFACTS" "$WORK/infer.token" \
  "$WORK/admin.token" "$WORK/clip.mp4" || status=$?

kill -TERM "$SERVER_PID"
exited=""
for _ in $(seq 100); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    exited=1
    break
  fi
  sleep 0.1
done
[ -n "$exited" ] || fail "supernova-serve still running 10 s after SIGTERM"
server_status=0
wait "$SERVER_PID" || server_status=$?
SERVER_PID=""
[ "$server_status" -eq 0 ] || fail "supernova-serve exited $server_status after SIGTERM"
echo "ok   server.sigterm: supernova-serve exited 0 after SIGTERM"

if [ "$status" -eq 77 ]; then exit 77; fi
[ "$status" -eq 0 ] || fail "the browser test failed (exit $status); screenshots in $ARTIFACTS"
echo "console e2e passed; screenshots in $ARTIFACTS"
