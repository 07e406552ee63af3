#!/usr/bin/env python3
"""The table of bench/compress.sh: medians across rounds of every model, variant and runtime,
with the compress reports' sizes, MACs and agreement.

usage: compress_report.py OUT_DIR MACHINE LOADAVG QUIET(yes|no) COMMAND > report.md
"""
import json
import os
import statistics
import sys


def main():
    out, machine, load, quiet, command = sys.argv[1:6]
    runs = {}
    errors = []
    with open(os.path.join(out, "results.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            key = (r["name"], r["variant"], r["runtime"])
            if "error" in r:
                errors.append("%s %s %s: %s" % (key + (r["error"],)))
                continue
            ms = r["median_ms_net"] if r["runtime"] == "onnxruntime" and r["median_ms_net"] else r["median_ms"]
            runs.setdefault(key, []).append(ms)
    med = {k: statistics.median(v) for k, v in runs.items()}
    rounds = max((len(v) for v in runs.values()), default=0)

    def ms(name, variant, runtime):
        v = med.get((name, variant, runtime))
        return "%.2f" % v if v is not None else "-"

    def ratio(a, b):
        return "%.2fx" % (a / b) if a is not None and b else "-"

    names = sorted({k[0] for k in med}, key=lambda n: n)
    print("# Compression benchmark\n")
    if quiet != "yes":
        print("**Not for publication: the machine was busy (load average %s) when the timing "
              "started.**\n" % load)
    print("%s; 2 threads, batch 1; medians of %d rounds; load average %s at the start of the "
          "timing. `%s`\n" % (machine, rounds, load, command))
    print("ONNX Runtime's times are net of its binding (the Node.js call overhead measured on a "
          "model with next to no compute, as in docs/benchmark.md) and it runs the *same* files.\n")
    print("## int8 (static, QDQ)\n")
    print("| model | fp32 ms | int8 ms | speed-up | ORT fp32 ms | ORT int8 ms | int8: ours / ORT "
          "| size fp32 → int8 | agreement (images not calibrated on) | nodes kept float |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in names:
        rep_path = os.path.join(out, n + "_int8.json")
        rep = json.load(open(rep_path)) if os.path.exists(rep_path) else None
        f32 = med.get((n, "fp32", "supernova"))
        i8 = med.get((n, "int8", "supernova"))
        oi8 = med.get((n, "int8", "onnxruntime"))
        size = agree = floats = "-"
        if rep:
            size = "%.1f → %.1f MB" % (rep["file_bytes"]["before"] / 1e6, rep["file_bytes"]["after"] / 1e6)
            a = rep["agreement"]
            agree = "%s %.4f (%d)" % (a["measure"], a["value"], a["samples"])
            if "reference_boxes" in a:
                agree += ", boxes %d → %d" % (a["reference_boxes"], a["compressed_boxes"])
                if "unmatched_boxes" in a:
                    agree += ", %d unmatched (%d scored below %.2f)" % (
                        a["unmatched_boxes"], a["unmatched_weak_boxes"], a["weak_score"])
            floats = str(len(rep["float_nodes"]))
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, ms(n, "fp32", "supernova"), ms(n, "int8", "supernova"), ratio(f32, i8),
            ms(n, "fp32", "onnxruntime"), ms(n, "int8", "onnxruntime"), ratio(i8, oi8), size,
            agree, floats))
    pruned = [n for n in names if (n, "pruned", "supernova") in med]
    if pruned:
        print("\n## Channel pruning (30 %, L1) + folding\n")
        print("| model | MACs before → after | fp32 ms | pruned ms | latency cut | ORT pruned ms "
              "| size | agreement |")
        print("|---|---|---|---|---|---|---|---|")
        for n in pruned:
            rep = json.load(open(os.path.join(out, n + "_pruned.json")))
            f32 = med.get((n, "fp32", "supernova"))
            pr = med.get((n, "pruned", "supernova"))
            a = rep["agreement"]
            print("| %s | %.0f M → %.0f M (-%.0f %%) | %s | %s | %s | %s | %.1f → %.1f MB | %s %.4f |" % (
                n, rep["macs"]["before"] / 1e6, rep["macs"]["after"] / 1e6,
                100 * (1 - rep["macs"]["after"] / rep["macs"]["before"]),
                ms(n, "fp32", "supernova"), ms(n, "pruned", "supernova"),
                "%.0f %%" % (100 * (1 - pr / f32)) if pr and f32 else "-",
                ms(n, "pruned", "onnxruntime"), rep["file_bytes"]["before"] / 1e6,
                rep["file_bytes"]["after"] / 1e6, a["measure"], a["value"]))
    if errors:
        print("\n## Runs that failed\n")
        for e in errors:
            print("- " + e)


if __name__ == "__main__":
    main()
