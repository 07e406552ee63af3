#!/usr/bin/env python3
"""The arithmetic and the tables of bench/split.sh (docs/collab.md, "Benchmark").

usage: split_report.py plans MODEL F PLAN.json...        a JSON line per link: its chosen cut
       split_report.py sample N PLAN.json...             "ID<TAB>T1,T2" of the cuts to measure
       split_report.py expect-chosen PLAN.json ID        exit 1 unless the plan chose ID
       split_report.py tag TAG_JSON < records            the runner's records, tagged, one a line
       split_report.py recut-plan PLAN.json LINK...         the plan's totals of its cuts per link
       split_report.py emulations RESULTS MODEL F LINK...  "LINK<TAB>ID<TAB>PREDICTED_MS" to run
       split_report.py report OUT_DIR > split.md
"""
import json
import math
import os
import statistics
import sys

ANCHORS = ("Neurosurgeon reports 3.1x lower latency than cloud-only on average (up to 40.7x) "
           "and DADS up to 6.45x over edge-only")


def transfer_ms(link, sent, received):
    """collab::Link::TransferMs: one round trip plus both payloads at the bandwidth."""
    bw, rtt = (float(x) for x in link.split(",")[:2])
    return rtt + (sent + received) * 8.0 / (bw * 1000.0)


def load_plan(path):
    with open(path) as f:
        return json.load(f)


def link_of(plan):
    lk = plan["link"]
    return "%g,%g" % (lk["bandwidth_mbit"], lk["rtt_ms"])


def cmd_plans(model, slowdown, paths):
    first = load_plan(paths[0])
    cands = [{k: c[k] for k in ("id", "kind", "sent_bytes", "result_bytes", "edge_ms", "cloud_ms")}
             | {"tensors": len(c["tensors"])} for c in first["candidates"]]
    print(json.dumps({"type": "candidates", "model": model, "slowdown": float(slowdown),
                      "edge_total_ms": first["edge"]["total_ms"],
                      "cloud_total_ms": first["cloud"]["total_ms"], "candidates": cands}))
    for p in paths:
        plan = load_plan(p)
        print(json.dumps({"type": "plan", "model": model, "slowdown": float(slowdown),
                          "link": link_of(plan), "chosen": plan["chosen"],
                          "predicted": {str(c["id"]): c["total_ms"] for c in plan["candidates"]}}))


def cmd_sample(n, paths):
    """Cloud-only, edge-only, every cut a link of the grid chooses, and then, to reach N, one cut
    per equal slice of the edge's compute: the one that sends the fewest bytes in its slice
    (ties: the earlier), since a cut that sends more than its neighbours is never the best."""
    plans = [load_plan(p) for p in paths]
    cands = plans[0]["candidates"]
    by_id = {c["id"]: c for c in cands}
    picked = [c["id"] for c in cands if c["kind"] in ("cloud_only", "edge_only")]
    picked += [p["chosen"] for p in plans if p["chosen"] not in picked]
    splits = [c for c in cands if c["kind"] == "split"]
    total = plans[0]["edge"]["total_ms"] or 1.0
    slices = max(n - len(set(picked)), 0)
    for j in range(slices):
        lo, hi = total * j / slices, total * (j + 1) / slices
        inside = [c for c in splits if lo <= c["edge_ms"] < hi and c["id"] not in picked]
        if inside:
            picked.append(min(inside, key=lambda c: (c["sent_bytes"], c["id"]))["id"])
    for i in sorted(set(picked)):
        print("%d\t%s" % (i, ",".join(by_id[i]["tensors"])))


def cmd_expect_chosen(path, want):
    got = load_plan(path)["chosen"]
    if got != int(want):
        sys.exit("split_report: %s chose cut %s, not %s: a listed cut given back with --cut "
                 "should keep its id" % (path, got, want))


def cmd_tag(tag):
    tag = json.loads(tag)
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("{"):
            print(json.dumps(dict(tag, type="request", record=json.loads(line))))
        elif line:
            print(line, file=sys.stderr)


def cmd_recut_plan(path, links):
    """What the runner predicts from the plan alone for each materialized cut on each link."""
    plan = load_plan(path)
    per = {}
    for link in links:
        per[link] = {}
        for c in plan["candidates"]:
            if c["materialized"]:
                t = 0.0 if c["kind"] == "edge_only" else transfer_ms(link, c["sent_bytes"], c["result_bytes"])
                per[link][str(c["id"])] = c["edge_ms"] + t + c["cloud_ms"]
    print(json.dumps({"type": "recut_plan", "chosen": plan["chosen"], "predicted": per}))


