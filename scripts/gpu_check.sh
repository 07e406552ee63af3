#!/usr/bin/env bash
# The cuda provider's checks in one go, for a machine with an NVIDIA GPU: configure and build
# (Release, warnings are errors, machine code for sm_90 unless --arch says otherwise), run the
# cuda tests, the cross-provider harness and the real models on cuda,cpu, then time a few
# models on cpu and on cuda,cpu, interleaved, and print a compact summary. It needs no network:
# the models come from an assets folder laid out as scripts/fetch_models.sh makes it
# (ocr/, blazeface/), which the caller copies along. ../shared/models (--shared-models) adds
# centernet and face_resnet29 where it is; it lies outside the repository, so a caller that
# sends the checkout alone copies what it wants of it into an ignored folder and names that.
#
#   scripts/gpu_check.sh [--build-dir DIR] [--no-build] [--assets DIR] [--shared-models DIR]
#                        [--arch 90-real] [--cudnn DIR] [--threads N] [--iterations K]
#                        [--rounds R] [--out DIR]
#
# Building needs the project's dependencies (scripts/setup.sh installs them), the CUDA toolkit
# and cuDNN; --no-build uses a tree built elsewhere instead (same processor, and its libraries
# there: missing ones are named). --cudnn names a cuDNN outside the toolkit's folders
# (DIR/include/cudnn.h, DIR/lib/libcudnn.so*); without it the toolkit's, then Python's
# nvidia-cudnn package, are used. --out DIR receives summary.txt and the logs. Exit status 0
# when nothing failed (without a GPU the device checks skip, and the summary says so), else 1.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build-gpu
BUILD_IT=1
ASSETS=build/assets
SHARED=../shared/models
ARCH=90-real
CUDNN=""
THREADS=$(nproc)
ITERATIONS=50
ROUNDS=3
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --assets) ASSETS=$2; shift 2 ;;
    --shared-models) SHARED=$2; shift 2 ;;
    --arch) ARCH=$2; shift 2 ;;
    --cudnn) CUDNN=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --iterations) ITERATIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check: unknown argument $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
ASSETS=$(cd "$ASSETS" 2>/dev/null && pwd) || { echo "gpu_check: no assets folder" >&2; exit 2; }
LOGS=$(mktemp -d)
[ -n "$OUT" ] && mkdir -p "$OUT" && LOGS=$(cd "$OUT" && pwd)
SUMMARY="$LOGS/summary.txt"
: >"$SUMMARY"
FAILED=0
say() { echo "$*" | tee -a "$SUMMARY"; }

# ---- the machine ----
GPU=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  GPU=1
  say "device    $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
else
  say "device    none (nvidia-smi finds no GPU): the device tests skip, the result says so"
fi
say "host      $(nproc) cores; benchmarks with --threads $THREADS, batch 1, $ITERATIONS iterations, $ROUNDS interleaved rounds"

