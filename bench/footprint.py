#!/usr/bin/env python3
"""Measures Supernova's footprint beside ONNX Runtime's (bench/footprint.sh, docs/footprint.md;
stdlib only). Writes a Markdown report and a JSON file of every measurement, prints the table.

  footprint.py --supernova BIN --probe PROC_PROBE --model-dir DIR --repository DIR
               --ort-module DIR --runs N --serve-runs N --idle-s S --out MD --json JSON
               --load-start X --allow-load 0|1

Short commands run through proc_probe (wall time from fork to reaping, peak RSS from
ru_maxrss), interleaved: each round runs every command once, in turn.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

LOAD_LIMIT = 0.5
GOALS = {"help": (50.0, 40.0), "run": (50.0, 40.0)}  # wall ms, peak RSS MB
SERVE_GOAL_MB = 80.0
# Libraries worth naming when a command maps them: big, or a sign that a feature's whole stack
# is loaded where it is not used.
HEAVY = re.compile(r"cudnn|cublas|cudart|cufft|curand|nvrtc|libcuda\.|nvinfer|opencv|grpc|"
                   r"protobuf|avcodec|avformat|avutil|avdevice|swscale|swresample|dnnl|"
                   r"boost|libssl|libcrypto|mosquitto|gst|onnxruntime|tbb|openblas|x264|x265")
HEAVY_MIN_BYTES = 2 << 20


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return None if n == 0 else xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def probe(probe_bin, argv, env=None):
    out = subprocess.run([probe_bin, "--"] + argv, check=True, capture_output=True, text=True,
                         env=env).stdout
    r = json.loads(out.strip().splitlines()[-1])
    if r["exit_code"] != 0:
        raise RuntimeError("%s exited with %d" % (" ".join(argv), r["exit_code"]))
    return r


def short_commands(a, tmp):
    """name -> argv of the commands timed in rounds; node ones need ORT_NODE_MODULE."""
    model = os.path.join(a.model_dir, "relu.onnx")
    x = os.path.join(a.model_dir, "x.npy")
    ort_js = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_footprint.js")
    return {
        "floor": ["true"],
        "help": [a.supernova, "--help"],
        "run": [a.supernova, "run", model, "--input", "x=" + x, "--output-dir",
                os.path.join(tmp, "sn")],
        "node_baseline": ["node", ort_js, model, x, os.path.join(tmp, "nb"), "--baseline"],
        "node_ort": ["node", ort_js, model, x, os.path.join(tmp, "no")],
    }


def measure_short(a):
    env = dict(os.environ, ORT_NODE_MODULE=a.ort_module)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmds = short_commands(a, tmp)
        if not a.ort_module:
            del cmds["node_baseline"], cmds["node_ort"]
        for name, argv in cmds.items():  # one untimed run each: page cache, then rounds
            probe(a.probe, argv, env)
        for _ in range(a.runs):
            for name, argv in cmds.items():
                runs.setdefault(name, []).append(probe(a.probe, argv, env))
    return runs


def stat(runs, key):
    return median([r[key] for r in runs]) if runs else None


def ort_net(runs, key):
    """ONNX Runtime's own cost: the median over rounds of (node_ort - node_baseline)."""
    pairs = zip(runs.get("node_ort", []), runs.get("node_baseline", []))
    return median([o[key] - b[key] for o, b in pairs])


