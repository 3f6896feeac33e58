#!/usr/bin/env python3
"""Draws one trace from the span log the demo's processes wrote.

    demo_report.py SPANS_FILE [--json] [--incoming-parent SPAN_ID]

Each line of SPANS_FILE is one span record (see examples/common/span_log.h).
Prints the trace id, the tree of spans and the trace headers of every hop,
or all of it as one JSON document with --json. Exits 1 when the trace is
broken: more than one trace id, or a span whose parent is neither another
span of the log nor the span the trace was continued from
(--incoming-parent). Exits 2 when the log is missing or unreadable.
"""

import json
import os
import sys

# The hop a server-side span stands for: which carrier brought the trace in.
CARRIERS = {
    "grpc.server": "gRPC metadata",
    "http.server": "HTTP/2 headers",
    "subprocess": "environment",
}


def load(path):
    spans = []
    with open(path, encoding="ascii") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                spans.append(json.loads(line))
            except ValueError as e:
                raise SystemExit(f"{path}:{n}: not a span record: {e}")
    return spans


def short(description):
    """A subprocess command line, shortened for the table: the program's
    name without its path, and without the demo's own `--spans FILE`."""
    words = description.split(" ")
    words[0] = os.path.basename(words[0])
    if "--spans" in words[:-1]:
        i = words.index("--spans")
        del words[i:i + 2]
    return " ".join(words)


def sampled_word(value):
    return {True: "yes", False: "no"}.get(value, "deferred")


def duration(us):
    return f"{us / 1000:.1f} ms" if us >= 1000 else f"{us} us"


def analyse(spans, incoming_parent):
    """Orders the spans as a tree; returns (rows, problems).

    rows: (depth, span) in display order, children by start time."""
    problems = []
    trace_ids = sorted({s["trace_id"] for s in spans})
    if len(trace_ids) != 1:
        problems.append(f"{len(trace_ids)} trace ids: {', '.join(trace_ids)}")
    by_id = {s["span_id"]: s for s in spans}
    if len(by_id) != len(spans):
        problems.append("two spans share a span id")
    children = {}
    roots = []
    for s in spans:
        parent = s["parent_span_id"]
        if parent in by_id:
            children.setdefault(parent, []).append(s)
        else:
            roots.append(s)
            if parent != incoming_parent:
                what = "no parent" if parent is None else f"parent {parent}"
                want = incoming_parent or "none"
                problems.append(
                    f"{s['op']} {s['span_id']} has {what}, which is not in "
                    f"the trace (its root's parent should be {want})")
    if len(roots) > 1:
        names = ", ".join(f"{r['op']} {r['span_id']}" for r in roots)
        problems.append(f"{len(roots)} roots ({names}): the tree is in pieces")
    rows = []
    seen = set()

    def walk(span, depth):
        if id(span) in seen:  # a span that is its own ancestor
            return
        seen.add(id(span))
        rows.append((depth, span))
        for c in sorted(children.get(span["span_id"], []), key=lambda s: s["start_us"]):
            walk(c, depth + 1)

    for r in sorted(roots, key=lambda s: s["start_us"]):
        walk(r, 0)
    # Spans on a parent cycle are reachable from no root: show them last.
    for s in spans:
        if id(s) not in seen:
            problems.append(f"{s['op']} {s['span_id']} is its own ancestor")
            seen.add(id(s))
            rows.append((0, s))
    return rows, problems


def hops(rows):
    """The hops, in trace order: each span that received the trace."""
    by_id = {s["span_id"]: s for _, s in rows}
    out = []
    for _, s in rows:
        carrier = CARRIERS.get(s["op"])
        if not carrier:
            continue
        parent = by_id.get(s["parent_span_id"])
        sender = parent["process"] if parent else "?"
        receiver = "child process" if s["op"] == "subprocess" else s["process"]
        out.append({
            "from": sender,
            "to": receiver,
            "carrier": carrier,
            "headers": [[k, v] for k, v in s["headers"]],
        })
    return out


