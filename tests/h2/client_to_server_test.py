#!/usr/bin/env python3
"""Our client against our server: the trace id is continuous, span ids
chain parent to child, the DSC travels unchanged, many clients at once.

usage: client_to_server_test.py H2_CLIENT H2_SERVER"""

import os
import subprocess
import sys

import h2test as t
from h2test import DSC, SPAN, TRACE


def test():
    client, server_bin = sys.argv[1], sys.argv[2]
    server = t.Server(server_bin, "--dsn", t.DSN, "--sample-rate", "0.5")

    # Continuing from -H: client span is a child of SPAN, server's of that.
    rc, out, err = t.run([client, "-H", "sentry-trace: %s-%s-1" % (TRACE, SPAN),
                          "-H", "baggage: other=1," + DSC, server.url + "x"],
                         timeout=30)
    t.eq(rc, 0, "client exit status (%s)" % err.strip())
    sent = t.client_sent(out)
    t.eq(sent[":path"], ["/x"], "path sent")
    c_trace, c_span, c_flag = sent["sentry-trace"][0].split("-")
    t.eq((c_trace, c_flag), (TRACE, "1"), "client sent the same trace")
    t.check(c_span != SPAN, "client announced its own span")
    t.eq(sent["baggage"], ["other=1," + DSC],
         "client merged its own member with the DSC, one header")
    j = t.json_line(t.client_body(out))
    t.eq(j["trace_id"], TRACE, "server: same trace id")
    t.eq(j["parent_span_id"], c_span, "server: parent = the client's span")
    t.check(j["span_id"] not in (c_span, SPAN), "server: its own span id")
    t.eq(j["sampled"], True, "server: sampled")
    t.eq(j["outgoing"]["baggage"], DSC, "server: DSC carried unchanged")

    # A new trace started by the client is continued by the server.
    rc, out, err = t.run([client, "--dsn", t.DSN, "--sample-rate", "0",
                          server.url], timeout=30)
    t.eq(rc, 0, "new trace: client exit status (%s)" % err.strip())
    c_trace, c_span, c_flag = t.client_sent(out)["sentry-trace"][0].split("-")
    j = t.json_line(t.client_body(out))
    t.eq((j["trace_id"], j["parent_span_id"]), (c_trace, c_span),
         "new trace: continued by the server")
    t.eq((c_flag, j["sampled"]), ("0", False),
         "new trace: the head's decision (rate 0) wins over the server's")
    t.eq(j["dsc"]["public_key"], t.PUBLIC_KEY, "new trace: head's DSC")
    t.eq(j["dsc"]["sampled"], "false", "new trace: head's sampled")

    # From the environment: a parent that left the decision open (no flag,
    # and a DSC that records none).
    open_dsc = DSC.replace("sentry-sampled=true,", "")
    env = dict(os.environ, SENTRY_TRACE="%s-%s" % (TRACE, SPAN),
               SENTRY_BAGGAGE=open_dsc)
    rc, out, err = t.run([client, "--env", server.url], timeout=30, env=env)
    t.eq(rc, 0, "env: client exit status (%s)" % err.strip())
    t.eq(len(t.client_sent(out)["sentry-trace"][0].split("-")), 2,
         "env: the client passes the deferred decision on")
    j = t.json_line(t.client_body(out))
    t.eq(j["trace_id"], TRACE, "env: same trace id")
    t.check(j["sampled"] in (True, False), "env: the server decided")

    # No flag, but the DSC records the head's decision: that is the
    # decision, on every hop.
    env["SENTRY_BAGGAGE"] = DSC
    rc, out, err = t.run([client, "--env", server.url], timeout=30, env=env)
    t.eq(rc, 0, "env, DSC sampled: client exit status (%s)" % err.strip())
    t.eq(t.client_sent(out)["sentry-trace"][0].split("-")[2], "1",
         "env, DSC sampled: the client sends the DSC's decision")
    j = t.json_line(t.client_body(out))
    t.eq(j["sampled"], True, "env, DSC sampled: the server keeps it")

    # Twenty clients at once, each with its own trace.
    procs = []
    for i in range(20):
        trace = "%032x" % (0xabc000 + i)
        procs.append((trace, t.start(
            [client, "-H", "sentry-trace: %s-%s-1" % (trace, SPAN),
             server.url])))
    for trace, p in procs:
        out, err = p.communicate(timeout=60)
        t._children.remove(p)
        if p.returncode != 0:
            raise AssertionError("parallel client failed: %s" % err)
        j = t.json_line(t.client_body(out.decode()))
        if j["trace_id"] != trace:
            raise AssertionError("parallel: %s != %s" % (j["trace_id"], trace))
    t.check(True, "20 parallel clients, each answered with its own trace")

    rc, _, err = server.stop()
    t.eq(rc, 0, "server exits 0 on SIGTERM (%s)" % err.strip()[-500:])


if __name__ == "__main__":
    t.main(test)
