#!/usr/bin/env python3
"""nghttp (Debian nghttp2-client) against the example server: the JSON
answer describes the continued trace.

usage: nghttp_to_server_test.py H2_SERVER"""

import sys

import h2test as t
from h2test import DSC, SPAN, TRACE


def fetch(server, *headers):
    cmd = [t.tool("nghttp"), "-v"]
    for h in headers:
        cmd += ["-H", h]
    rc, out, err = t.run(cmd + [server.url], timeout=30)
    t.eq(rc, 0, "nghttp exit status (%s)" % err.strip())
    return out, t.json_line(out)


def test():
    server = t.Server(sys.argv[1], "--dsn", t.DSN, "--sample-rate", "0.25",
                      "--release", "mine")
    out, j = fetch(server, "sentry-trace: %s-%s-1" % (TRACE, SPAN),
                   "baggage: " + DSC + ",vendor=abc;p=1")
    t.check("sentry-trace: %s-%s-1" % (TRACE, SPAN) in out,
            "nghttp's log shows the header it sent")
    t.eq(j["trace_id"], TRACE, "trace id continued")
    t.eq(j["parent_span_id"], SPAN, "parent span id = incoming span id")
    t.check(len(j["span_id"]) == 16 and j["span_id"] != SPAN,
            "a new span id of our own")
    t.eq(j["sampled"], True, "sampled from the incoming flag")
    t.eq(j["continued"], True, "continued")
    t.eq(j["status"], "ok", "status")
    t.eq(j["sample_rand"], 0.123456, "sample_rand reused")
    t.eq(j["dsc"], {"trace_id": TRACE, "public_key": t.PUBLIC_KEY,
                    "sample_rate": "0.25", "sampled": "true",
                    "sample_rand": "0.123456", "release": "app@1.0"},
         "DSC frozen as received (not our own release)")
    st = j["outgoing"]["sentry-trace"].split("-")
    t.eq((st[0], st[2]), (TRACE, "1"), "outgoing sentry-trace: same trace")
    t.check(st[1] not in (SPAN, j["span_id"]), "outgoing: a child span id")
    t.eq(j["outgoing"]["baggage"], DSC, "outgoing baggage: the DSC only")

    # A table of incoming headers and what the answer must say.
    cases = [
        ("not sampled", ["sentry-trace: %s-%s-0" % (TRACE, SPAN)],
         {"trace_id": TRACE, "sampled": False, "continued": True}),
        ("deferred: the rate decides", ["sentry-trace: %s-%s" % (TRACE, SPAN)],
         {"trace_id": TRACE, "continued": True}),
        ("uppercase accepted", ["sentry-trace: %s-%s-1" % (TRACE.upper(), SPAN)],
         {"trace_id": TRACE, "sampled": True}),
        ("bad trace id: new trace", ["sentry-trace: abc-%s-1" % SPAN],
         {"continued": False, "status": "trace_id", "parent_span_id": None}),
        ("nothing: new trace", [],
         {"continued": False, "status": "absent", "parent_span_id": None}),
        ("other org refused",
         ["sentry-trace: %s-%s-1" % (TRACE, SPAN),
          "baggage: sentry-trace_id=%s,sentry-org_id=999" % TRACE],
         {"continued": False, "status": "org_mismatch"}),
        ("traceparent accepted",
         ["traceparent: 00-%s-%s-01" % (TRACE, SPAN)],
         {"trace_id": TRACE, "parent_span_id": SPAN, "sampled": True}),
    ]
    for what, headers, want in cases:
        _, j = fetch(server, *headers)
        for k, v in want.items():
            t.eq(j[k], v, "%s: %s" % (what, k))
        if not j["continued"]:
            t.check(j["trace_id"] != TRACE, "%s: a fresh trace id" % what)
            t.eq(j["dsc"].get("public_key"), t.PUBLIC_KEY,
                 "%s: our own DSC" % what)
            t.eq(j["dsc"].get("release"), "mine", "%s: our release" % what)

    # Several requests on one connection, as concurrent streams.
    rc, out, err = t.run([t.tool("nghttp"), "-n", "-m", "20", "-s",
                          "-H", "sentry-trace: %s-%s-1" % (TRACE, SPAN),
                          server.url], timeout=30)
    t.eq(rc, 0, "20 concurrent streams on one connection (%s)" % err.strip())

    rc, _, err = server.stop()
    t.eq(rc, 0, "server exits 0 on SIGTERM (%s)" % err.strip()[-500:])


if __name__ == "__main__":
    t.main(test)
