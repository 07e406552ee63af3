#!/usr/bin/env bash
# The whole test suite from a clean checkout: installs what it needs, builds the release tree
# (warnings are errors) and a clang tree of the core with AddressSanitizer,
# UndefinedBehaviorSanitizer and libFuzzer, then runs CTest on both: unit tests, ONNX's node
# conformance suite, real models against reference outputs, the command line, the fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
scripts/setup.sh
scripts/build.sh

# Sanitizer tree (clang): the core libraries' unit tests, the conformance suite, the stream's
# video sources and sinks (FFmpeg's and libmosquitto's C APIs: where lifetimes go wrong), and
# the fuzz targets: each replays its seeds and past crashes, then tries 2000 fuzzed inputs.
# clang rather than gcc for libFuzzer, and for UBSan's float-to-integer checks gcc lacks.
# Real models are too slow under ASan and run in the release tree.
# -O0 with line tables: 2.5x quicker to build on two cores than -O1 (the suite must stay under
# 35 minutes), fast enough to run, readable stacks.
# No cuda provider there: ASan and the CUDA driver do not get along, and nvcc takes no -fsanitize.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DSUPERNOVA_WERROR=ON -DSUPERNOVA_SANITIZE=ON \
  -DSUPERNOVA_FUZZ=ON -DSUPERNOVA_MODEL_TESTS=OFF -DSUPERNOVA_CUDA=OFF >/dev/null
cmake --build build-clang --target core_tests node_conformance server_core_tests \
  stream_tests video_tests sink_tests learn_tests stream_learn_tests fuzz_replay fuzzers

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}"
echo "== sanitizer build (clang, ASan + UBSan): core, conformance, stream, learn, fuzzers"
ctest --test-dir build-clang --output-on-failure -j "$JOBS" -L 'core|stream|learn|fuzz'
echo "== release build: all tests"
ctest --test-dir build --output-on-failure -j "$JOBS"