# ---- configure and build ----
if [ "$BUILD_IT" = 1 ]; then
  if [ -z "$CUDNN" ] && [ ! -e /usr/local/cuda/include/cudnn.h ]; then
    # Python's nvidia-cudnn wheel, where the toolkit has none (it ships libcudnn.so.9 only).
    CUDNN=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' \
      2>/dev/null || true)
  fi
  args=(-DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON "-DCMAKE_CUDA_ARCHITECTURES=$ARCH"
        "-DSUPERNOVA_ASSETS_DIR=$ASSETS")
  command -v ninja >/dev/null && args+=(-G Ninja)
  command -v ccache >/dev/null && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache
                                         -DCMAKE_C_COMPILER_LAUNCHER=ccache
                                         -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  [ -d "$SHARED" ] && args+=("-DSUPERNOVA_SHARED_MODELS_DIR=$(cd "$SHARED" && pwd)")
  if [ -n "$CUDNN" ]; then
    lib=$(find "$CUDNN/lib" -maxdepth 1 -name 'libcudnn.so*' | sort | head -1)
    args+=("-DCUDNN_INCLUDE_DIR=$CUDNN/include" "-DCUDNN_LIBRARY=$lib")
  fi
  if ! cmake -S . -B "$BUILD" "${args[@]}" >"$LOGS/configure.log" 2>&1; then
    say "configure FAIL ($LOGS/configure.log); the project's build dependencies must be installed"
    say "          (scripts/setup.sh lists them), or build elsewhere and pass --no-build"
    tail -20 "$LOGS/configure.log"
    exit 1
  fi
  say "configure $(grep -o 'cuda provider: .*' "$LOGS/configure.log" || echo 'cuda provider: ?')"
  grep -q 'cuda provider: skipped' "$LOGS/configure.log" && { tail -5 "$LOGS/configure.log"; exit 1; }
  start=$(date +%s)
  if ! cmake --build "$BUILD" -j "$(nproc)" --target supernova supernova_provider_cuda \
      cuda_tests core_tests model_tests >"$LOGS/build.log" 2>&1; then
    say "build     FAIL ($LOGS/build.log)"
    grep -m 20 -E 'error|Error' "$LOGS/build.log" || tail -20 "$LOGS/build.log"
    exit 1
  fi
  say "build     ok in $(( $(date +%s) - start )) s"
fi
SN="$BUILD/tools/supernova"
PLUGIN="$BUILD/lib/supernova/supernova_provider_cuda.so"
for f in "$SN" "$PLUGIN" "$BUILD/tests/cuda_tests"; do
  [ -e "$f" ] || { say "missing   $f (build it, or drop --no-build)"; exit 1; }
  if ldd "$f" | grep -q 'not found'; then
    say "libraries missing for $f: $(ldd "$f" | grep 'not found' | awk '{print $1}' | tr '\n' ' ')"
    FAILED=1
  fi
done

# ---- tests ----
# Runs ctest with the given selection; one summary line: passed, failed, skipped. Skipped tests
# are named. With a GPU present, a skipped test matching MUST_RUN (a regex) fails the section:
# it means the device was there but not usable.
run_tests() {  # LABEL LOGNAME MUST_RUN CTEST_ARGS...
  local label=$1 log="$LOGS/$2.log" must_run=$3
  shift 3
  local rc=0
  ctest --test-dir "$BUILD" --output-on-failure -j 4 "$@" >"$log" 2>&1 || rc=$?
  local line total failed skipped
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
  if [ -z "$line" ]; then
    say "$(printf '%-15s' "$label") FAIL: no tests ran ($log)"
    FAILED=1
    return
  fi
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  skipped=$(grep -cE '^\s+[0-9]+ - .*\(Skipped\)$' "$log" || true)
  local verdict=PASS
  if [ "$rc" != 0 ] || [ "$failed" != 0 ]; then
    verdict=FAIL
    FAILED=1
  elif [ "$GPU" = 1 ] && grep -E '^\s+[0-9]+ - .*\(Skipped\)$' "$log" | grep -qE "$must_run"; then
    verdict="FAIL (device tests skipped on a GPU machine)"
    FAILED=1
  fi
  say "$(printf '%-15s %s: %d passed, %d failed, %d skipped of %d' "$label" "$verdict" \
    $((total - failed - skipped)) "$failed" "$skipped" "$total")"
  if [ "$skipped" != 0 ]; then
    grep -E '^\s+[0-9]+ - .*\(Skipped\)$' "$log" | sed -E 's/^\s+[0-9]+ - /                  skipped: /' |
      head -5 | tee -a "$SUMMARY"
  fi
  [ "$failed" != 0 ] && grep -E '^\s+[0-9]+ - .*\(Failed\)' "$log" | head -10 | tee -a "$SUMMARY"
  return 0
}
run_tests "cuda tests" cuda 'CudaOpsTest|CudaSessionTest|CudaConvPlansTest' -L cuda
run_tests "cross-provider" cross_provider 'ProvidersWithoutTheirDevice' -R CrossProvider
say "                  cases run on cuda: $(grep -cE 'Test +#[0-9]+: .*/cuda_.* Passed' \
  "$LOGS/cross_provider.log" || true)"
