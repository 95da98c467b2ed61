#!/usr/bin/env python3
"""Writes bench/RESULTS.md from what scripts/bench.sh measured, with the
machine it ran on: <out>/results.jsonl (one figure a line), cold.jsonl
(tandem-bench's cold-start summaries), react.jsonl (reaction latency),
scale.jsonl (scripts/bench-scale.sh) and size-levers.jsonl
(scripts/bench-size.sh).

    scripts/bench_report.py .local/bench bench/RESULTS.md
"""
import json
import os
import platform
import sys
import time

INIT_GOAL_MS = 5.0
RSS_GOAL_MIB = 15.0
RATIO_GOAL = 15.0
PEERS = {"topology": "peer-cross-region-outputs", "rollback": "peer-rollback"}
# What a row cannot say by itself.
NOTES = {
    "deploy-hook": "its first invocation waits, until a 2 s deadline, for a green side that the local AWS "
    "cannot show, then reports Failed to CodeDeploy, which the local AWS lacks: its failed runs are that "
    "gap, and only its init and memory speak",
}


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {model}; Python {platform.python_version()}"


def verdict(passed):
    return {True: "pass", False: "**miss**", None: "not measured"}[passed]


def fmt(summary, unit):
    if not summary:
        return "not measured"
    return f"{summary['median']:.1f} {unit} (p95 {summary['p95']:.1f}, n={summary['n']})"


REACTION_GOAL_MS = 20.0


def rows(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]


def section(title, intro, columns):
    """A section's heading, its introduction, and its table's header."""
    return [f"## {title}", "", intro, "", "| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]


def reaction_lines(out):
    lines = section(
        "Reaction latency (a warm function, a recording proxy in front of the local AWS)",
        "From the event handed to the warm function to its first corrective call arriving at the proxy. "
        "The calls it made on the way are listed in order.",
        ["function", "corrective call", "p50", "p95", "goal", "events", "not counted", "calls, in order"],
    )
    for r in rows(out, "react.jsonl"):
        s = r.get("reaction_ms")
        p50 = f"{s['median']:.1f} ms" if s else "not measured"
        p95 = f"{s['p95']:.1f} ms" if s else ""
        goal = f"p50 <= {REACTION_GOAL_MS:g} ms: {verdict(s['median'] <= REACTION_GOAL_MS) if s else verdict(None)}"
        missed = str(r.get("failures", 0)) + (f" ({r['first_failure']})" if r.get("failures") else "")
        lines.append(
            f"| {r['name']} | {r['call']} | {p50} | {p95} | {goal} | {r['events']} | {missed} | {', '.join(r.get('calls', []))} |"
        )
    return lines + [""]


def scale_lines(out):
    data = rows(out, "scale.jsonl")
    lines = section(
        "Scaling: the custom-resource framework as the work grows",
        "Real CloudFormation on the local AWS running the real topology function: create time of a stack "
        "of N `Custom::CrossRegionOutputs`, and of one whose response `Data` is 1, 2 and 4 KB "
        "(CloudFormation takes at most 4096 bytes of response).",
        ["case", "create time", "per resource", "outcome"],
    )
    for r in data:
        outcome = r["status"] + (f": {r['reason']}" if r.get("reason") else "")
        if r["case"] == "readers":
            lines.append(f"| {r['resources']} resources | {r['seconds']:.1f} s | {r['per_resource']:.2f} s | {outcome} |")
        else:
            lines.append(f"| Data of {r['data_bytes']} bytes | {r['seconds']:.1f} s | | {outcome} |")
    return lines + [""]


def size_lines(out):
    data = rows(out, "size-levers.jsonl")
    lines = section(
        "Package size levers (topology, arm64, each built from nothing)",
        "One profile setting changed at a time from what ships; `panic = \"unwind\"` in all of them.",
        ["profile", "zip", "against shipped"],
    )
    if not data:
        lines.append("| not measured in this run: `BENCH_SIZE_LEVERS=1 make bench` builds each lever from nothing (about 50 minutes on 2 cores) | | |")
        return lines + [""]
    base = next((r["bytes"] for r in data if r["variant"] == "shipped"), None)
    for r in data:
        delta = f"{(r['bytes'] - base) / base * 100:+.1f}%" if base else ""
        lines.append(
            f"| {r['variant']} (opt-level {r['opt_level']}, LTO {r['lto']}) | {r['bytes'] / 1048576:.2f} MiB | {delta} |"
        )
    return lines + [""]


def main(out, target):
    figures = [json.loads(l) for l in open(os.path.join(out, "results.jsonl")) if l.strip()]
    cold = {}
    path = os.path.join(out, "cold.jsonl")
    if os.path.exists(path):
        for line in open(path):
            if line.strip():
                row = json.loads(line)
                cold[row["name"]] = row
    lines = [
        "# tandem benchmarks",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, on {machine()}.",
        "Release builds for this machine; the local AWS (ministack) on loopback. A missed goal is marked, not hidden.",
        "",
        "## Cold start (tandem-bench: a Lambda Runtime API on loopback)",
        "",
        "Init: process start to its first `GET /runtime/invocation/next`, with its SDK clients built. "
        "First invocation: the event handed out to the answer, with its AWS calls to the local AWS. "
        "Peak RSS: `VmHWM` at the answer.",
        "",
        "| function | init (median, p95) | goal | first invocation | peak RSS | goal | failed runs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes = []
    for name, row in cold.items():
        init, rss = row.get("init_ms"), row.get("peak_rss_mib")
        is_peer = name.startswith("peer-")
        init_goal = "" if is_peer else f"<= {INIT_GOAL_MS:g} ms: {verdict(init['median'] <= INIT_GOAL_MS) if init else verdict(None)}"
        rss_goal = f"<= {RSS_GOAL_MIB:g} MiB: {verdict(rss['median'] <= RSS_GOAL_MIB) if rss else verdict(None)}"
        failures = row.get("failures", 0)
        failed = f"{failures}" + (" (see below)" if failures else "")
        if failures:
            notes.append(f"- {name}: {NOTES.get(name, row.get('first_failure'))}")
        lines.append(
            f"| {name} | {fmt(init, 'ms')} | {init_goal} | {fmt(row.get('first_invocation_ms'), 'ms')} "
            f"| {fmt(rss, 'MiB')} | {rss_goal} | {failed} |"
        )
    if notes:
        lines += ["", "Failed runs:", ""] + notes
    lines += ["", "Against the Python peer (init, medians):", ""]
    for ours, peer in PEERS.items():
        a, b = cold.get(ours, {}).get("init_ms"), cold.get(peer, {}).get("init_ms")
        if a and b and a["median"] > 0:
            ratio = b["median"] / a["median"]
            lines.append(
                f"- {ours} {a['median']:.1f} ms, {peer} {b['median']:.1f} ms: {ratio:.0f}x faster "
                f"(goal >= {RATIO_GOAL:g}x: {verdict(ratio >= RATIO_GOAL)})"
            )
        else:
            lines.append(f"- {ours} against {peer}: not measured")
    lines += [""] + reaction_lines(out) + scale_lines(out) + size_lines(out)
    lines += ["## Other figures", "", "| figure | value | goal | verdict | note |", "| --- | --- | --- | --- | --- |"]
    for f in figures:
        value = f"{f['value']} {f['unit']}".strip()
        shown = verdict(f["pass"]) if f["goal"] else "(no goal)"
        lines.append(f"| {f['name']} | {value} | {f['goal']} | {shown} | {f['note']} |")
    with open(target, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
