#!/usr/bin/env python3
"""Accuracy and bandwidth of one joint-inference run against a reference run (bench/joint.sh).

  bench/joint_eval.py score --reference REF.jsonl --run RUN.jsonl [--metrics RUN.err]
                            [--boxes tracks|detections] [--clip NAME] [--config NAME]
  bench/joint_eval.py table RESULTS.jsonl [--main-classes 3]

`score` reads two `supernova stream --sink jsonl:PATH` files (src/stream/sinks.cc: one line a
frame, with its detections and its tracks) and prints one JSON line. The reference's boxes are
its detections: CenterNet 512 run on every frame (--skip none). The run's boxes are its tracks
on every frame by default: the joint output is the edge's tracks with the cloud's answers
fused in, so edge-only and cloud-only are scored on their tracks too, the same footing
(`--boxes detections` scores the raw detections of inferred frames instead, to see what the
tracker itself costs). Per frame and class, the run's boxes are matched greedily, highest score
first, each to the unmatched reference box it overlaps most, at IoU >= 0.5; a frame missing from
the run leaves its reference boxes unmatched. F1 per class and overall (micro: all classes'
matches pooled). Bytes sent come from the run's final metrics line (`cloud_bytes_sent`, on
stderr of `supernova stream`: the JPEGs of the answered calls); KB/s is per second of video (frames / the clip's frame rate),
not of wall time, so that runs faster than real time compare.

`table` turns the JSON lines of several runs into the markdown table: per clip, each
configuration's frames sent, frames picked but refused (the cloud had no room), KB/s, F1 overall and for the clip's main classes (most reference
boxes), and its F1 gap and bandwidth ratio to the clip's cloud-only row (config "cloud-only").

Python 3 and its standard library only.
"""
import argparse
import json
import sys
from collections import defaultdict

IOU = 0.5


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def read_frames(path, key):
    """{frame index: [(label, score, box)]}, frame pts, and the lines' cloud_sent flags."""
    frames, pts, sent = {}, {}, 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            j = json.loads(line)
            boxes = []
            for o in j.get(key, []):
                b = o["box"]
                boxes.append((o.get("label", str(o["class_id"])), float(o.get("score", 1.0)),
                              (b["x1"], b["y1"], b["x2"], b["y2"])))
            frames[j["frame"]] = boxes
            pts[j["frame"]] = float(j.get("pts", 0.0))
            sent += 1 if j.get("cloud_sent") else 0
    return frames, pts, sent


def match(reference, run):
    """Per class: [true positives, false positives, false negatives]."""
    counts = defaultdict(lambda: [0, 0, 0])
    for frame, ref in reference.items():
        got = run.get(frame, [])
        for label in {r[0] for r in ref} | {g[0] for g in got}:
            refs = [r[2] for r in ref if r[0] == label]
            cands = sorted((g for g in got if g[0] == label), key=lambda g: -g[1])
            used = [False] * len(refs)
            tp = 0
            for _, _, box in cands:
                best, best_iou = -1, IOU
                for i, r in enumerate(refs):
                    if not used[i]:
                        v = iou(box, r)
                        if v >= best_iou:
                            best, best_iou = i, v
                if best >= 0:
                    used[best] = True
                    tp += 1
            c = counts[label]
            c[0] += tp
            c[1] += len(cands) - tp
            c[2] += len(refs) - tp
    return counts


def f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def final_metrics(path):
    """The last metrics JSON line of a run's stderr (the end-of-stream one), or {}."""
    last = {}
    try:
        with open(path) as f:
            for line in f:
                if line.startswith('{"stream"'):
                    last = json.loads(line)
    except OSError:
        pass
    return last