def read_results(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def measured(rows, model, slowdown, mode, link=None):
    """Per cut: medians over the requests after the first of total, head and remote ms and of
    the bytes each way; how many requests there were and how many ran their tail here."""
    per = {}
    for r in rows:
        if (r.get("type") == "request" and r["model"] == model and r["slowdown"] == slowdown
                and r["mode"] == mode and r.get("link") == link):
            per.setdefault(r["cut"], []).append(r["record"])
    out = {}
    for cut, recs in per.items():
        kept = [x for x in recs if x["request"] >= 1] or recs
        med = {k: statistics.median(x[k] for x in kept)
               for k in ("total_ms", "head_ms", "remote_ms", "tail_ms", "sent_bytes",
                         "received_bytes")}
        med["n"] = len(kept)
        med["edge_tails"] = sum(1 for x in recs if x["tail_at"] == "edge" and x["kind"] != "edge_only")
        med["kind"] = kept[0]["kind"]
        out[cut] = med
    return out


def on_link(m, link):
    """A cut's latency on LINK from its loopback medians: the emulated link only adds its delay."""
    if m["kind"] == "edge_only":
        return m["total_ms"]
    return m["total_ms"] + transfer_ms(link, m["sent_bytes"], m["received_bytes"])


def plans_of(rows, model, slowdown):
    return {r["link"]: r for r in rows if r.get("type") == "plan" and r["model"] == model
            and r["slowdown"] == slowdown}


def cmd_emulations(results, model, slowdown, links):
    rows = read_results(results)
    slowdown = float(slowdown)
    loop = measured(rows, model, slowdown, "loopback")
    plans = plans_of(rows, model, slowdown)
    cloud = next(c for c, m in loop.items() if m["kind"] == "cloud_only")
    for link in links:
        link = "%g,%g" % tuple(float(x) for x in link.split(","))
        for cut in dict.fromkeys([plans[link]["chosen"], cloud]):
            if loop[cut]["kind"] != "edge_only":
                print("%s\t%d\t%.1f" % (link, cut, on_link(loop[cut], link)))


def fmt(v, digits=1):
    return "-" if v is None else "%.*f" % (digits, v)


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def report_set(rows, model, slowdown, cands, out):
    loop = measured(rows, model, slowdown, "loopback")
    plans = plans_of(rows, model, slowdown)
    links = list(plans)
    cinfo = {c["id"]: c for c in cands["candidates"]}
    out.append("### %s, edge slowdown F = %g\n" % (model, slowdown))
    out.append("%d candidate cuts; the edge profile's whole model %.1f ms (F = %g, 1 thread), "
               "the cloud's %.1f ms (2 threads).\n" % (len(cinfo), cands["edge_total_ms"],
                                                        slowdown, cands["cloud_total_ms"]))
    out.append("Sampled cuts over the loopback (medians of %s requests after the first):\n"
               % "/".join(sorted({str(m["n"]) for m in loop.values()})))
    out.append("| cut | kind | tensors | sent B | received B | plan edge ms | plan cloud ms "
               "| head ms | remote ms | total ms | tails run here |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cut in sorted(loop):
        m, c = loop[cut], cinfo[cut]
        out.append("| %d | %s | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %d |" % (
            cut, m["kind"], c["tensors"], m["sent_bytes"], m["received_bytes"], c["edge_ms"],
            c["cloud_ms"], m["head_ms"], m["remote_ms"], m["total_ms"], m["edge_tails"]))
    out.append("\nEvery sampled cut on every link (ms: loopback total + `TransferMs`; **bold**: "
               "the best measured, *chosen* the plan's choice):\n")
    out.append("| cut | " + " | ".join("%s Mbit/s, %s ms" % tuple(lk.split(",")) for lk in links) + " |")
    out.append("|---:|" + "---:|" * len(links))
    best = {lk: min(loop, key=lambda c: on_link(loop[c], lk)) for lk in links}
    for cut in sorted(loop):
        cells = []
        for lk in links:
            v = "%.1f" % on_link(loop[cut], lk)
            if cut == best[lk]:
                v = "**%s**" % v
            if cut == plans[lk]["chosen"]:
                v += " *chosen*"
            cells.append(v)
        out.append("| %d | %s |" % (cut, " | ".join(cells)))
    edge = next(c for c, m in loop.items() if m["kind"] == "edge_only")
    cloud = next(c for c, m in loop.items() if m["kind"] == "cloud_only")
    out.append("\nPer link: the chosen cut against the best measured one and the two extremes:\n")
    out.append("| link | edge-only ms | cloud-only ms | chosen cut | predicted ms | measured ms "
               "| best cut | best ms | chosen / best | vs cloud-only | vs edge-only |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = []
    for lk in links:
        ch = plans[lk]["chosen"]
        e, cl = on_link(loop[edge], lk), on_link(loop[cloud], lk)
        c, b = on_link(loop[ch], lk), on_link(loop[best[lk]], lk)
        summary.append({"model": model, "slowdown": slowdown, "link": lk, "ratio": c / b,
                        "vs_cloud": cl / c, "vs_edge": e / c})
        out.append("| %s Mbit/s, %s ms | %.1f | %.1f | %d (%s) | %.1f | %.1f | %d | %.1f | %.3f "
                   "| %.2fx | %.2fx |" % (tuple(lk.split(",")) + (
                       e, cl, ch, loop[ch]["kind"].replace("_", "-"),
                       plans[lk]["predicted"][str(ch)], c, best[lk], b, c / b, cl / c, e / c)))
    return summary


def report_emulated(rows, out):
    out.append("## The emulator against the arithmetic\n")
    out.append("The chosen cut and cloud-only run for real under `--emulate-link` (medians of the "
               "requests after the first) beside the prediction above (loopback median + "
               "`TransferMs`); runs predicted above 20 s a request are skipped.\n")
    out.append("| model | F | link | cut | kind | predicted ms | emulated ms | emulated / predicted |")
    out.append("|---|---:|---|---:|---|---:|---:|---:|")
    keys = []
    for r in rows:
        if r.get("mode") == "emulated":
            k = (r["model"], r["slowdown"], r["link"], r["cut"])
            if k not in keys:
                keys.append(k)
    for model, slowdown, link, cut in keys:
        pred = next(r["predicted_ms"] for r in rows if r.get("mode") == "emulated"
                    and (r["model"], r["slowdown"], r["link"], r["cut"]) == (model, slowdown, link, cut))
        skipped = any(r.get("skipped") for r in rows if r.get("mode") == "emulated" and
                      (r["model"], r["slowdown"], r["link"], r["cut"]) == (model, slowdown, link, cut))
        lk = "%s Mbit/s, %s ms" % tuple(link.split(","))
        if skipped:
            out.append("| %s | %g | %s | %d | | %.0f | skipped | |" % (model, slowdown, lk, cut, pred))
            continue
        m = measured(rows, model, slowdown, "emulated", link)[cut]
        out.append("| %s | %g | %s | %d | %s | %.1f | %.1f | %.3f |" % (
            model, slowdown, lk, cut, m["kind"], pred, m["total_ms"], m["total_ms"] / pred))
    out.append("")


def schedule_phases(schedule):
    phases = []
    for part in schedule.split(";"):
        start, what = part.split(":", 1)
        phases.append((int(start), what))
    return phases


def report_recut(rows, out):
    recs = [r for r in rows if r.get("mode") == "recut"]
    if not recs:
        return
    schedule = recs[0]["schedule"]
    phases = schedule_phases(schedule)
    out.append("## The re-cut when the link changes\n")
    out.append("face_embedding, F = %g, the adaptive runner (no `--cut`), `--link-schedule "
               "\"%s\"`, `--timeout-ms 1000`, %d requests.\n" % (recs[0]["slowdown"], schedule,
                                                                 len(recs)))
    plan = next((r for r in rows if r.get("type") == "recut_plan"), None)
    if plan:
        out.append("What its plan predicts for each cut it may use (ms; the plan chose cut %d for "
                   "the first link):\n" % plan["chosen"])
        for link, pred in plan["predicted"].items():
            out.append("- %s Mbit/s, %s ms: " % tuple(link.split(",")) + ", ".join(
                "cut %s %.1f" % kv for kv in sorted(pred.items(), key=lambda kv: kv[1])))
        out.append("")
    out.append("| phase | link | requests | cuts used (requests) | switch | fallbacks "
               "| median total ms |")
    out.append("|---|---|---|---|---|---:|---:|")
    # The cut in use: the last request's that was not an exploration (a single request sent
    # through a remote cut to measure the link while the runner sits on edge-only).
    current = recs[0]["record"]["candidate"]
    for i, (start, what) in enumerate(phases):
        end = phases[i + 1][0] if i + 1 < len(phases) else len(recs)
        ph = [r["record"] for r in recs if start <= r["record"]["request"] < end]
        if not ph:
            continue
        used = {}
        for x in ph:
            key = "%d %s@%s%s" % (x["candidate"], x["kind"].replace("_", "-"), x["tail_at"],
                                  " explore" if x["explore"] else "")
            used[key] = used.get(key, 0) + 1
        switches = []
        for x in ph:
            if not x["explore"] and x["candidate"] != current:
                switches.append("to %d at request %d (%d after the change)" % (
                    x["candidate"], x["request"], x["request"] - start))
                current = x["candidate"]
        fell = sum(1 for x in ph if x["fallback"])
        out.append("| %d | %s | %d-%d | %s | %s | %d | %.1f |" % (
            i + 1, what, start, end - 1, ", ".join("%s (%d)" % kv for kv in used.items()),
            "; ".join(switches) or "none", fell, statistics.median(x["total_ms"] for x in ph)))
    failed = [r for r in recs if r["record"].get("total_ms") is None]
    out.append("\n%d requests, %d answered (a request without an answer would have made the "
               "runner exit non-zero); explorations: %d.\n" % (
                   len(recs), len(recs) - len(failed),
                   sum(1 for r in recs if r["record"].get("explore"))))
    out.append("<details><summary>Every request</summary>\n")
    out.append("| request | cut | kind | tail at | explore | total ms | predicted ms | link seen "
               "| fallback |")
    out.append("|---:|---:|---|---|---|---:|---:|---|---|")
    for r in recs:
        x = r["record"]
        out.append("| %d | %d | %s | %s | %s | %.1f | %s | %.1f Mbit/s, %.1f ms | %s |" % (
            x["request"], x["candidate"], x["kind"], x["tail_at"], "yes" if x["explore"] else "",
            x["total_ms"], fmt(x.get("predicted_ms")), x["link"]["bandwidth_mbit"],
            x["link"]["rtt_ms"], (x["fallback"] or "")[:60]))
    out.append("\n</details>\n")


def cmd_report(out_dir):
    rows = read_results(os.path.join(out_dir, "results.jsonl"))
    meta = next(r for r in rows if r.get("type") == "meta")
    end = next((r for r in rows if r.get("type") == "end"), {})
    out = ["# Split execution benchmark\n"]
    if max(meta["load_start"], meta["load_measure"]) > 0.5:
        out.append("**Not for publication: the machine was busy (load average %s at the start, "
                   "%s when measuring began).**\n" % (meta["load_start"], meta["load_measure"]))
    out.append("%s; `%s`; load average %s at the start, %s when measuring began, %s at the end. "
               "Loopback runs: %d requests a cut (the first discarded); emulated: %d.\n" % (
                   meta["machine"], meta["command"], meta["load_start"], meta["load_measure"],
                   end.get("load_end", "-"), meta["requests"], meta["emulate_requests"]))
    summary = []
    for c in (r for r in rows if r.get("type") == "candidates"):
        summary += report_set(rows, c["model"], c["slowdown"], c, out)
        out.append("")
    if summary:
        worst = max(summary, key=lambda s: s["ratio"])
        out.append("## Summary\n")
        out.append("Chosen / best measured: worst %.3f (%s, F = %g, %s); %d of %d model x link "
                   "cases within 1.10.\n" % (worst["ratio"], worst["model"], worst["slowdown"],
                                             worst["link"], sum(s["ratio"] <= 1.10 for s in summary),
                                             len(summary)))
        out.append("Speed-up of the chosen cut, geometric mean over the %d cases: %.2fx over "
                   "cloud-only (max %.2fx), %.2fx over edge-only (max %.2fx). %s.\n" % (
                       len(summary), geomean([s["vs_cloud"] for s in summary]),
                       max(s["vs_cloud"] for s in summary), geomean([s["vs_edge"] for s in summary]),
                       max(s["vs_edge"] for s in summary), ANCHORS))
    report_emulated(rows, out)
    report_recut(rows, out)
    placement = os.path.join(out_dir, "placement.txt")
    if os.path.exists(placement):
        out.append("## The placement planner against exhaustive search\n")
        text = open(placement).read()
        # bench/placement.sh's own build says "ninja: no work to do" first.
        text = text[text.find("placement:"):] if "placement:" in text else text
        out.append("```\n" + text.rstrip() + "\n```\n")
    print("\n".join(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "plans":
        cmd_plans(args[0], args[1], args[2:])
    elif cmd == "sample":
        cmd_sample(int(args[0]), args[1:])
    elif cmd == "expect-chosen":
        cmd_expect_chosen(args[0], args[1])
    elif cmd == "tag":
        cmd_tag(args[0])
    elif cmd == "recut-plan":
        cmd_recut_plan(args[0], args[1:])
    elif cmd == "emulations":
        cmd_emulations(args[0], args[1], args[2], args[3:])
    elif cmd == "report":
        cmd_report(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
