#!/usr/bin/env python3
"""The demo's grpc++ hop, three real processes on 127.0.0.1:

  grpc_client -> grpcpp_server --downstream -> grpc_server

scripts/demo_report.py must find one unbroken trace of five spans, the
two grpcpp_server spans (its server span, and its downstream call's
client span as a child) between the C ones, and the trace headers of
both hops; for a trace the client starts and for one continued from
incoming headers. A downstream that is not there fails only the
downstream call: the grpc++ service still answers, and records the
call's status.

usage: grpcpp_chain_test.py DEMO_REPORT GRPC_CLIENT GRPC_SERVER GRPCPP_SERVER
"""

import json
import os
import socket
import subprocess
import sys
import tempfile

from demotest import expect, start_server, stop_all, finish

REPORT, GRPC_CLIENT, GRPC_SERVER, GRPCPP_SERVER = map(os.path.abspath,
                                                      sys.argv[1:5])
TRACE = "771a43a4192642f0b136d5159a501700"
SPAN = "b1c2d3e4f5a6b7c8"
DSN = "https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5"


def free_port():
    """A port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def chain(client_args, downstream=True):
    """Runs the chain once; returns (client result, server exits, spans
    log path)."""
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    spans = os.path.join(work, "spans.jsonl")
    if downstream:
        _, port, _ = start_server(work, "grpc_server",
                                  [GRPC_SERVER, "--spans", spans])
    else:
        port = free_port()
    _, front, _ = start_server(work, "grpcpp_server", [
        GRPCPP_SERVER, "--spans", spans, "--downstream",
        "127.0.0.1:%d" % port])
    try:
        r = subprocess.run([GRPC_CLIENT, "--spans", spans, "--method",
                            "/shop.Orders/Checkout"] + client_args +
                           ["127.0.0.1:%d" % front], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60, cwd=work,
                           text=True)
    finally:
        codes = stop_all()
    return r, codes, spans


def report(spans, *args):
    r = subprocess.run([sys.executable, REPORT, spans] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30, text=True)
    return r.returncode, r.stdout


def check_tree(doc, trace_id, what):
    rows = [(s["depth"], s["op"], s["process"]) for s in doc["spans"]]
    expect(rows == [(0, "task", "grpc_client"),
                    (1, "grpc.client", "grpc_client"),
                    (2, "grpc.server", "grpcpp_server"),
                    (3, "grpc.client", "grpcpp_server"),
                    (4, "grpc.server", "grpc_server")],
           what + ": five spans, the grpc++ service in the middle: %s" % rows)
    expect({s["trace_id"] for s in doc["spans"]} == {trace_id},
           what + ": one trace id everywhere")
    # Each server got its parent's span in the sentry-trace it received.
    for s in doc["spans"]:
        if s["op"] == "grpc.server":
            got = [h[1] for h in s["headers"] if h[0] == "sentry-trace"]
            expect(len(got) == 1 and got[0].split("-")[:2] ==
                   [trace_id, s["parent_span_id"]],
                   what + ": %s got its parent's span" % s["process"])
    # The client span the grpc++ service records sent what the next
    # server received.
    sent = [h for h in doc["spans"][3]["headers"]]
    received = [h for h in doc["spans"][4]["headers"]]
    expect(sorted(sent) == sorted(received),
           what + ": grpcpp_server's record shows what it sent")
    expect(len(doc["hops"]) == 2, what + ": two hops")
    bags = {h[1] for hop in doc["hops"] for h in hop["headers"]
            if h[0] == "baggage"}
    expect(len(bags) == 1, what + ": the same baggage on both hops")
    return bags.pop() if bags else ""


# 1. A new trace: the client is the head.
r, codes, spans = chain(["--dsn", DSN, "--release", "shop@1.4.2",
                         "--sample-rate", "1"])
expect(r.returncode == 0, "head: the call succeeded")
expect(codes == [0, 0], "head: both servers stopped cleanly: %s" % codes)
expect("continued=yes" in r.stdout and "downstream_status=0" in r.stdout,
       "head: the grpc++ service continued and called on")
rc, out = report(spans, "--json")
doc = json.loads(out)
expect(rc == 0 and doc["unbroken"], "head: report says unbroken")
bag = check_tree(doc, doc["trace_id"], "head")
expect("sentry-release=shop@1.4.2" in bag, "head: the DSC went through")

# 2. Continued from incoming headers: the DSC is carried unchanged.
incoming = ("sentry-trace_id=%s,sentry-sample_rate=0.25,sentry-sampled=false,"
            "sentry-sample_rand=0.8,sentry-release=web%%402.0" % TRACE)
r, codes, spans = chain(["-H", "sentry-trace: %s-%s-0" % (TRACE, SPAN),
                         "-H", "baggage: " + incoming])
expect(r.returncode == 0 and codes == [0, 0], "continued: the call succeeded")
rc, out = report(spans, "--json", "--incoming-parent", SPAN)
doc = json.loads(out)
expect(rc == 0 and doc["trace_id"] == TRACE,
       "continued: the incoming trace id on every span")
bag = check_tree(doc, TRACE, "continued")
expect(bag == incoming, "continued: the DSC is carried unchanged")
expect({s["sampled"] for s in doc["spans"]} == {False},
       "continued: the incoming decision everywhere")

# 3. No downstream: the grpc++ service answers anyway.
r, codes, spans = chain(["--dsn", DSN, "--sample-rate", "1"],
                        downstream=False)
expect(r.returncode == 0 and codes == [0], "no downstream: the call succeeded")
expect("downstream_status=14" in r.stdout,
       "no downstream: the downstream call was UNAVAILABLE")
lines = [json.loads(l) for l in open(spans)]
down = [l for l in lines if l["process"] == "grpcpp_server" and
        l["op"] == "grpc.client"]
expect(len(down) == 1 and down[0]["status"] == "unavailable",
       "no downstream: its client span says unavailable")

finish()
