#!/usr/bin/env bash
# The Debian packages supernova and supernova-dev (docs/deploy.md) of a built tree, for its
# architecture: scripts/package.sh [BUILD_DIR] (default build/, which it builds first with
# scripts/build.sh when it is not there; build-arm64/ gives the arm64 packages). The .deb files
# land in BUILD_DIR/packages.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
[ -f "$BUILD/CPackConfig.cmake" ] || scripts/build.sh
cmake --build "$BUILD"
(cd "$BUILD" && cpack -G DEB -B "$PWD/packages" >/dev/null)
ls -l "$BUILD"/packages/*.deb
