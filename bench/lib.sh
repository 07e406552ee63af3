# shellcheck shell=bash
# Shared by the bench scripts (sourced, with the repository root as the
# working directory): the load gate, the release build of chosen targets, the ONNX Runtime peer,
# opencv-doc's sample clips.

# A timing taken while other work holds the cores measures the machine, not the runtimes: above
# this 1-minute load average the scripts refuse to run unless --allow-load is given, and then
# the report says it is not for publication.
BENCH_LOAD_LIMIT=0.5
ORT_VERSION=1.30.0

bench_load1() { cut -d' ' -f1 /proc/loadavg; }

bench_load_above_limit() { awk -v l="$1" -v m="$BENCH_LOAD_LIMIT" 'BEGIN { exit !(l > m) }'; }

# bench_load_gate SCRIPT ALLOW WHEN: exits 1 when the load is above the limit and ALLOW is not 1.
bench_load_gate() {
  local script="$1" allow="$2" when="$3" load
  load="$(bench_load1)"
  bench_load_above_limit "$load" || return 0
  if [ "$allow" = 1 ]; then
    echo "$script: load average $load $when (above $BENCH_LOAD_LIMIT): going on because of" \
      "--allow-load; the report will say it is not for publication" >&2
    return 0
  fi
  echo "$script: the 1-minute load average is $load $when, above $BENCH_LOAD_LIMIT: other work" \
    "is using the CPU and the figures would measure it. Run on a quiet machine, or pass" \
    "--allow-load for figures marked not for publication." >&2
  exit 1
}

# bench_wait_quiet SCRIPT ALLOW: after our own build, the load average takes a minute or two to
# decay; waits for it (up to BENCH_LOAD_WAIT seconds, default 300), then gates again.
bench_wait_quiet() {
  local script="$1" allow="$2" waited=0 limit="${BENCH_LOAD_WAIT:-300}"
  if [ "$allow" != 1 ]; then
    while bench_load_above_limit "$(bench_load1)" && [ "$waited" -lt "$limit" ]; do
      [ "$waited" = 0 ] && echo "$script: waiting for the load average to fall below" \
        "$BENCH_LOAD_LIMIT (now $(bench_load1), up to ${limit}s)"
      sleep 10
      waited=$((waited + 10))
    done
  fi
  bench_load_gate "$script" "$allow" "before measuring"
}

# bench_build JOBS TARGET...: the release tree in build/; targets that this configuration does
# not define (a peer whose library is missing) are skipped.
bench_build() {
  local jobs="$1"
  shift
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON >/dev/null
  local t targets
  # Read whole before grep: grep -q stops at its match, and ninja would die of SIGPIPE,
  # which pipefail makes the pipeline's status.
  targets="$(ninja -C build -t targets all 2>/dev/null)"
  for t in "$@"; do
    if grep -q -e "^$t:" -e "^bench/$t:" <<<"$targets"; then
      cmake --build build -j "$jobs" --target "$t"
    fi
  done
}

# bench_install_ort PEER_DIR: onnxruntime-node at ORT_VERSION under PEER_DIR/node_modules.
bench_install_ort() {
  local peer="$1" have
  command -v node >/dev/null 2>&1 || return 0
  have="$(node -p "try{require('$peer/node_modules/onnxruntime-node/package.json').version}catch(e){''}")"
  if [ "$have" != "$ORT_VERSION" ]; then
    # --ignore-scripts: the install script would fetch GPU binaries; the CPU library ships
    # in the package.
    npm install --silent --ignore-scripts --no-audit --no-fund --prefix "$peer" \
      "onnxruntime-node@$ORT_VERSION"
  fi
}

# bench_opencv_clips DIR: opencv-doc's sample videos in DIR, fetched once with `apt-get
# download` (no install): vtest.avi (768x576, 10 fps, 795 frames of pedestrians) and box.mp4
# and cup.mp4 (640x480 h264, hand-held objects; gzipped in the package's HTML folder).
bench_opencv_clips() {
  local dir="$1" tmp doc c
  [ -e "$dir/vtest.avi" ] && [ -e "$dir/box.mp4" ] && [ -e "$dir/cup.mp4" ] && return 0
  mkdir -p "$dir"
  tmp="$(mktemp -d /tmp/supernova-opencv-doc.XXXXXX)"
  (cd "$tmp" && apt-get download opencv-doc >/dev/null && dpkg -x opencv-doc_*.deb x)
  doc="$tmp/x/usr/share/doc/opencv-doc"
  # Through a temporary name: an interrupted copy never passes for a clip.
  cp "$doc/examples/data/vtest.avi" "$dir/.vtest.avi" && mv "$dir/.vtest.avi" "$dir/vtest.avi"
  for c in box cup; do
    gunzip -c "$doc/opencv4/html/$c.mp4.gz" >"$dir/.$c.mp4" && mv "$dir/.$c.mp4" "$dir/$c.mp4"
  done
  rm -rf "$tmp"
}
