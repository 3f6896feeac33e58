#!/usr/bin/env python3
"""What Spotlight received of one trace, read back from Spotlight itself.

    demo_spotlight.py PORT TRACE_ID [--processes N] [--incoming-parent ID]
                      [--out FILE]

Reads the envelopes Spotlight (on 127.0.0.1:PORT) replays on its event
stream, for at most 10 s or until N transactions of the trace are there,
and prints them as a tree: a transaction sits under the transaction that
holds its parent span. Exits 1 unless there are N transactions, exactly
one of them the root (no parent, or the incoming parent when the trace was
continued), and every other one has its parent among the spans Spotlight
received.
"""
import argparse
import json
import socket
import sys
import time
import urllib.request


def envelopes(port, deadline, enough):
    """Envelopes from the event stream until `enough(list)` or the deadline."""
    got = []
    req = urllib.request.Request(f"http://127.0.0.1:{port}/stream",
                                 headers={"Accept": "text/event-stream"})
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:
            event, data = None, []
            while time.monotonic() < deadline and not enough(got):
                try:
                    line = resp.readline().decode("utf-8", "replace")
                except socket.timeout:
                    continue
                if not line:
                    break
                line = line.rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line:
                    if event == "application/x-sentry-envelope" and data:
                        try:
                            got.append(json.loads("\n".join(data)))
                        except ValueError:
                            pass
                    event, data = None, []
    except OSError as e:
        print(f"spotlight: cannot read its event stream: {e}", file=sys.stderr)
    return got


def transactions(envs, trace_id):
    out = []
    for env in envs:
        _, items = env[0], env[1]
        for header, payload in items:
            if (header.get("type") == "transaction" and
                    payload["contexts"]["trace"]["trace_id"] == trace_id):
                out.append((env[0], payload))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("trace_id")
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--incoming-parent", default=None)
    p.add_argument("--out", default=None)
    a = p.parse_args()
    out = open(a.out, "w") if a.out else sys.stdout

    deadline = time.monotonic() + 10
    envs = envelopes(a.port, deadline,
                     lambda e: len(transactions(e, a.trace_id)) >= a.processes)
    txs = transactions(envs, a.trace_id)

    # Where each span lives: its transaction.
    owner = {}
    for i, (_, tx) in enumerate(txs):
        owner[tx["contexts"]["trace"]["span_id"]] = i
        for s in tx["spans"]:
            owner[s["span_id"]] = i
    children, roots, orphans = {}, [], []
    for i, (_, tx) in enumerate(txs):
        parent = tx["contexts"]["trace"].get("parent_span_id")
        if parent in owner and owner[parent] != i:
            children.setdefault(owner[parent], []).append(i)
        elif not parent or parent == a.incoming_parent:
            roots.append(i)
        else:
            orphans.append(i)

    print(f"Spotlight (127.0.0.1:{a.port}) received {len(txs)} transactions "
          f"of trace {a.trace_id}, read back from its event stream:\n", file=out)
    rows = []

    def walk(i, depth):
        _, tx = txs[i]
        t = tx["contexts"]["trace"]
        lead = "" if depth == 0 else "   " * (depth - 1) + "└─ "
        rows.append((lead + f'{t["op"]}  {tx["transaction"]}', t["span_id"],
                     t.get("parent_span_id") or "-", str(len(tx["spans"])),
                     f'{tx["sdk"]["name"]} {tx["sdk"]["version"]}'))
        for c in children.get(i, []):
            walk(c, depth + 1)

    for r in roots + orphans:
        walk(r, 0)
    head = ("TRANSACTION", "SPAN ID", "PARENT", "SPANS", "SDK")
    widths = [max(len(r[k]) for r in rows + [head]) for k in range(5)]
    for r in [head] + rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(),
              file=out)
    print(file=out)

    problems = []
    if len(txs) != a.processes:
        problems.append(f"{len(txs)} transactions, not one per process "
                        f"({a.processes})")
    if len(roots) != 1:
        problems.append(f"{len(roots)} root transactions, not 1")
    for i in orphans:
        t = txs[i][1]["contexts"]["trace"]
        problems.append(f'{t["op"]} {t["span_id"]}: its parent '
                        f'{t["parent_span_id"]} is no span Spotlight received')
    if problems:
        for msg in problems:
            print(f"Spotlight: {msg}", file=out)
        return 1
    print("Every process's transaction arrived in Spotlight, each under the "
          "span of the process that called it.", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
