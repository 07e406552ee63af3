#!/usr/bin/env bash
# The main job on its embedded defaults: sets up, builds, and starts the inference server on
# the bundled model repository (examples/model_repository, plus the PP-OCR text-orientation
# classifier from the fetched models), with Triton's ports: HTTP 8000, gRPC 8001, metrics 8002.
# Stop it with Ctrl-C (or SIGTERM): requests in flight finish first. Extra arguments go to
# `supernova serve` (e.g. --http-port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Only what serve needs: the server, the runtime and its plugins (the tests wait for test.sh).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON >/dev/null
cmake --build build --target supernova supernova-serve supernova_plugins
scripts/fetch_models.sh build/assets

REPO=build/model_repository
rm -rf "$REPO"
cp -r examples/model_repository "$REPO"
mkdir -p "$REPO/text_orientation/1"
ln -s "$(pwd)/build/assets/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" \
  "$REPO/text_orientation/1/model.onnx"
cp examples/text_orientation.config.pbtxt "$REPO/text_orientation/config.pbtxt"
cp examples/orientation_labels.txt "$REPO/text_orientation/labels.txt"

cat <<'USAGE'
== supernova serve: try it from another shell
  curl localhost:8000/v2/health/ready -i
  curl localhost:8000/v2/models/simple
  curl localhost:8000/v2/models/simple/infer -d '{"inputs":[
    {"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},
    {"name":"INPUT1","datatype":"INT32","shape":[1,16],"data":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}'
  curl localhost:8002/metrics
  open http://localhost:8000/console/ in a browser: the web console (docs/console.md)
USAGE
exec build/tools/supernova serve --model-repository "$REPO" "$@"