def proc_status(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    kb = lambda k: int(fields[k].split()[0]) / 1024.0 if k in fields else None
    return {"vm_rss_mb": kb("VmRSS"), "vm_hwm_mb": kb("VmHWM"),
            "threads": int(fields.get("Threads", "0"))}


def mapped_objects(pid):
    paths = set()
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and re.search(r"\.so(\.[0-9]+)*$", parts[5]):
                paths.add(parts[5])
    return sorted(paths)


def serve_once(a):
    """Starts `supernova serve` on free ports, waits until ready, idles, samples, stops it."""
    proc = subprocess.Popen([a.supernova, "serve", "--model-repository", a.repository,
                             "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    port = {}
    log = []

    def read_log():
        for line in proc.stderr:
            log.append(line)
            if '"server_ready"' in line:
                m = re.search(r'"http_port"\s*:\s*"?(\d+)', line)
                if m:
                    port["http"] = int(m.group(1))

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        ready_ms = None
        while time.monotonic() - start < 120:
            if proc.poll() is not None:
                raise RuntimeError("supernova serve exited with %s: %s" %
                                   (proc.returncode, "".join(log[-3:]).strip()))
            if "http" in port:
                try:
                    url = "http://127.0.0.1:%d/v2/health/ready" % port["http"]
                    if urllib.request.urlopen(url, timeout=2).status == 200:
                        ready_ms = (time.monotonic() - start) * 1000.0
                        break
                except OSError:
                    pass
            time.sleep(0.005)
        if ready_ms is None:
            raise RuntimeError("supernova serve was not ready within 120 s")
        time.sleep(a.idle_s)
        s = proc_status(proc.pid)
        s["ready_ms"] = ready_ms
        s["shared_objects"] = len(mapped_objects(proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    s["exit_code"] = proc.returncode
    return s


def ldd(binary):
    """name -> resolved path of the objects the dynamic loader maps at start."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)\s+\(", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if m:
            libs[os.path.basename(m.group(1))] = m.group(m.lastindex)
    return libs


def loaded_by_help(binary):
    """Every object `supernova --help` loads, plugins opened with dlopen included: the paths
    the dynamic loader's own trace names as it initializes them (itself among them)."""
    env = dict(os.environ, LD_DEBUG="files")
    err = subprocess.run([binary, "--help"], capture_output=True, text=True, env=env).stderr
    paths = []
    for m in re.finditer(r"calling init: (\S+)", err):
        if m.group(1) not in paths and os.path.realpath(m.group(1)) != os.path.realpath(binary):
            paths.append(m.group(1))
    return paths


PLUGIN_PREFIX = "supernova_provider_"


def size_of(path):
    try:
        return os.path.getsize(os.path.realpath(path))
    except OSError:
        return None


def libraries(a):
    linked = ldd(a.supernova)
    runtime = [p for n, p in linked.items() if n.startswith("libsupernova")]
    objects = loaded_by_help(a.supernova) or list(linked.values())
    plugins = [p for p in objects if os.path.basename(p).startswith(PLUGIN_PREFIX)]
    # Provider plugins in the plugin directory beside the runtime library (its "supernova"
    # folder, docs/layers.md), loaded or not.
    dirs = {os.path.join(os.path.dirname(os.path.realpath(p)), "supernova") for p in runtime}
    beside = sorted(os.path.join(d, f) for d in dirs if os.path.isdir(d)
                    for f in os.listdir(d) if f.startswith(PLUGIN_PREFIX) and f.endswith(".so"))
    heavy = sorted(({"path": p, "bytes": size_of(p)} for p in objects
                    if HEAVY.search(os.path.basename(p)) or (size_of(p) or 0) >= HEAVY_MIN_BYTES),
                   key=lambda h: -(h["bytes"] or 0))
    ort_libs = []
    if a.ort_module:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = short_commands(a, tmp)["node_ort"] + ["--list-libs"]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                                 env=dict(os.environ, ORT_NODE_MODULE=a.ort_module)).stdout
        ort_libs = [{"path": p, "bytes": size_of(p)} for p in out.split()]
    return {
        "binary": {"path": a.supernova, "bytes": size_of(a.supernova)},
        "runtime": [{"path": p, "bytes": size_of(p)} for p in runtime],
        "plugins_loaded_by_help": [{"path": p, "bytes": size_of(p)} for p in plugins],
        "libraries_beside_runtime": [{"path": p, "bytes": size_of(p)} for p in beside],
        "shared_objects_help": len(objects),
        "heavy": heavy,
        "onnxruntime": ort_libs,
    }


def mb(v, digits=1):
    return "–" if v is None else "%.*f" % (digits, v)


def goal_cell(value, goal):
    if value is None:
        return "–"
    return "%s (%s)" % ("< %g" % goal, "met" if value < goal else "**not met**")


def render(a, res):
    short, serve, libs = res["short"], res["serve"], res["libraries"]
    out = []
    w = out.append
    w("# Supernova footprint")
    w("")
    loads = [res["load_start"], res["load_measure"]]
    if any(x > LOAD_LIMIT for x in loads):
        w("> **Not for publication.** Taken on a loaded machine: 1-minute load average "
          "%.2f at the start, %.2f when measuring (limit %s), run with `--allow-load`. "
          "Rerun on a quiet machine." % (loads[0], loads[1], LOAD_LIMIT))
        w("")
    w("%s. 1-minute load average %.2f at the start, %.2f when measuring, %.2f at the end. "
      "Short commands: median of %d interleaved rounds; idle server: median of %d starts, "
      "RSS sampled %g s after it was ready." % (res["machine"], loads[0], loads[1],
                                              res["load_end"], a.runs, a.serve_runs, a.idle_s))
    w("")
    w("| measurement | Supernova | goal | ONNX Runtime (Node.js process minus Node.js's "
      "baseline) | Node.js baseline |")
    w("|---|---|---|---|---|")
    for key, label in (("help", "`supernova --help`"),
                       ("run", "`supernova run` of the one-node model")):
        peer = key == "run" and "node_ort" in short
        w("| %s: wall ms | %s | %s | %s | %s |" % (
            label, mb(stat(short[key], "wall_ms")), goal_cell(stat(short[key], "wall_ms"),
                                                              GOALS[key][0]),
            mb(ort_net(short, "wall_ms")) if peer else "–",
            mb(stat(short.get("node_baseline"), "wall_ms")) if peer else ""))
        w("| %s: peak RSS MB | %s | %s | %s | %s |" % (
            label, mb(stat(short[key], "max_rss_mb")),
            goal_cell(stat(short[key], "max_rss_mb"), GOALS[key][1]),
            mb(ort_net(short, "max_rss_mb")) if peer else "–",
            mb(stat(short.get("node_baseline"), "max_rss_mb")) if peer else ""))
    idle = median([s["vm_rss_mb"] for s in serve])
    w("| idle `supernova serve`, bundled repository: RSS MB | %s | %s | – | |" %
      (mb(idle), goal_cell(idle, SERVE_GOAL_MB)))
    w("| idle `supernova serve`: peak RSS MB (VmHWM, loading included) | %s | | – | |" %
      mb(median([s["vm_hwm_mb"] for s in serve])))
    w("| `supernova serve`: start to ready, ms | %s | | – | |" %
      mb(median([s["ready_ms"] for s in serve]), 0))
    if libs["runtime"]:
        rt = " + ".join("`%s` %s" % (os.path.basename(l["path"]), mb(l["bytes"] / 2**20))
                        for l in libs["runtime"])
    else:
        rt = "statically linked into `supernova` (%s MB binary)" % mb(
            libs["binary"]["bytes"] / 2**20)
    ort = " + ".join("`%s` %s" % (os.path.basename(l["path"]), mb(l["bytes"] / 2**20))
                     for l in libs["onnxruntime"]) or "–"
    w("| runtime library on disk, MB | %s | | %s | |" % (rt, ort))
    w("| shared objects loaded by `supernova --help` | %d | | | |" % libs["shared_objects_help"])
    w("| shared objects mapped by the idle server | %s | | | |" %
      mb(median([s["shared_objects"] for s in serve]), 0))
    w("")
    w("Process floor (`true` through the same probe): %s ms, %s MB. The `supernova` binary: "
      "%s MB." % (mb(stat(short["floor"], "wall_ms"), 2), mb(stat(short["floor"], "max_rss_mb")),
                  mb(libs["binary"]["bytes"] / 2**20)))
    w("")
    if libs["libraries_beside_runtime"]:
        w("Provider plugins in the plugin directory beside the runtime library (MB on disk): " + ", ".join("`%s` %s" % (os.path.basename(p["path"]), mb(p["bytes"] / 2**20))
                                for p in libs["libraries_beside_runtime"]) + ".")
        w("")
    if libs["plugins_loaded_by_help"]:
        w("Of these, loaded by `--help`: " + ", ".join(
            "`%s`" % os.path.basename(p["path"]) for p in libs["plugins_loaded_by_help"]) + ".")
        w("")
    w("Heavy shared objects loaded by `supernova --help` (a known heavy stack, or 2 MB and "
      "more on disk):")
    w("")
    w("| object | MB on disk |")
    w("|---|---|")
    for h in libs["heavy"]:
        w("| `%s` | %s |" % (h["path"], "?" if h["bytes"] is None else mb(h["bytes"] / 2**20)))
    w("")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--supernova", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--model-dir", required=True, help="relu.onnx and x.npy (relu_model.js)")
    ap.add_argument("--repository", required=True)
    ap.add_argument("--ort-module", default="", help="onnxruntime-node's folder; empty: none")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--serve-runs", type=int, default=3)
    ap.add_argument("--idle-s", type=float, default=5.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--load-start", type=float, required=True)
    a = ap.parse_args()

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "unknown CPU")
    res = {"machine": "%s, %d cores" % (" ".join(cpu.split()), os.cpu_count()),
           "load_start": a.load_start, "load_measure": load1(), "runs": a.runs}
    res["short"] = measure_short(a)
    res["serve"] = [serve_once(a) for _ in range(a.serve_runs)]
    res["load_end"] = load1()
    res["libraries"] = libraries(a)
    text = render(a, res)
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
