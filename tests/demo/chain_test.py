#!/usr/bin/env python3
"""The demo's chain, four real processes on 127.0.0.1:

  grpc_client -> grpc_server --exec h2_client --env -> h2_server

Each appends its span records to one log; scripts/demo_report.py must find
one unbroken trace of six spans with the trace headers of every hop, both
for a trace started by the client and for one continued from incoming
headers. Then the environment hop is broken on purpose (the child is not
told to read SENTRY_TRACE): the report must call the trace broken.

usage: chain_test.py DEMO_REPORT GRPC_CLIENT GRPC_SERVER H2_CLIENT H2_SERVER
"""

import json
import os
import subprocess
import sys
import tempfile

from demotest import expect, start_server, stop_all, finish

REPORT, GRPC_CLIENT, GRPC_SERVER, H2_CLIENT, H2_SERVER = map(
    os.path.abspath, sys.argv[1:6])
TRACE = "771a43a4192642f0b136d5159a501700"
SPAN = "b1c2d3e4f5a6b7c8"
DSN = "https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5"


def chain(client_args, env_hop=True):
    """Runs the chain once; returns (client exit, server exits, spans log
    path)."""
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    spans = os.path.join(work, "spans.jsonl")
    _, h2, _ = start_server(work, "h2_server", [H2_SERVER, "--spans", spans])
    downstream = [H2_CLIENT] + (["--env"] if env_hop else []) + [
        "--spans", spans, "http://127.0.0.1:%d/inventory/42" % h2]
    _, grpc, _ = start_server(work, "grpc_server", [
        GRPC_SERVER, "--spans", spans, "--exec", " ".join(downstream)])
    try:
        r = subprocess.run([GRPC_CLIENT, "--spans", spans, "--method",
                            "/shop.Orders/Checkout"] + client_args +
                           ["127.0.0.1:%d" % grpc], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60, cwd=work)
    finally:
        codes = stop_all()
    return r.returncode, codes, spans


def report(spans, *args):
    r = subprocess.run([sys.executable, REPORT, spans] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30, text=True)
    return r.returncode, r.stdout, r.stderr


def check_tree(doc, trace_id, sampled, what):
    ops = [(s["depth"], s["op"]) for s in doc["spans"]]
    expect(ops == [(0, "task"), (1, "grpc.client"), (2, "grpc.server"),
                   (3, "subprocess"), (4, "http.client"), (5, "http.server")],
           what + ": six spans, one chain")
    expect({s["trace_id"] for s in doc["spans"]} == {trace_id},
           what + ": one trace id everywhere")
    expect({s["sampled"] for s in doc["spans"]} == {sampled},
           what + ": one sampling decision everywhere")
    # Every hop's receiving side got the sender's span as parent.
    for s in doc["spans"][1:]:
        hop = [h for h in s["headers"]
               if h[0] in ("sentry-trace", "SENTRY_TRACE")]
        if s["op"] in ("grpc.server", "http.server", "subprocess"):
            tid, parent = hop[0][1].split("-")[:2]
            expect((tid, parent) == (trace_id, s["parent_span_id"]) or
                   (s["op"] == "subprocess" and parent == s["span_id"]),
                   what + ": %s got the trace from its parent" % s["op"])
    expect(len(doc["hops"]) == 3, what + ": three hops")
    bags = {h[1] for hop in doc["hops"] for h in hop["headers"]
            if h[0] in ("baggage", "SENTRY_BAGGAGE")}
    expect(len(bags) == 1, what + ": the same baggage on every hop")
    return bags.pop() if bags else ""


# 1. A new trace: the client is the head, with DSN, release, environment.
rc, codes, spans = chain(["--dsn", DSN, "--release", "shop@1.4.2",
                          "--environment", "demo", "--sample-rate", "1"])
expect(rc == 0, "head: the call succeeded")
expect(codes == [0, 0], "head: both servers stopped cleanly: %s" % codes)
rc, out, err = report(spans, "--json")
doc = json.loads(out)
expect(rc == 0 and doc["unbroken"], "head: report says unbroken")
bag = check_tree(doc, doc["trace_id"], True, "head")
for member in ("sentry-public_key=49d0f7386ad645858ae85020e393bef3",
               "sentry-org_id=447951", "sentry-sample_rate=1",
               "sentry-release=shop@1.4.2", "sentry-environment=demo",
               "sentry-sampled=true", "sentry-sample_rand="):
    expect(member in bag, "head: the DSC carries " + member)
rc, text, err = report(spans)
expect(rc == 0 and text.startswith("trace " + doc["trace_id"]),
       "head: text report starts with the trace id")

# 2. Continued from incoming headers: the incoming trace runs through.
incoming = ("sentry-trace_id=%s,sentry-sample_rate=0.25,sentry-sampled=false,"
            "sentry-sample_rand=0.8,sentry-release=web%%402.0" % TRACE)
rc, codes, spans = chain(["-H", "sentry-trace: %s-%s-0" % (TRACE, SPAN),
                          "-H", "baggage: " + incoming])
expect(rc == 0 and codes == [0, 0], "continued: the call succeeded")
rc, out, err = report(spans, "--json", "--incoming-parent", SPAN)
doc = json.loads(out)
expect(rc == 0 and doc["trace_id"] == TRACE,
       "continued: the incoming trace id on every span")
expect(doc["spans"][0]["parent_span_id"] == SPAN,
       "continued: the root's parent is the incoming span")
bag = check_tree(doc, TRACE, False, "continued")
expect(bag == incoming, "continued: the DSC is carried unchanged")
rc, out, err = report(spans)
expect(rc == 1, "continued: without --incoming-parent the root is an orphan")

# 3. Broken on purpose: the child process ignores SENTRY_TRACE.
rc, codes, spans = chain(["--dsn", DSN, "--sample-rate", "1"], env_hop=False)
expect(rc == 0, "broken: the call itself still succeeds")
rc, out, err = report(spans)
expect(rc == 1 and "BROKEN TRACE" in out and "2 trace ids" in out,
       "broken: the report finds two traces")

finish()
