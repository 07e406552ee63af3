#!/usr/bin/env bash
# Cross-builds Supernova for aarch64 in build-arm64/ and runs its tests under qemu-user
# (docs/platforms.md): installs what it needs (scripts/setup.sh --arm64), configures with
# cmake/toolchains/aarch64-linux-gnu.cmake (Release, warnings are errors, no cuda), builds, runs
# CTest through qemu-aarch64 and prints passed/failed/skipped per label, then makes the arm64
# .deb packages and runs their server under qemu.
# Tests that cannot pass under qemu-user for a reason outside the code are listed, each with
# its reason, in tests/arm64_excluded.txt; any other failure fails this script.
# Usage: scripts/build_arm64.sh [ctest args...], e.g. -L 'core|models' to run some labels only.
# JOBS (default: the cores) sets the build's and CTest's parallelism; SUPERNOVA_SHARED_MODELS_DIR
# the project's shared models (default: ../shared/models beside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
BUILD=build-arm64
scripts/setup.sh --arm64

cmake_args=(-S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUPERNOVA_WERROR=ON
            -DSUPERNOVA_CUDA=OFF -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake)
[ -n "${SUPERNOVA_SHARED_MODELS_DIR:-}" ] &&
  cmake_args+=(-DSUPERNOVA_SHARED_MODELS_DIR="$SUPERNOVA_SHARED_MODELS_DIR")
cmake "${cmake_args[@]}" >/dev/null
cmake --build "$BUILD" -j "$JOBS"

# The models and images the tests read, where the release tree keeps them: the release tree's
# own if it has fetched them (scripts/build.sh), else fetched here. They are data, the same for
# both architectures.
if [ ! -e "$BUILD/assets" ]; then
  if [ -d build/assets ]; then
    ln -s ../build/assets "$BUILD/assets"
  else
    scripts/fetch_models.sh "$BUILD/assets"
  fi
fi

# The excluded tests as one CTest regular expression (file: NAME  # reason; a NAME that ends in
# * stands for every test whose name starts with what comes before it).
exclude=$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' tests/arm64_excluded.txt |
  sed -e 's/[][().+?^$|\\]/\\&/g' -e 's/\*$/.*/' | paste -sd '|')
exclude_args=()
[ -n "$exclude" ] && exclude_args=(-E "^(${exclude})\$")

status=0
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout 1200 "${exclude_args[@]}" \
  --output-junit arm64_results.xml "$@" || status=$?

# The counts per label, from CTest's JUnit report and its list of tests with their labels.
ctest --test-dir "$BUILD" --show-only=json-v1 >"$BUILD/arm64_tests.json"
python3 - "$BUILD/arm64_tests.json" "$BUILD/arm64_results.xml" tests/arm64_excluded.txt <<'EOF'
import collections, json, re, sys
import xml.etree.ElementTree as ET

tests = json.load(open(sys.argv[1]))["tests"]
# Two test programs may register the same name (the server's confinement tests are in two):
# each name keeps the labels of all its tests, handed out in turn.
labels = collections.defaultdict(list)
for t in tests:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    labels[t["name"]].append(props.get("LABELS", []) or ["(none)"])
status = []
for case in ET.parse(sys.argv[2]).getroot().iter("testcase"):
    s = case.get("status", "run")
    if case.find("skipped") is not None or s in ("disabled", "notrun"):
        s = "skipped"
    elif case.find("failure") is not None or case.find("error") is not None or s == "fail":
        s = "failed"
    else:
        s = "passed"
    status.append((case.get("name"), s))
patterns = [re.sub(r"#.*", "", line).strip() for line in open(sys.argv[3])]
patterns = [p for p in patterns if p]
def is_excluded(name):
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)
excluded = [name for name in labels if is_excluded(name)]
counts = collections.defaultdict(collections.Counter)
turn = collections.Counter()
for name, s in status:
    ways = labels.get(name) or [["(none)"]]
    for label in ways[turn[name] % len(ways)]:
        counts[label][s] += 1
    turn[name] += 1
n_excluded = 0
for name in excluded:
    for way in labels[name]:
        n_excluded += 1
        for label in way:
            counts[label]["excluded"] += 1
print("arm64 (qemu-aarch64) results per label (a test with two labels counts in both):")
print(f"  {'label':<12}{'passed':>8}{'failed':>8}{'skipped':>9}{'excluded':>10}")
for label in sorted(counts):
    c = counts[label]
    print(f"  {label:<12}{c['passed']:>8}{c['failed']:>8}{c['skipped']:>9}{c['excluded']:>10}")
total = collections.Counter(s for _, s in status)
print(f"  {'all':<12}{total['passed']:>8}{total['failed']:>8}{total['skipped']:>9}"
      f"{n_excluded:>10}")
EOF
# The arm64 Debian packages (docs/deploy.md), and the packaged server under qemu: unpacked as
# it ships, it must answer the bundled model exactly.
echo "== arm64 packages"
scripts/package.sh "$BUILD" || status=1
tests/package/deb_serve_extracted.sh "$BUILD"/packages/supernova_*_arm64.deb qemu-aarch64 -L / ||
  status=1

exit "$status"
