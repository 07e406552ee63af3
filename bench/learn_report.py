#!/usr/bin/env python3
"""The tables of bench/learn.sh (docs/learn.md) from its results.jsonl (one `supernova learn
eval --json` per backbone and set) and times.jsonl (the imprinted export in `supernova bench`
and ONNX Runtime, one line per round)."""
import argparse
import json
import statistics


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--times", required=True)
    p.add_argument("--command", default="bench/learn.sh")
    p.add_argument("--load", default="")
    p.add_argument("--allow-load", default="0")
    a = p.parse_args()
    every, times = load(a.results), load(a.times)
    # Accuracy and time come from the default rules' runs; refinement from both.
    results = [r for r in every if r.get("rules", "default") == "default"]
    out = []
    if a.allow_load == "1":
        out.append("**Not for publication: run with --allow-load at load average %s.**\n" % a.load)
    out.append("Command: `%s`\n" % a.command)

    out.append("### Few-shot accuracy (mean of %d draws; min-max)\n" %
               (results[0]["trials"] if results else 0))
    shots = sorted({r["shots"] for res in results for r in res["results"]})
    head = "| backbone | set | classes | test images | method | " + \
        " | ".join("%d-shot" % s for s in shots) + " |"
    out.append(head)
    out.append("|" + "---|" * (5 + len(shots)))
    for res in results:
        for method in ("prototype", "imprint"):
            cells = []
            for s in shots:
                r = next((r for r in res["results"] if r["shots"] == s and r["method"] == method),
                         None)
                acc = r["accuracy"] if r else None
                cells.append("%.3f (%.3f-%.3f)" % (acc["mean"], acc["min"], acc["max"])
                             if acc else "-")
            out.append("| %s | %s | %d | %d | %s | %s |" % (
                res["backbone"], res["set"], res["classes"], res["test_images"], method,
                " | ".join(cells)))

    refine_rows = [(res, r) for res in every for r in res.get("refine", [])]
    if refine_rows:
        out.append("\n### Online refinement (imprint; accuracy on the second half of the test "
                   "images, before and after the first half was offered unlabelled)\n")
        out.append("| backbone | set | rules | shots | before | after | offered | accepted | "
                   "accepted and right |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for res, r in refine_rows:
            out.append("| %s | %s | %s | %d | %.3f | %.3f | %.0f | %.1f | %.1f |" % (
                res["backbone"], res["set"], res.get("rules", "default"), r["shots"],
                r["before"], r["after"], r["offered"], r["accepted"], r["accepted_right"]))

    out.append("\n### Time (2 threads; medians)\n")
    out.append("| backbone | set | dim | add a class, 1 / 5 / 10 images (ms) | classify one image "
               "(ms) | embed, batched (ms/image) |")
    out.append("|---|---|---|---|---|---|")
    for res in results:
        adds = " / ".join("%.1f" % res["add_class_ms"].get(str(s), float("nan")) for s in shots)
        out.append("| %s | %s | %d | %s | %.2f | %.2f |" % (
            res["backbone"], res["set"], res["dim"], adds, res["classify_ms"],
            res["embed_ms_per_image_batched"]))

    if times:
        out.append("\n### The imprinted export (5 shots, every class of the set) in Supernova and "
                   "ONNX Runtime (batch 1, 2 threads, median of the rounds' medians)\n")
        out.append("| backbone | set | supernova ms | onnxruntime ms | onnxruntime net of binding "
                   "ms | ratio (ort net / ours) |")
        out.append("|---|---|---|---|---|---|")
        keys = []
        for t in times:
            if (t["backbone"], t["set"]) not in keys:
                keys.append((t["backbone"], t["set"]))
        for b, s in keys:
            rows = [t for t in times if t["backbone"] == b and t["set"] == s]
            ours = statistics.median(t["ours_ms"] for t in rows)
            ort = statistics.median(t["ort_ms"] for t in rows)
            nets = [t["ort_net_ms"] for t in rows if t["ort_net_ms"] is not None]
            net = statistics.median(nets) if nets else ort
            out.append("| %s | %s | %.2f | %.2f | %.2f | %.2f |" % (b, s, ours, ort, net,
                                                                    net / ours))
    print("\n".join(out))


if __name__ == "__main__":
    main()
