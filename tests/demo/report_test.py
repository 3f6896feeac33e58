#!/usr/bin/env python3
"""scripts/demo_report.py on span logs made here: an unbroken tree is drawn
with its hops; every kind of broken trace gives exit 1 and says why; a
missing, empty or malformed log is an error, never an unbroken trace.

usage: report_test.py DEMO_REPORT"""

import json
import os
import subprocess
import sys
import tempfile

REPORT = sys.argv[1]
TRACE = "771a43a4192642f0b136d5159a501700"
OTHER = "0123456789abcdef0123456789abcdef"
failures = []


def span(op, span_id, parent, start, process="p", trace=TRACE, headers=()):
    return {"process": process, "op": op, "description": op + " desc",
            "trace_id": trace, "span_id": span_id, "parent_span_id": parent,
            "sampled": True, "status": "ok", "start_us": start,
            "duration_us": 1500, "headers": [list(h) for h in headers]}


def chain():
    """The demo's shape: task > grpc.client > grpc.server > subprocess >
    http.client > http.server."""
    return [
        span("http.server", "6" * 16, "5" * 16, 60, "h2_server",
             headers=[("sentry-trace", TRACE + "-" + "5" * 16 + "-1")]),
        span("task", "1" * 16, None, 10, "grpc_client"),
        span("grpc.client", "2" * 16, "1" * 16, 20, "grpc_client"),
        span("grpc.server", "3" * 16, "2" * 16, 30, "grpc_server",
             headers=[("sentry-trace", TRACE + "-" + "2" * 16 + "-1"),
                      ("baggage", "sentry-trace_id=" + TRACE)]),
        span("subprocess", "4" * 16, "3" * 16, 40, "grpc_server",
             headers=[("SENTRY_TRACE", TRACE + "-" + "4" * 16 + "-1")]),
        span("http.client", "5" * 16, "4" * 16, 50, "h2_client"),
    ]


def run(spans, *args, raw=None):
    d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    path = os.path.join(d, "spans.jsonl")
    with open(path, "w") as f:
        if raw is not None:
            f.write(raw)
        else:
            for s in spans:
                f.write(json.dumps(s) + "\n")
    r = subprocess.run([sys.executable, REPORT, path] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30, text=True)
    return r.returncode, r.stdout, r.stderr


def expect(cond, what):
    print(("ok: " if cond else "FAILED: ") + what)
    if not cond:
        failures.append(what)


# An unbroken chain, text output.
rc, out, err = run(chain())
expect(rc == 0, "unbroken chain: exit 0 (%s)" % err.strip())
expect(out.startswith("trace " + TRACE), "text starts with the trace id")
lines = out.splitlines()
header = next(i for i, l in enumerate(lines) if l.startswith("SPAN"))
order = [l.lstrip(" │├└─").split()[0] for l in lines[header + 1:header + 7]]
expect(order == ["task", "grpc.client", "grpc.server", "subprocess",
                 "http.client", "http.server"],
       "spans in tree order, not log order: %s" % order)
expect("└─ grpc.client" in out and "         └─ http.client" in out,
       "children drawn under their parents")
expect("hop 1: grpc_client -> grpc_server (gRPC metadata)" in out,
       "hop 1 is the gRPC metadata")
expect("hop 2: grpc_server -> child process (environment)" in out,
       "hop 2 is the environment")
expect("SENTRY_TRACE=%s-%s-1" % (TRACE, "4" * 16) in out,
       "environment hop shows NAME=value")
expect("hop 3: h2_client -> h2_server (HTTP/2 headers)" in out,
       "hop 3 is the HTTP/2 headers")
expect("1.5 ms" in out, "durations in milliseconds")
expect("One unbroken trace" in out, "says the trace is unbroken")

# The same as JSON.
rc, out, err = run(chain(), "--json")
doc = json.loads(out)
expect(rc == 0 and doc["unbroken"] and doc["trace_id"] == TRACE,
       "json: unbroken, trace id")
expect([s["depth"] for s in doc["spans"]] == [0, 1, 2, 3, 4, 5],
       "json: depths")
expect([h["carrier"] for h in doc["hops"]] ==
       ["gRPC metadata", "environment", "HTTP/2 headers"], "json: hops")

# Siblings: two calls from one span are drawn with ├─ and └─.
spans = chain()[1:3] + [span("grpc.client", "7" * 16, "1" * 16, 25)]
rc, out, err = run(spans)
expect(rc == 0 and "├─ grpc.client" in out and "└─ grpc.client" in out,
       "siblings drawn with ├─ then └─")

# Continued from an incoming trace: the root's parent is that span.
spans = chain()
spans[1]["parent_span_id"] = "b1c2d3e4f5a6b7c8"
rc, out, err = run(spans, "--incoming-parent", "b1c2d3e4f5a6b7c8")
expect(rc == 0 and "continued from span b1c2d3e4f5a6b7c8" in out,
       "incoming parent accepted as the root's parent")
rc, out, err = run(spans)
expect(rc == 1 and "BROKEN" in out,
       "a root parent nobody announced is broken")

# Broken: a hop started a new trace.
spans = chain()
spans[0]["trace_id"] = OTHER
rc, out, err = run(spans)
expect(rc == 1 and "2 trace ids" in out, "two trace ids: broken")
rc, out, err = run(spans, "--json")
expect(rc == 1 and json.loads(out)["unbroken"] is False,
       "two trace ids: json says unbroken false")

# Broken: a hop lost its parent (the tree is in pieces).
spans = chain()
spans[5]["parent_span_id"] = "f" * 16
rc, out, err = run(spans)
expect(rc == 1 and "in pieces" in out and "parent ffffffffffffffff" in out,
       "unknown parent: broken, says which")

# Broken: a hop has no parent at all.
spans = chain()
spans[3]["parent_span_id"] = None
rc, out, err = run(spans)
expect(rc == 1 and "2 roots (task 1111111111111111, grpc.server "
       "3333333333333333)" in out, "second root: broken, says which")

# Broken: parents in a cycle (no root reaches them).
spans = chain()
spans[1]["parent_span_id"] = "6" * 16
rc, out, err = run(spans)
expect(rc == 1 and "its own ancestor" in out, "parent cycle: broken")

# Broken: two spans share an id.
spans = chain()
spans[4]["span_id"] = "3" * 16
rc, out, err = run(spans)
expect(rc == 1 and "share a span id" in out, "duplicate span id: broken")

# Logs that prove nothing.
rc, out, err = run([])
expect(rc == 1 and "empty" in err, "empty log: exit 1")
rc, out, err = run(None, raw='{"op": "task"\n')
expect(rc != 0 and "not a span record" in (out + err),
       "malformed line: an error")
r = subprocess.run([sys.executable, REPORT, "/nonexistent/spans.jsonl"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                   timeout=30)
expect(r.returncode == 2, "missing log: exit 2")

# Hostile strings from a span log are printed, not interpreted.
spans = chain()
spans[3]["headers"] = [["baggage", "a=1\r\nx-evil: 1\u001b[2J"]]
rc, out, err = run(spans, "--json")
expect(rc == 0 and "\\r\\nx-evil" in out, "json keeps control bytes escaped")

print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