def score(args):
    reference, ref_pts, _ = read_frames(args.reference, "detections")
    run, pts, sent_lines = read_frames(args.run, args.boxes)
    counts = match(reference, run)
    metrics = final_metrics(args.metrics) if args.metrics else {}
    frames = len(reference)
    # Seconds of video: the reference read every frame, so its timestamps span the clip.
    ordered = sorted(ref_pts)
    step = (ref_pts[ordered[-1]] - ref_pts[ordered[0]]) / max(1, len(ordered) - 1) if ordered else 0
    seconds = (ref_pts[ordered[-1]] - ref_pts[ordered[0]] + step) if ordered else 0
    sent = int(metrics.get("cloud_sent", sent_lines))
    sent_bytes = int(metrics.get("cloud_bytes_sent", 0))
    tp = sum(c[0] for c in counts.values())
    fp = sum(c[1] for c in counts.values())
    fn = sum(c[2] for c in counts.values())
    out = {
        "clip": args.clip,
        "config": args.config,
        "boxes": args.boxes,
        "frames": frames,
        "frames_in_run": len(run),
        "cloud_sent": sent,
        "cloud_answered": metrics.get("cloud_answered"),
        "cloud_failed": metrics.get("cloud_failed"),
        "cloud_refused": metrics.get("cloud_refused"),
        "cloud_late": metrics.get("cloud_late"),
        "cloud_rtt_p50_ms": metrics.get("cloud_rtt_p50_ms"),
        "sent_fraction": sent / frames if frames else 0,
        "bytes_sent": sent_bytes,
        "video_seconds": round(seconds, 3),
        "kb_per_s": sent_bytes / 1000 / seconds if seconds > 0 else 0,
        "f1": f1(tp, fp, fn),
        "tp": tp, "fp": fp, "fn": fn,
        "classes": {k: {"reference": v[0] + v[2], "tp": v[0], "fp": v[1], "fn": v[2],
                        "f1": f1(*v)} for k, v in sorted(counts.items())},
    }
    print(json.dumps(out))


def table(args):
    rows = [json.loads(l) for l in open(args.results) if l.strip()]
    clips = []
    for r in rows:
        if r["clip"] not in clips:
            clips.append(r["clip"])
    print("| clip | config | frames sent % | refused | KB/s sent | F1 | F1 per main class | "
          "F1 gap to cloud-only | bandwidth / cloud-only |")
    print("|---|---|---|---|---|---|---|---|---|")
    for clip in clips:
        mine = [r for r in rows if r["clip"] == clip]
        ref_count = defaultdict(int)
        for r in mine[:1]:
            for k, v in r["classes"].items():
                ref_count[k] = v["reference"]
        main = sorted((k for k in ref_count if ref_count[k] > 0),
                      key=lambda k: -ref_count[k])[:args.main_classes]
        cloud = next((r for r in mine if r["config"] == "cloud-only"), None)
        for r in mine:
            per = ", ".join(f"{k} {r['classes'].get(k, {}).get('f1', 0):.3f}" for k in main)
            gap = ratio = "-"
            if cloud is not None:
                gap = f"{(cloud['f1'] - r['f1']) * 100:+.1f}"
                if cloud["bytes_sent"] > 0:
                    ratio = f"{r['bytes_sent'] / cloud['bytes_sent']:.1%}"
            refused = r.get("cloud_refused")
            print(f"| {clip} | {r['config']} | {r['sent_fraction']:.1%} | "
                  f"{'-' if refused is None else refused} | {r['kb_per_s']:.1f} | "
                  f"{r['f1']:.3f} | {per} | {gap} | {ratio} |")
    # The target: a joint row within 3 F1 points of cloud-only at under 20 % of its
    # bytes, on every clip.
    print()
    for clip in clips:
        mine = [r for r in rows if r["clip"] == clip]
        cloud = next((r for r in mine if r["config"] == "cloud-only"), None)
        if cloud is None or cloud["bytes_sent"] == 0:
            print(f"- {clip}: no cloud-only row to compare with")
            continue
        met = [r["config"] for r in mine if r["config"].startswith("joint")
               and cloud["f1"] - r["f1"] <= 0.03 and r["bytes_sent"] < 0.2 * cloud["bytes_sent"]]
        print(f"- {clip}: within 3 F1 points of cloud-only at under 20 % of its bytes: "
              + (", ".join(met) if met else "none"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="one run against the reference: one JSON line")
    s.add_argument("--reference", required=True)
    s.add_argument("--run", required=True)
    s.add_argument("--metrics", help="the run's stderr (metrics JSON lines)")
    s.add_argument("--boxes", choices=("tracks", "detections"), default="tracks")
    s.add_argument("--clip", default="")
    s.add_argument("--config", default="")
    t = sub.add_parser("table", help="the markdown table of score's JSON lines")
    t.add_argument("results")
    t.add_argument("--main-classes", type=int, default=3)
    args = p.parse_args()
    if args.command == "score":
        score(args)
    else:
        table(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
