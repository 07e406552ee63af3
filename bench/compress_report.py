#!/usr/bin/env python3
"""The table of bench/compress.sh: medians across rounds of every model, variant and runtime,
with the compress reports' sizes, MACs and agreement. A ratio of two timings is the median of
the rounds' own ratios: the two were timed seconds apart in each round, where the medians of
the rounds may come from minutes apart.

usage: compress_report.py OUT_DIR MACHINE LOADAVG QUIET(yes|no) COMMAND [MIN_MS] > report.md
"""
import json
import os
import statistics
import sys


def main():
    out, machine, load, quiet, command = sys.argv[1:6]
    min_ms = sys.argv[6] if len(sys.argv) > 6 else None
    runs = {}
    by_round = {}
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
            by_round[key + (r["round"],)] = ms
    med = {k: statistics.median(v) for k, v in runs.items()}
    rounds = max((len(v) for v in runs.values()), default=0)

    def ms(name, variant, runtime):
        v = med.get((name, variant, runtime))
        return "%.2f" % v if v is not None else "-"

    def round_ratios(a, b):
        """a / b of each round that timed both keys."""
        return [by_round[a + (k,)] / by_round[b + (k,)] for k in range(1, rounds + 1)
                if a + (k,) in by_round and by_round.get(b + (k,))]

    def ratio(a, b):
        v = round_ratios(a, b)
        return "%.2fx" % statistics.median(v) if v else "-"

    def cut(a, b):
        v = round_ratios(a, b)
        return "%.0f %%" % (100 * (1 - statistics.median(v))) if v else "-"

    names = sorted({k[0] for k in med}, key=lambda n: n)
    print("# Compression benchmark\n")
    if quiet != "yes":
        print("**Not for publication: the machine was busy (load average %s) when the timing "
              "started.**\n" % load)
    print("%s; 2 threads, batch 1; medians of %d rounds%s; ratios: the median of the rounds' "
          "own; load average %s at the start of the timing. `%s`\n" % (
              machine, rounds, ", each measurement at least %s ms of runs" % min_ms if min_ms else "",
              load, command))
    print("ONNX Runtime's times are net of its binding (the Node.js call overhead measured on a "
          "model with next to no compute, as in docs/benchmark.md) and it runs the *same* files.\n")
    print("## int8 (static, QDQ)\n")
    print("| model | fp32 ms | int8 ms | speed-up | ORT fp32 ms | ORT int8 ms | int8: ours / ORT "
          "| size fp32 → int8 | agreement (images not calibrated on) | nodes kept float |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in names:
        rep_path = os.path.join(out, n + "_int8.json")
        rep = json.load(open(rep_path)) if os.path.exists(rep_path) else None
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
            n, ms(n, "fp32", "supernova"), ms(n, "int8", "supernova"),
            ratio((n, "fp32", "supernova"), (n, "int8", "supernova")),
            ms(n, "fp32", "onnxruntime"), ms(n, "int8", "onnxruntime"),
            ratio((n, "int8", "supernova"), (n, "int8", "onnxruntime")), size,
            agree, floats))
    pruned = [n for n in names if (n, "pruned", "supernova") in med]
    if pruned:
        print("\n## Channel pruning (30 %, L1) + folding\n")
        print("| model | MACs before → after | fp32 ms | pruned ms | latency cut | ORT pruned ms "
              "| size | agreement |")
        print("|---|---|---|---|---|---|---|---|")
        for n in pruned:
            rep = json.load(open(os.path.join(out, n + "_pruned.json")))
            a = rep["agreement"]
            print("| %s | %.0f M → %.0f M (-%.0f %%) | %s | %s | %s | %s | %.1f → %.1f MB | %s %.4f |" % (
                n, rep["macs"]["before"] / 1e6, rep["macs"]["after"] / 1e6,
                100 * (1 - rep["macs"]["after"] / rep["macs"]["before"]),
                ms(n, "fp32", "supernova"), ms(n, "pruned", "supernova"),
                cut((n, "pruned", "supernova"), (n, "fp32", "supernova")),
                ms(n, "pruned", "onnxruntime"), rep["file_bytes"]["before"] / 1e6,
                rep["file_bytes"]["after"] / 1e6, a["measure"], a["value"]))
    if errors:
        print("\n## Runs that failed\n")
        for e in errors:
            print("- " + e)


if __name__ == "__main__":
    main()