def tree_prefix(rows, i):
    """Box-drawing prefix for row i: pipes for ancestors with later siblings."""
    depth = rows[i][0]
    if depth == 0:
        return ""

    def has_later_sibling(index, d):
        for j in range(index + 1, len(rows)):
            if rows[j][0] < d:
                return False
            if rows[j][0] == d:
                return True
        return False

    parts = []
    # For each ancestor level, find the ancestor row and ask about siblings.
    ancestor = i
    levels = []
    for d in range(depth, 0, -1):
        while rows[ancestor][0] != d:
            ancestor -= 1
        levels.append((d, ancestor))
    levels.reverse()
    for d, index in levels[:-1]:
        parts.append("│  " if has_later_sibling(index, d) else "   ")
    d, index = levels[-1]
    parts.append("├─ " if has_later_sibling(index, d) else "└─ ")
    return "".join(parts)


def print_text(rows, hop_list, problems, incoming_parent):
    trace_ids = sorted({s["trace_id"] for _, s in rows})
    processes = sorted({s["process"] for _, s in rows})
    sampled = sorted({sampled_word(s["sampled"]) for _, s in rows})
    print(f"trace {', '.join(trace_ids)}")
    print(f"  {len(rows)} spans from {len(processes)} processes "
          f"({', '.join(processes)}), sampled: {', '.join(sampled)}")
    if incoming_parent:
        print(f"  continued from span {incoming_parent} of the incoming trace")
    print()
    labels = []
    for i, (_, s) in enumerate(rows):
        desc = s["description"]
        if s["op"] == "subprocess":
            desc = short(desc)
        if len(desc) > 56:
            desc = desc[:55] + "…"
        labels.append(f"{tree_prefix(rows, i)}{s['op']}  {desc}")
    width = max(len(x) for x in labels + ["SPAN"])
    header = (f"{'SPAN':<{width}}  {'SPAN ID':<16}  {'PARENT':<16}  "
              f"{'DURATION':>9}  {'SAMPLED':<8} {'STATUS':<8} PROCESS")
    print(header)
    for label, (_, s) in zip(labels, rows):
        parent = s["parent_span_id"] or "-"
        print(f"{label:<{width}}  {s['span_id']:<16}  {parent:<16}  "
              f"{duration(s['duration_us']):>9}  {sampled_word(s['sampled']):<8} "
              f"{s['status']:<8} {s['process']}")
    print()
    print("Trace headers on each hop, as the receiving side got them:")
    for n, h in enumerate(hop_list, 1):
        print(f"\n  hop {n}: {h['from']} -> {h['to']} ({h['carrier']})")
        sep = "=" if h["carrier"] == "environment" else ": "
        for k, v in h["headers"]:
            print(f"    {k}{sep}{v}")
    print()
    if problems:
        print("BROKEN TRACE:")
        for p in problems:
            print(f"  - {p}")
    else:
        print(f"One unbroken trace: every span has trace id {trace_ids[0]} "
              "and a parent inside it.")


def main(argv):
    args = argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    incoming_parent = None
    if "--incoming-parent" in args:
        i = args.index("--incoming-parent")
        if i + 1 >= len(args):
            raise SystemExit("--incoming-parent needs a span id")
        incoming_parent = args[i + 1] or None
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        spans = load(args[0])
    except OSError as e:
        print(f"demo_report: {e}", file=sys.stderr)
        return 2
    if not spans:
        print("demo_report: the span log is empty: no process reported a span",
              file=sys.stderr)
        return 1
    rows, problems = analyse(spans, incoming_parent)
    hop_list = hops(rows)
    if as_json:
        trace_ids = sorted({s["trace_id"] for s in spans})
        doc = {
            "trace_id": trace_ids[0] if len(trace_ids) == 1 else None,
            "trace_ids": trace_ids,
            "incoming_parent_span_id": incoming_parent,
            "unbroken": not problems,
            "problems": problems,
            "spans": [dict(s, depth=d) for d, s in rows],
            "hops": hop_list,
        }
        json.dump(doc, sys.stdout, indent=2)
        print()
    else:
        print_text(rows, hop_list, problems, incoming_parent)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
