#!/usr/bin/env python3
"""Our client against nghttpd (Debian nghttp2-server): nghttpd's verbose
log shows the sentry-trace and baggage it received.

usage: client_to_nghttpd_test.py H2_CLIENT"""

import os
import re
import sys

import h2test as t
from h2test import DSC, SPAN, TRACE


def start_nghttpd(docroot):
    """nghttpd cannot pick its own port: try free ones until one binds."""
    for _ in range(5):
        port = t.free_port()
        p = t.start([t.tool("nghttpd"), "-v", "--no-tls", "-a", "127.0.0.1",
                     "-d", docroot, str(port)])
        try:
            t.wait_port(port, timeout=5)
            return p, port
        except SystemExit:
            t.stop(p)
    raise SystemExit("nghttpd did not start")


def received(log, name):
    return re.findall(r"recv \(stream_id=\d+\) %s: (.*)" % re.escape(name),
                      log)


def test():
    client = sys.argv[1]
    docroot = t.tmpdir()
    with open(os.path.join(docroot, "index.html"), "w") as f:
        f.write("hello from nghttpd\n")

    cases = [
        # what, client args, environment, trace id nghttpd must see
        ("from -H", ["-H", "sentry-trace: %s-%s-1" % (TRACE, SPAN),
                     "-H", "Baggage: " + DSC + ",vendor=v1"], None, TRACE),
        ("from the environment", ["--env"],
         {"SENTRY_TRACE": "%s-%s-0" % (TRACE, SPAN), "SENTRY_BAGGAGE": DSC},
         TRACE),
        ("a new trace", ["--dsn", t.DSN, "--sample-rate", "1"], None, None),
    ]
    for what, args, env, want_trace in cases:
        nghttpd, port = start_nghttpd(docroot)
        run_env = dict(os.environ, **(env or {}))
        rc, out, err = t.run([client] + args +
                             ["http://127.0.0.1:%d/index.html" % port],
                             timeout=30, env=run_env)
        _, log, _ = t.stop(nghttpd)
        t.eq(rc, 0, "%s: client exit status (%s)" % (what, err.strip()))
        t.check("< :status: 200" in out, "%s: status printed" % what)
        t.eq(t.client_body(out), "hello from nghttpd\n", "%s: body" % what)

        sent = t.client_sent(out)
        t.eq(len(sent["sentry-trace"]), 1, "%s: one sentry-trace sent" % what)
        t.eq(len(sent["baggage"]), 1, "%s: one baggage sent" % what)
        got_trace = received(log, "sentry-trace")
        got_bag = received(log, "baggage")
        t.eq(got_trace, sent["sentry-trace"],
             "%s: nghttpd received the sentry-trace we printed" % what)
        t.eq(got_bag, sent["baggage"],
             "%s: nghttpd received the baggage we printed" % what)
        trace_id, span_id = got_trace[0].split("-")[:2]
        if want_trace:
            t.eq(trace_id, want_trace, "%s: trace id" % what)
            t.check(span_id != SPAN, "%s: our own span id, not the parent's"
                    % what)
        t.check(got_bag[0].endswith("sentry-trace_id=%s" % trace_id) or
                "sentry-trace_id=%s," % trace_id in got_bag[0],
                "%s: baggage names the same trace" % what)
        if what == "from -H":
            t.eq(got_bag[0], "vendor=v1," + DSC,
                 "from -H: the caller's own member kept, DSC after it")


if __name__ == "__main__":
    t.main(test)
