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
# dpkg-shlibdeps looks the libraries up for the host architecture: the tree's, in a cross tree.
arch="$(sed -n 's/^set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "\(.*\)")$/\1/p' "$BUILD/CPackConfig.cmake")"
if [ -n "$arch" ] && [ "$arch" != "$(dpkg --print-architecture)" ]; then
  export DEB_HOST_ARCH="$arch"
  DEB_HOST_MULTIARCH="$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)"
  export DEB_HOST_MULTIARCH
fi
(cd "$BUILD" && cpack -G DEB -B "$PWD/packages" >/dev/null)
ls -l "$BUILD"/packages/*.deb
