#!/usr/bin/env bash
# Where an arm64 inference's instructions go, per execution provider, counted by qemu
# (docs/platforms.md, "Where the instructions go on arm64").
#
#   bench/arm64_icount.sh [--cpu cortex-a72] [--models face_resnet29,blazeface,...]
#                         [--providers 'cpu;opencv,cpu']
#
# Needs the arm64 tree (scripts/build_arm64.sh). For each model (tests/data/models/NAME: the
# model and its test input) and each provider list, `supernova run --threads 1` runs under
# bench/arm64_profile.py twice, with --repeat 1 and --repeat 3: half the difference is one
# inference's instructions, by library; the first count alone is the load and first run.
# qemu's CPU model defaults to cortex-a72 (NEON, no SVE: the edge boards' cores). Instruction
# counts are not times: they say where the work goes and how much of it a change removes.
# Report: build/bench/arm64_icount.md. The whole default run takes about 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMAND="bench/arm64_icount.sh $*"
CPU=cortex-a72
MODELS=face_resnet29,blazeface,ppocr_cls
PROVIDERS='cpu;opencv,cpu'
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) CPU="${2:?--cpu needs a qemu CPU model}"; shift ;;
    --models) MODELS="${2:?--models needs a list}"; shift ;;
    --providers) PROVIDERS="${2:?--providers needs lists separated by ;}"; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench/arm64_icount.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
BIN=build-arm64/tools/supernova
[ -x "$BIN" ] || { echo "bench/arm64_icount.sh: no $BIN: run scripts/build_arm64.sh first" >&2; exit 1; }
OUT=build/bench/arm64_icount
mkdir -p "$OUT"
SHARED="${SUPERNOVA_SHARED_MODELS_DIR:-../shared/models}"

model_path() {  # NAME -> the model file its manifest names
  python3 - "$1" "$SHARED" <<'PY'
import json, sys
name, shared = sys.argv[1], sys.argv[2]
m = json.load(open(f"tests/data/models/{name}/manifest.json"))
root = {"shared": shared, "assets": "build/assets", "data": "tests/data/models"}[m.get("model_root", "data")]
print(f"{root}/{m['model']}")
PY
}

IFS=',' read -r -a model_list <<<"$MODELS"
IFS=';' read -r -a provider_lists <<<"$PROVIDERS"
runs=()
for name in "${model_list[@]}"; do
  model="$(model_path "$name")"
  if [ ! -f "$model" ]; then
    echo "bench/arm64_icount.sh: $name skipped: no $model" >&2
    continue
  fi
  for providers in "${provider_lists[@]}"; do
    tag="${name}_${providers//,/-}"
    for repeat in 1 3; do
      echo "== $name, providers $providers, --repeat $repeat"
      IFS=',' read -r -a plist <<<"$providers"
      bench/arm64_profile.py --cpu "$CPU" --top 8 --json "$OUT/${tag}_$repeat.json" -- \
        "$BIN" run "$model" -i "tests/data/models/$name/input_0.pb" -o "$OUT/out_$tag" \
        --threads 1 --providers "${plist[@]}" --repeat "$repeat"
    done
    runs+=("$name|$providers|$OUT/${tag}_1.json|$OUT/${tag}_3.json")
  done
done

python3 - "$COMMAND" "$CPU" "${runs[@]}" >build/bench/arm64_icount.md <<'PY'
import json, sys
command, cpu, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
def group(name):
    if name.startswith("libdnnl"): return "oneDNN"
    if name.startswith("libopencv"): return "OpenCV"
    if name.startswith("libsupernova") or name.startswith("supernova"): return "Supernova"
    return "other"
print(f"Instructions per inference under qemu-aarch64 -cpu {cpu}, 1 kernel thread "
      f"(`{command}`): half the difference of `supernova run --repeat 3` and `--repeat 1`.\n")
print("| model | providers | load + first run | one inference | oneDNN | OpenCV | Supernova | other |")
print("|---|---|---|---|---|---|---|---|")
for run in runs:
    name, providers, one, three = run.split("|")
    a, b = json.load(open(one)), json.load(open(three))
    per = (b["total"] - a["total"]) / 2
    groups = {}
    for f in set(a["files"]) | set(b["files"]):
        g = group(f)
        groups[g] = groups.get(g, 0) + (b["files"].get(f, 0) - a["files"].get(f, 0)) / 2
    share = lambda g: f"{100 * groups.get(g, 0) / per:.1f} %" if per > 0 else "-"
    print(f"| {name} | {providers} | {a['total'] / 1e6:,.0f} M | {per / 1e6:,.1f} M | "
          f"{share('oneDNN')} | {share('OpenCV')} | {share('Supernova')} | {share('other')} |")
PY
cat build/bench/arm64_icount.md
