#!/usr/bin/env bash
# The long fuzzing campaign (fuzz/README.md): configures and builds the clang tree build-fuzz/
# (libFuzzer, ASan, UBSan), then runs each fuzz target for SECONDS (default 600) from its
# committed seeds plus richer inputs the repository or the machine has (the test photos under
# build/assets for image_decode, the bundled model repository's configs for model_config, the
# built-in profiles for profile_json).
# New inputs go to build-fuzz/fuzz-work/<target>/corpus, crashes to .../artifacts; the script
# fails when any target found one.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (no TARGET: every target)
#   e.g. scripts/fuzz.sh 3600 image_decode grpc_infer
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
[ $# -gt 0 ] && shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^supernova_fuzzer(\([a-z0-9_]*\).*/\1/p' fuzz/CMakeLists.txt)
fi

# clang-14 and its runtime libraries (libFuzzer, the sanitizers), where missing.
scripts/setup.sh --only clang-14 libclang-rt-14-dev

launcher=()
command -v ccache >/dev/null 2>&1 &&
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# -O1: the fuzzers run several times faster than at -O0 and ASan still sees every access.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DSUPERNOVA_WERROR=ON -DSUPERNOVA_SANITIZE=ON \
  -DSUPERNOVA_FUZZ=ON -DSUPERNOVA_MODEL_TESTS=OFF -DSUPERNOVA_CUDA=OFF "${launcher[@]}" >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build build-fuzz --target "${build_targets[@]}"

# Extra starting inputs kept outside fuzz/corpus (too large, fetched, or files of their own), in
# the form each target reads: image_decode's first byte picks its options, model_config's its
# syntax.
extra_seeds() {
  local target="$1" dir="build-fuzz/fuzz-work/$1/extra"
  rm -rf "$dir"
  mkdir -p "$dir"
  case "$target" in
    image_decode)
      local i=0 f
      # The photos under 200 KB: a larger one takes most of a second to decode under ASan.
      for f in build/assets/images/*.jpg; do
        if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" -ge 200000 ]; then continue; fi
        { printf '%b' "\\$(printf %03o $((i * 41 % 256)))"; cat "$f"; } >"$dir/$(basename "$f")"
        i=$((i + 1))
      done
      ;;
    profile_json) cp profiles/*.json "$dir"/ ;;
    model_config)
      local f
      for f in examples/model_repository/*/config.pbtxt; do
        [ -f "$f" ] || continue
        { printf '\0'; cat "$f"; } >"$dir/$(basename "$(dirname "$f")").pbtxt"
      done
      ;;
  esac
  echo "$dir"
}

failed=()
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${seconds}s"
  work="build-fuzz/fuzz-work/$t"
  extra="$(extra_seeds "$t")"
  dirs=(fuzz/corpus/"$t")
  [ -d fuzz/regressions/"$t" ] && dirs+=(fuzz/regressions/"$t")
  if ! fuzz/run_fuzzer.sh "build-fuzz/fuzz/fuzz_$t" "$work" "$seconds" "${dirs[@]}" "$extra" \
    >"$work/log.txt" 2>&1; then
    failed+=("$t")
    echo "fuzz: $t FOUND A CRASH: $work/log.txt, input in $work/artifacts/"
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$work/log.txt" | tr '\n' ' '
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}: minimize with the fuzzer's -minimize_crash=1, fix, and" \
    "add the input to fuzz/regressions/<target>/"
  exit 1
fi
echo "fuzz: no crash in ${targets[*]}"
