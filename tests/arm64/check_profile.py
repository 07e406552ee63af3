#!/usr/bin/env python3
"""bench/arm64_profile.py on the arm64 `supernova` running PP-OCR's direction classifier:
the counts must be charged to the libraries and the functions the run went through.

    check_profile.py SOURCE_DIR SUPERNOVA_BINARY ASSETS_DIR

Exits 77 (skipped) without the classifier (scripts/fetch_models.sh puts it in ASSETS_DIR/ocr).
"""
import json
import os
import subprocess
import sys
import tempfile

source, binary, assets = sys.argv[1:4]
model = os.path.join(assets, "ocr", "ch_ppocr_mobile_v2.0_cls_infer.onnx")
if not os.path.isfile(model):
    print(f"skipped: no {model} (scripts/fetch_models.sh fetches it)")
    sys.exit(77)
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "profile.json")
    run = subprocess.run(
        [os.path.join(source, "bench", "arm64_profile.py"), "--top", "5", "--json", out, "--",
         binary, "run", model, "-i", os.path.join(source, "tests/data/models/ppocr_cls/input_0.pb"),
         "-o", tmp, "--threads", "1"],
        capture_output=True, text=True, check=False)
    print(run.stdout)
    print(run.stderr, file=sys.stderr)
    if run.returncode != 0:
        sys.exit(f"the profiled run failed ({run.returncode})")
    profile = json.load(open(out))
    # The run's own output: the classifier's answer file is there.
    if not os.path.isfile(os.path.join(tmp, "output_0.pb")):
        sys.exit("the profiled program wrote no output")

total = profile["total"]
files = profile["files"]
functions = {(f["file"], f["function"]): f["instructions"] for f in profile["functions"]}
failures = []
if total < 10_000_000:
    failures.append(f"only {total} instructions counted for a load and a run")
for library in ("libsupernova.so.0.1", "libdnnl.so.2", "libc.so.6", "supernova"):
    if files.get(library, 0) <= 0:
        failures.append(f"nothing charged to {library}: {sorted(files)}")
unmapped = sum(n for name, n in files.items() if name.startswith("["))
if unmapped > total * 0.2:
    failures.append(f"{unmapped} of {total} instructions in no file the program mapped")
if sum(functions.values()) + unmapped != total:
    failures.append("the functions' counts do not add up to the total")
# Functions of our library by name (it is not stripped): the session's run and the weights'
# packing for oneDNN's convolutions.
ours = [name for (lib, name), n in functions.items() if lib == "libsupernova.so.0.1" and n > 0]
for wanted in ("supernova::cpu::dnnl_ops::PackWeights", "supernova::runtime::"):
    if not any(wanted in name for name in ours):
        failures.append(f"no function of libsupernova named like {wanted}")
if failures:
    sys.exit("\n".join(failures))
print(f"ok: {total:,} instructions, {len(functions)} functions")