# The shared models (centernet, face_resnet29) skip where ../shared/models is not; the assets'
# must be there.
run_tests "real models" real_models 'CudaWithCpuFallback.*/(blazeface|ppocr_)' \
  -R 'RealModel\.CudaWithCpuFallback'

# ---- benchmarks ----
# The median of the numbers on stdin ("fail" lines left out), or "-" when there are none.
median() {
  awk '$1 != "fail"' | sort -g |
    awk '{v[NR] = $1} END {if (NR) printf "%.3f\n", v[int((NR + 1) / 2)]; else print "-"}'
}

bench_one() {  # PROVIDERS MODEL EXTRA... -> median_ms or "fail"
  local providers=$1 model=$2
  shift 2
  local json
  if json=$("$SN" bench "$model" --threads "$THREADS" --batch 1 --iterations "$ITERATIONS" \
      --warmup 5 --no-flops --providers "$providers" "$@" 2>>"$LOGS/bench.log"); then
    echo "$json" >>"$LOGS/bench.log"
    grep -o '"median_ms":[0-9.e+-]*' <<<"$json" | cut -d: -f2
  else
    echo fail
  fi
}

say ""
say "$(printf '%-12s %10s %10s %8s  %s' model 'cpu ms' 'cuda ms' speedup 'where cuda,cpu runs')"
bench_model() {  # NAME MODEL EXTRA...
  local name=$1 model=$2
  shift 2
  if [ ! -e "$model" ]; then
    say "$(printf '%-12s %s' "$name" "missing: $model")"
    return
  fi
  local placement
  placement=$("$SN" info --providers cuda,cpu "$model" 2>&1 |
    grep -E 'not available here|^placement' | head -1 | sed -E 's/^placement +//; s/^ *note: //' |
    cut -c1-90)
  local cpu=() gpu=() r
  for ((r = 0; r < ROUNDS; r++)); do
    cpu+=("$(bench_one cpu "$model" "$@")")
    gpu+=("$(bench_one cuda,cpu "$model" "$@")")
  done
  local c g
  c=$(printf '%s\n' "${cpu[@]}" | median)
  g=$(printf '%s\n' "${gpu[@]}" | median)
  case " ${cpu[*]} ${gpu[*]} " in *" fail "*) FAILED=1 ;; esac
  local speedup=-
  [ "$c" != - ] && [ "$g" != - ] && speedup=$(awk -v c="$c" -v g="$g" 'BEGIN {printf "%.2fx", c / g}')
  # Without the device both columns are the cpu: no speedup to speak of.
  case "$placement" in *"not available"*) speedup=n/a ;; esac
  say "$(printf '%-12s %10s %10s %8s  %s' "$name" "$c" "$g" "$speedup" "$placement")"
}
bench_model ppocr_cls "$ASSETS/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" --shape x=Nx3x48x192
bench_model ppocr_det "$ASSETS/ocr/ch_PP-OCRv4_det_infer.onnx" --shape x=Nx3x640x640
bench_model blazeface "$ASSETS/blazeface/face_detection_front_128x128_barracuda.onnx"
bench_model centernet "$SHARED/centernet_mbv3_coco_512.onnx"
say "(ms: median over $ROUNDS rounds, cpu and cuda,cpu alternating, of each run's median)"

say ""
say "logs      $LOGS"
if [ "$FAILED" != 0 ]; then
  say "result    FAIL"
elif [ "$GPU" = 0 ]; then
  say "result    PASS without a GPU: the device checks were skipped"
else
  say "result    PASS"
fi
exit "$FAILED"
