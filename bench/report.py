#!/usr/bin/env python3
"""Records benchmark results and writes the report of bench/run.sh (stdlib only).

  report.py record --run-id ID --name NAME --runtime R --batch B --threads T [--round K]
                   --rc N --stdout FILE --stderr FILE   appends one JSON line to stdout
  report.py report --results results.jsonl --run-id ID --out report.md

A recorded line is the runtime's own JSON object (keys in docs/benchmark.md) with the run's
coordinates added: run_id, name, runtime, batch, threads (as requested), round, exit_code,
and status: "ok", "n/a" (exit 2: the model has a fixed batch), "error" or "timeout". The
report takes, per configuration, the medians across its rounds.
"""
import argparse
import json
import math
import sys

RUNTIMES = ["supernova", "onnxruntime", "opencv_dnn"]
LABELS = {"supernova": "Supernova", "onnxruntime": "ONNX Runtime", "opencv_dnn": "OpenCV DNN"}


def last_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1][:300] if lines else ""


def record(a):
    out = open(a.stdout, encoding="utf-8", errors="replace").read()
    err = open(a.stderr, encoding="utf-8", errors="replace").read()
    obj = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                pass
    rc = a.rc
    if rc == 0 and "error" not in obj and obj.get("median_ms") is not None:
        status = "ok"
    elif rc == 2:
        status = "n/a"
    elif rc in (124, 137):
        status = "timeout"
    else:
        status = "error"
    if status != "ok" and not obj.get("error"):
        obj["error"] = last_line(err) or last_line(out) or "exit code %d" % rc
    if status == "timeout":
        obj["error"] = "timed out"
    if "runtime" in obj and obj["runtime"] != a.runtime:
        obj["runtime_reported"] = obj["runtime"]
    obj.update({"run_id": a.run_id, "name": a.name, "runtime": a.runtime, "batch": a.batch,
                "threads": a.threads, "round": a.round, "exit_code": rc, "status": status})
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")


def fmt(v, digits=2):
    if v is None:
        return "–"
    if isinstance(v, float) and v != 0 and abs(v) < 10 ** -digits:
        return "%.2g" % v
    return "%.*f" % (digits, v)


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    if not xs:
        return None, 0
    return math.exp(sum(math.log(x) for x in xs) / len(xs)), len(xs)


def cell(row, key, digits=2):
    if row is None:
        return "–"
    if row["status"] != "ok":
        return None
    return fmt(row.get(key), digits)


def status_text(row):
    if row is None:
        return "not run"
    if row["status"] == "n/a":
        return "n/a (fixed batch)"
    reason = str(row.get("error", "")).replace("|", "/").replace("\n", " ")
    if len(reason) > 90:
        reason = reason[:90] + "…"
    return "%s: %s" % (row["status"], reason)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


# Keys whose value in the report is the median over a configuration's rounds.
ROUND_KEYS = ("median_ms", "p90_ms", "mean_ms", "min_ms", "max_ms", "peak_rss_mb",
              "baseline_rss_mb", "peak_rss_net_mb", "load_ms", "open_ms", "first_run_ms",
              "arena_peak_mb", "binding_overhead_ms", "binding_overhead_p90_ms",
              "median_ms_paired", "median_ms_net")


def aggregate(rounds):
    """One row for a configuration's rounds: medians across the rounds that succeeded."""
    oks = [r for r in rounds if r["status"] == "ok"]
    for r in oks:  # results of ort_bench.js before it reported the net figure itself
        if r.get("peak_rss_net_mb") is None and r.get("baseline_rss_mb") is not None:
            r["peak_rss_net_mb"] = r["peak_rss_mb"] - r["baseline_rss_mb"]
    if not oks:
        return dict(rounds[0], rounds=len(rounds), rounds_ok=0)
    a = dict(oks[0])
    for k in ROUND_KEYS:
        vs = [r[k] for r in oks if r.get(k) is not None]
        a[k] = median(vs) if vs else None
    # Supernova counts FLOPs in its first round only; the peers are given that count.
    a["gflop"] = next((r["gflop"] for r in rounds if r.get("gflop") is not None), None)
    m = a["median_ms"]
    a["throughput_per_s"] = int(a["batch"]) * 1000.0 / m if m else None
    a["gflops_achieved"] = a["gflop"] / (m / 1000.0) if a["gflop"] is not None and m else None
    a["round_medians"] = [r["median_ms"] for r in oks]
    a["rounds"] = len(rounds)
    a["rounds_ok"] = len(oks)
    failed = [r for r in rounds if r["status"] != "ok"]
    if failed:
        a["round_failure"] = status_text(failed[0])
    return a


