#!/usr/bin/env bash
# Installs the build tree into a temporary prefix and uses it as another project would:
# the files are where they should be, a program builds against the CMake package and against
# the pkg-config file and runs a model, and the installed command line finds its plugins.
#   tests/install/check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD="$1"
SRC="$2"
PREFIX="$(mktemp -d)"
WORK="$(mktemp -d)"
trap 'rm -rf "$PREFIX" "$WORK"' EXIT
MODEL="$SRC/examples/model_repository/simple/1/model.onnx"

cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
LIBDIR="$PREFIX/lib"
[ -d "$LIBDIR" ] || LIBDIR="$(dirname "$(find "$PREFIX" -name 'libsupernova.so' | head -1)")"
for f in bin/supernova bin/supernova-serve bin/supernova-stream bin/supernova-collab \
  include/supernova/session.h \
  include/supernova/tensor.h include/supernova/status.h include/supernova/optimization.h \
  include/supernova/version.h; do
  [ -e "$PREFIX/$f" ] || { echo "missing after install: $f"; exit 1; }
done
for f in libsupernova.so cmake/Supernova/SupernovaConfig.cmake \
  cmake/Supernova/SupernovaConfigVersion.cmake pkgconfig/supernova.pc; do
  [ -e "$LIBDIR/$f" ] || { echo "missing after install: lib/$f"; exit 1; }
done
# The plugins this build made, in the plugin directory beside the library.
for p in "$BUILD"/lib/supernova/supernova_*.so; do
  [ -e "$p" ] || continue
  [ -e "$LIBDIR/supernova/$(basename "$p")" ] || { echo "plugin not installed: $p"; exit 1; }
done
# Internal headers stay internal.
if [ -d "$PREFIX/include/ir" ] || [ -d "$PREFIX/include/runtime" ]; then
  echo "internal headers installed"; exit 1
fi

echo "== CMake package"
cmake -S "$SRC/tests/install/consumer" -B "$WORK/cmake" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/cmake" >/dev/null
"$WORK/cmake/consumer" "$MODEL"

echo "== pkg-config"
flags="$(PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --cflags --libs supernova)"
# shellcheck disable=SC2086
c++ -std=c++20 "$SRC/tests/install/consumer/main.cc" -o "$WORK/consumer_pc" $flags \
  -Wl,-rpath,"$LIBDIR"
"$WORK/consumer_pc" "$MODEL"

echo "== installed command line"
"$PREFIX/bin/supernova" --version
out="$("$PREFIX/bin/supernova" info --providers opencv,cpu "$MODEL" 2>&1)"
if [ -e "$LIBDIR/supernova/supernova_provider_opencv.so" ]; then
  # The installed runtime opens the installed plugin (no note that it is missing).
  if grep -q "unavailable" <<<"$out"; then echo "$out"; exit 1; fi
  grep -q "^providers  opencv, cpu" <<<"$out" || { echo "$out"; exit 1; }
fi
# Read whole before grep: grep -q stops at its match, and the writer would die of SIGPIPE
# under pipefail once the help outgrows what the pipe takes at once.
help="$("$PREFIX/bin/supernova" serve --help)"
grep -q -- "--model-repository" <<<"$help"
echo "install: ok"
