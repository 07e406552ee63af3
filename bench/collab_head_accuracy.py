#!/usr/bin/env python3
"""How well a profile predicts a head's time (docs/collab.md).

    bench/collab_head_accuracy.py MODEL --shape NAME=d0,d1,... [--threads T] [--cuts K]
                                  [--rounds R] [--iterations N] [--attribution reference|macs]
                                  [--supernova PATH]

Profiles MODEL (`supernova profile`, no slowdown), takes K cuts spread evenly over the
candidates `supernova split` lists, writes the head of each (`--cut` those tensors) and times
it with `supernova bench`; the whole model is timed the same way. Each round times every file
once, one after another (interleaved, so that load from other work falls on all of them
alike); the table gives the median across rounds of each file's median, beside the edge_ms
the plan predicts for that cut (the sum of the profile's node times over the head's nodes).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: {out.stderr.strip()}")
    return out.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--shape", required=True, help="NAME=d0,d1,... of the input")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cuts", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--attribution", default="reference", help="profile --attribution")
    ap.add_argument("--supernova", default="build/tools/supernova")
    a = ap.parse_args()
    sn = a.supernova
    bench_shape = a.shape.replace(",", "x")
    with tempfile.TemporaryDirectory() as tmp:
        prof = os.path.join(tmp, "p.json")
        run([sn, "profile", a.model, "--threads", str(a.threads), "--shape", a.shape,
             "--iterations", str(a.iterations), "--attribution", a.attribution, "-o", prof])
        plan = json.loads(run([sn, "split", a.model, "-o", os.path.join(tmp, "all"),
                               "--edge-profile", prof, "--cloud-profile", prof,
                               "--link", "10,20", "--json"]))
        splits = [c for c in plan["candidates"] if c["kind"] == "split"]
        step = max(1, len(splits) // a.cuts)
        picked = splits[step // 2::step][:a.cuts]
        files = {"whole": (a.model, json.load(open(prof))["total_ms"])}
        for c in picked:
            d = os.path.join(tmp, f"cut{c['id']}")
            run([sn, "split", a.model, "-o", d, "--edge-profile", prof, "--cloud-profile", prof,
                 "--link", "10,20", "--cut", ",".join(c["tensors"])])
            files[f"cut {c['id']}"] = (os.path.join(d, "head.onnx"), c["edge_ms"])
        times = {k: [] for k in files}
        for _ in range(a.rounds):
            for k, (path, _) in files.items():
                r = json.loads(run([sn, "bench", path, "--threads", str(a.threads), "--shape",
                                    bench_shape, "--iterations", str(a.iterations),
                                    "--no-flops"]))
                times[k].append(r["median_ms"])
    print(f"{os.path.basename(a.model)} at {a.threads} thread(s), attribution {a.attribution}, "
          f"{len(splits)} split "
          f"candidates; medians of {a.rounds} rounds x {a.iterations} runs; "
          f"load average {os.getloadavg()[0]:.2f}")
    # The share of the whole run a head takes, predicted and measured, is what placing a cut
    # depends on; it is also robust to load that slows every run of a round alike.
    whole_pred = files["whole"][1]
    whole_meas = statistics.median(times["whole"])
    print(f"{'head':>10} {'nodes %':>8} {'predicted_ms':>13} {'measured_ms':>12} {'ratio':>6} "
          f"{'pred share':>10} {'meas share':>10}")
    ratios, shares = [], []
    n = len(plan["candidates"])
    for k, (path, predicted) in files.items():
        measured = statistics.median(times[k])
        where = 100.0 if k == "whole" else 100.0 * int(k.split()[1]) / (n - 1)
        ratio = predicted / measured if measured > 0 else float("nan")
        pshare, mshare = predicted / whole_pred, measured / whole_meas
        if k != "whole":
            ratios.append(abs(ratio - 1))
            shares.append(abs(pshare - mshare))
        print(f"{k:>10} {where:>7.0f}% {predicted:>13.3f} {measured:>12.3f} {ratio:>6.2f} "
              f"{pshare:>10.3f} {mshare:>10.3f}")
    print(f"heads: |predicted/measured - 1| median {statistics.median(ratios):.2f}, max "
          f"{max(ratios):.2f}; |predicted - measured share of the whole| median "
          f"{statistics.median(shares):.3f}, max {max(shares):.3f}")


if __name__ == "__main__":
    main()