def rss_for_ratio(r):
    """The runtime's own memory: for ONNX Runtime, peak minus Node.js's baseline."""
    if r is None or r["status"] != "ok":
        return None
    net = r.get("peak_rss_net_mb")
    return net if net is not None else r.get("peak_rss_mb")


def loaded(meta):
    limit = float(meta.get("load_limit", 0.5))
    loads = [meta.get(k) for k in ("loadavg", "loadavg_measure")]
    return [float(x) for x in loads if x not in (None, "?")], limit


def report(a):
    rows, meta, peaks, end = [], {}, {}, {}
    with open(a.results, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("run_id") != a.run_id:
                continue
            kind = r.get("kind")
            if kind == "meta":
                meta = r
            elif kind == "end":
                end = r
            elif kind == "peak":
                if r.get("gflops"):
                    peaks[int(r["threads"])] = r["gflops"]
            else:
                rows.append(r)

    groups = {}
    names = []
    for r in rows:
        if r["name"] not in names:
            names.append(r["name"])
        groups.setdefault((r["name"], int(r["batch"]), int(r["threads"]), r["runtime"]),
                          []).append(r)
    by = {k: aggregate(v) for k, v in groups.items()}
    combos_of = {n: sorted({(k[1], k[2]) for k in by if k[0] == n}) for n in names}

    def ok(r):
        return r is not None and r["status"] == "ok"

    def get(r, key):
        return r.get(key) if ok(r) else None

    out = []
    w = out.append
    w("# Supernova benchmark report")
    w("")
    loads, limit = loaded(meta)
    if any(x > limit for x in loads):
        w("> **Not for publication.** Taken on a loaded machine: 1-minute load average %s "
          "(limit %s), run with `--allow-load`. Other work shared the CPU, so these figures "
          "measure the machine as much as the runtimes. Rerun on a quiet machine." %
          (" at the start, ".join("%.2f" % x for x in loads) +
           (" when measuring" if len(loads) > 1 else ""), limit))
        w("")
    w("Run `%s`. %s" % (a.run_id, meta.get("machine", "")))
    w("")
    if meta:
        w("- command: `%s`" % meta.get("command", ""))
        w("- timed iterations %s after %s warm-up runs, in %s interleaved round%s per "
          "configuration (Supernova, ONNX Runtime, OpenCV DNN in turn); figures are medians "
          "across rounds" % (meta.get("iterations"), meta.get("warmup"), meta.get("rounds", 1),
                             "" if meta.get("rounds", 1) == 1 else "s"))
        w("- 1-minute load average: %s at the start, %s when measuring began, %s at the end "
          "(the end figure includes the benchmark's own last runs)" %
          (meta.get("loadavg", "?"), meta.get("loadavg_measure", "?"),
           end.get("loadavg_end", "?")))
        versions = {}
        for r in rows:
            if r.get("version") and r["runtime"] != "supernova":
                versions[r["runtime"]] = r["version"]
        if versions:
            w("- peers: " + ", ".join("%s %s" % (LABELS[k], v) for k, v in sorted(versions.items())))
    if peaks:
        w("- measured f32 peak (oneDNN sgemm 2048³): " +
          ", ".join("%d thread%s %.1f GFLOP/s" % (t, "" if t == 1 else "s", g)
                    for t, g in sorted(peaks.items())))
    else:
        w("- measured f32 peak: not available (peak_gflops not built: libdnnl-dev)")
    w("")
    w("Latencies are per inference of the whole batch, in ms; ratios are Supernova ÷ peer "
      "(below 1: Supernova is faster or smaller). ONNX Runtime runs under Node.js: its "
      "\"net\" latency has the binding's per-call overhead taken off (the median time of a "
      "model with the same inputs and outputs and no compute, its calls alternating with the "
      "real model's in the same process), and its "
      "RSS in the ratios is its peak minus Node.js's own (the baseline before the module "
      "loads). See docs/benchmark.md.")
    w("")

    # Summary: batch 1, 2 threads.
    series = {k: [] for k in ("lat_ort", "lat_ort_net", "rss_ort", "lat_cv", "rss_cv")}
    for n in names:
        s = by.get((n, 1, 2, "supernova"))
        o = by.get((n, 1, 2, "onnxruntime"))
        c = by.get((n, 1, 2, "opencv_dnn"))
        series["lat_ort"].append(ratio(get(s, "median_ms"), get(o, "median_ms")))
        series["lat_ort_net"].append(ratio(get(s, "median_ms"), get(o, "median_ms_net")))
        series["rss_ort"].append(ratio(rss_for_ratio(s), rss_for_ratio(o)))
        series["lat_cv"].append(ratio(get(s, "median_ms"), get(c, "median_ms")))
        series["rss_cv"].append(ratio(rss_for_ratio(s), rss_for_ratio(c)))

    def gm(key):
        g, k = geomean(series[key]) if key else (None, 0)
        return "%s (%d models)" % (fmt(g), k) if g else "–"

    w("## Summary (batch 1, 2 threads)")
    w("")
    w("| geometric mean over models | vs ONNX Runtime | vs OpenCV DNN |")
    w("|---|---|---|")
    w("| median latency ratio, ONNX Runtime as measured | %s | %s |" % (gm("lat_ort"), gm("lat_cv")))
    w("| median latency ratio, ONNX Runtime net of its binding | %s | %s |" %
      (gm("lat_ort_net"), gm("lat_cv")))
    w("| peak RSS ratio (ONNX Runtime: minus Node.js's baseline) | %s | %s |" %
      (gm("rss_ort"), gm("rss_cv")))
    w("")

    # The binding's share of ONNX Runtime's latency.
    w("## ONNX Runtime's binding overhead")
    w("")
    w("Median per-call time of the overhead model (same inputs and outputs, no compute) in "
      "ONNX Runtime's process, the real model's median in the same alternating calls, and "
      "the overhead's share of it.")
    w("")
    w("| model | batch | threads | binding ms | binding p90 ms | ORT paired median ms | share |")
    w("|---|---|---|---|---|---|---|")
    for n in names:
        for b, t in combos_of[n]:
            o = by.get((n, b, t, "onnxruntime"))
            ovh = get(o, "binding_overhead_ms")
            if ovh is None:
                continue
            paired = get(o, "median_ms_paired")
            share = "%.1f%%" % (100.0 * ovh / paired) if paired else "–"
            w("| %s | %d | %d | %s | %s | %s | %s |" % (
                n, b, t, fmt(ovh, 3), fmt(get(o, "binding_overhead_p90_ms"), 3), fmt(paired),
                share))
    w("")

    # GFLOP/s against the measured peak.
    w("## Achieved GFLOP/s (batch 1, 2 threads)")
    w("")
    w("FLOPs per inference: 2 × the multiply-accumulates of Conv, ConvTranspose, Gemm and "
      "MatMul, counted by `supernova bench` and used for every runtime. ONNX Runtime's figure "
      "is from its measured latency, binding included.")
    w("")
    peak2 = peaks.get(2)
    w("| model | GFLOP | " + " | ".join("%s GFLOP/s (%% of peak)" % LABELS[rt]
                                      for rt in RUNTIMES) + " |")
    w("|---|---|" + "---|" * len(RUNTIMES))
    for n in names:
        s = by.get((n, 1, 2, "supernova"))
        gflop = get(s, "gflop")
        cells = []
        for rt in RUNTIMES:
            r = by.get((n, 1, 2, rt))
            ach = get(r, "gflops_achieved")
            if ach is None and gflop is not None and get(r, "median_ms"):
                ach = gflop / (r["median_ms"] / 1000.0)
            if ach is None:
                cells.append("–")
            elif peak2:
                cells.append("%s (%s%%)" % (fmt(ach, 1), fmt(100.0 * ach / peak2, 1)))
            else:
                cells.append(fmt(ach, 1))
        w("| %s | %s | %s |" % (n, fmt(gflop, 3), " | ".join(cells)))
    w("")

    # One table per model.
    for n in names:
        w("## %s" % n)
        w("")
        s_any = next((r for k, r in sorted(by.items()) if k[0] == n and ok(r) and
                      k[3] == "supernova"), None)
        if s_any:
            w("`%s`, inputs at batch %s: %s; weights %s MB, %s GFLOP per inference." % (
                s_any.get("model"), s_any.get("batch"),
                ", ".join("%s %s" % (k, "×".join(str(d) for d in v))
                          for k, v in s_any.get("shapes", {}).items()),
                fmt(s_any.get("weights_mb")), fmt(s_any.get("gflop"), 3)))
            w("")
        header = ["batch", "threads", "runtime", "rounds", "median ms", "round medians ms",
                  "binding ms", "net median ms", "p90 ms", "throughput /s", "peak RSS MB",
                  "net RSS MB", "load ms", "GFLOP/s", "latency ÷ ORT", "latency ÷ ORT net",
                  "latency ÷ OpenCV", "RSS ÷ ORT net", "RSS ÷ OpenCV"]
        w("| " + " | ".join(header) + " |")
        w("|" + "---|" * len(header))
        for b, t in combos_of[n]:
            s = by.get((n, b, t, "supernova"))
            o = by.get((n, b, t, "onnxruntime"))
            c = by.get((n, b, t, "opencv_dnn"))
            for rt in RUNTIMES:
                r = by.get((n, b, t, rt))
                if r is None:
                    continue
                if not ok(r):
                    cells = [str(b), str(t), LABELS[rt], "0/%d" % r["rounds"], status_text(r)]
                    w("| " + " | ".join(cells + [""] * (len(header) - len(cells))) + " |")
                    continue
                extra = [""] * 5
                if rt == "supernova":
                    extra = [fmt(ratio(get(s, "median_ms"), get(o, "median_ms"))),
                             fmt(ratio(get(s, "median_ms"), get(o, "median_ms_net"))),
                             fmt(ratio(get(s, "median_ms"), get(c, "median_ms"))),
                             fmt(ratio(rss_for_ratio(s), rss_for_ratio(o))),
                             fmt(ratio(rss_for_ratio(s), rss_for_ratio(c)))]
                rounds = "%d/%d" % (r["rounds_ok"], r["rounds"])
                if r.get("round_failure"):
                    rounds += " (%s)" % r["round_failure"]
                cells = [str(b), str(t), LABELS[rt], rounds, fmt(r.get("median_ms")),
                         " ".join(fmt(m) for m in r["round_medians"]),
                         fmt(r.get("binding_overhead_ms"), 3), fmt(r.get("median_ms_net")),
                         fmt(r.get("p90_ms")), fmt(r.get("throughput_per_s"), 1),
                         fmt(r.get("peak_rss_mb"), 1), fmt(r.get("peak_rss_net_mb"), 1),
                         fmt(r.get("load_ms"), 1), fmt(r.get("gflops_achieved"), 1)] + extra
                w("| " + " | ".join(cells) + " |")
        w("")

    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--run-id", required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--runtime", required=True, choices=RUNTIMES)
    r.add_argument("--batch", type=int, required=True)
    r.add_argument("--threads", type=int, required=True)
    r.add_argument("--round", type=int, default=1)
    r.add_argument("--rc", type=int, required=True)
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr", required=True)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--run-id", required=True)
    p.add_argument("--out", required=True)
    a = ap.parse_args()
    record(a) if a.cmd == "record" else report(a)


if __name__ == "__main__":
    main()
