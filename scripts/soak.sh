#!/usr/bin/env bash
# The server's soak (docs/server.md, "Soak and faults"): builds the soak driver and the server,
# then runs tests/soak/ against a real `supernova serve` on a temporary repository for
# --duration seconds (default 3600): well-formed HTTP and gRPC clients whose every answer is
# checked, hostile and slow clients, model loads and unloads, RSS and fds sampled, SIGTERM
# under load at the end. Prints JSON lines (requests by kind and outcome, the RSS and fd
# series, the shutdown, the verdict); exits non-zero on any failure. Loopback only.
#
#   scripts/soak.sh [--duration 3600] [--clients 2] [--pause-ms 5] [--slow-clients 2]
#
# CTest runs the same for 60 s (`ctest -L soak`). It takes about half a core; run it under
# `nice` beside other work.
set -euo pipefail
cd "$(dirname "$0")/.."
ARGS=(--duration 3600 --clients 2 --pause-ms 5)
while [ $# -gt 0 ]; do
  case "$1" in
    --duration|--clients|--pause-ms|--slow-clients) ARGS+=("$1" "${2:?$1 needs a value}"); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 1 ;;
  esac
  shift
done
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON >/dev/null
fi
cmake --build build -j 2 --target soak_driver supernova supernova-serve
exec build/tests/soak_driver "${ARGS[@]}"
