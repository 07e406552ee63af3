#!/usr/bin/env python3
"""Records benchmark results and writes the report of bench/run.sh (stdlib only).

  report.py record --run-id ID --name NAME --runtime R --batch B --threads T --rc N
                   --stdout FILE --stderr FILE          appends one JSON line to stdout
  report.py report --results results.jsonl --run-id ID --out report.md

A recorded line is the runtime's own JSON object (keys in docs/benchmark.md) with the run's
coordinates added: run_id, name, runtime, batch, threads (as requested), exit_code, and
status: "ok", "n/a" (exit 2: the model has a fixed batch), "error" or "timeout".
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
                "threads": a.threads, "exit_code": rc, "status": status})
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


def report(a):
    rows, meta, peaks = [], {}, {}
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
            elif kind == "peak":
                if r.get("gflops"):
                    peaks[int(r["threads"])] = r["gflops"]
            else:
                rows.append(r)

    by = {}
    names = []
    for r in rows:
        if r["name"] not in names:
            names.append(r["name"])
        by[(r["name"], int(r["batch"]), int(r["threads"]), r["runtime"])] = r

    def ok(r):
        return r is not None and r["status"] == "ok"

    def get(r, key):
        return r.get(key) if ok(r) else None

    out = []
    w = out.append
    w("# Supernova benchmark report")
    w("")
    w("Run `%s`. %s" % (a.run_id, meta.get("machine", "")))
    w("")
    if meta:
        w("- command: `%s`" % meta.get("command", ""))
        w("- timed iterations %s after %s warm-up runs; load average at start: %s" %
          (meta.get("iterations"), meta.get("warmup"), meta.get("loadavg", "?")))
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
      "(below 1: Supernova is faster or smaller). Peak RSS is the whole process's VmHWM "
      "(ONNX Runtime's includes Node.js, about 40 MB). See docs/benchmark.md.")
    w("")

    # Summary: batch 1, 2 threads.
    lat_ort, rss_ort, lat_cv, rss_cv = [], [], [], []
    for n in names:
        s = by.get((n, 1, 2, "supernova"))
        o = by.get((n, 1, 2, "onnxruntime"))
        c = by.get((n, 1, 2, "opencv_dnn"))
        lat_ort.append(ratio(get(s, "median_ms"), get(o, "median_ms")))
        rss_ort.append(ratio(get(s, "peak_rss_mb"), get(o, "peak_rss_mb")))
        lat_cv.append(ratio(get(s, "median_ms"), get(c, "median_ms")))
        rss_cv.append(ratio(get(s, "peak_rss_mb"), get(c, "peak_rss_mb")))
    w("## Summary (batch 1, 2 threads)")
    w("")
    w("| geometric mean over models | vs ONNX Runtime | vs OpenCV DNN |")
    w("|---|---|---|")
    for label, xs, ys in (("median latency ratio", lat_ort, lat_cv),
                          ("peak RSS ratio", rss_ort, rss_cv)):
        gx, nx = geomean(xs)
        gy, ny = geomean(ys)
        w("| %s | %s | %s |" % (label,
                                "%s (%d models)" % (fmt(gx), nx) if gx else "–",
                                "%s (%d models)" % (fmt(gy), ny) if gy else "–"))
    w("")

    # GFLOP/s against the measured peak.
    w("## Achieved GFLOP/s (batch 1, 2 threads)")
    w("")
    w("FLOPs per inference: 2 × the multiply-accumulates of Conv, ConvTranspose, Gemm and "
      "MatMul, counted by `supernova bench` and used for every runtime.")
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
        s_any = next((r for r in rows if r["name"] == n and ok(r) and r["runtime"] == "supernova"),
                     None)
        if s_any:
            w("`%s`, inputs at batch %s: %s; weights %s MB, %s GFLOP per inference." % (
                s_any.get("model"), s_any.get("batch"),
                ", ".join("%s %s" % (k, "×".join(str(d) for d in v))
                          for k, v in s_any.get("shapes", {}).items()),
                fmt(s_any.get("weights_mb")), fmt(s_any.get("gflop"), 3)))
            w("")
        w("| batch | threads | runtime | median ms | p90 ms | throughput /s | peak RSS MB | "
          "load ms | GFLOP/s | latency ÷ ORT | latency ÷ OpenCV | RSS ÷ ORT | RSS ÷ OpenCV |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        combos = sorted({(int(r["batch"]), int(r["threads"])) for r in rows if r["name"] == n})
        for b, t in combos:
            s = by.get((n, b, t, "supernova"))
            o = by.get((n, b, t, "onnxruntime"))
            c = by.get((n, b, t, "opencv_dnn"))
            for rt in RUNTIMES:
                r = by.get((n, b, t, rt))
                if r is None:
                    continue
                if not ok(r):
                    w("| %d | %d | %s | %s |  |  |  |  |  |  |  |  |  |" %
                      (b, t, LABELS[rt], status_text(r)))
                    continue
                ach = r.get("gflops_achieved")
                extra = ["", "", "", ""]
                if rt == "supernova":
                    extra = [fmt(ratio(get(s, "median_ms"), get(o, "median_ms"))),
                             fmt(ratio(get(s, "median_ms"), get(c, "median_ms"))),
                             fmt(ratio(get(s, "peak_rss_mb"), get(o, "peak_rss_mb"))),
                             fmt(ratio(get(s, "peak_rss_mb"), get(c, "peak_rss_mb")))]
                w("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    b, t, LABELS[rt], fmt(r.get("median_ms")), fmt(r.get("p90_ms")),
                    fmt(r.get("throughput_per_s"), 1), fmt(r.get("peak_rss_mb"), 1),
                    fmt(r.get("load_ms"), 1), fmt(ach, 1), " | ".join(extra)))
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
