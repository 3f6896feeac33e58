#!/usr/bin/env python3
"""h2load against the example server: 20 000 requests on 8 connections
with 16 streams each, both trace headers on every request; no request may
fail, and the server must then stop cleanly (exit 0 after SIGTERM, which
under --config=asan includes the leak check).

usage: h2load_test.py H2_SERVER"""

import re
import sys

import h2test as t
from h2test import DSC, SPAN, TRACE

REQUESTS = 20000


def test():
    server = t.Server(sys.argv[1], "--dsn", t.DSN, "--sample-rate", "0.25")
    rc, out, err = t.run([t.tool("h2load"), "-n", str(REQUESTS), "-c", "8",
                          "-m", "16",
                          "-H", "sentry-trace: %s-%s-1" % (TRACE, SPAN),
                          "-H", "baggage: " + DSC + ",vendor=v",
                          server.url], timeout=240)
    print(out)
    t.eq(rc, 0, "h2load exit status (%s)" % err.strip())
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, "
                  r"(\d+) succeeded, (\d+) failed, (\d+) errored, "
                  r"(\d+) timeout", out)
    t.check(m is not None, "h2load printed its requests line")
    total, started, done, ok, failed, errored, timeout = map(int, m.groups())
    t.eq(ok, REQUESTS, "every request succeeded")
    t.eq((failed, errored, timeout), (0, 0, 0), "none failed")
    m = re.search(r"status codes: (\d+) 2xx", out)
    t.eq(int(m.group(1)) if m else None, REQUESTS, "all answered 2xx")

    # The server still answers afterwards.
    rc, out, err = t.run([t.tool("nghttp"), "-H",
                          "sentry-trace: %s-%s-0" % (TRACE, SPAN), server.url],
                         timeout=30)
    t.eq(t.json_line(out)["trace_id"], TRACE, "still answering")

    rc, _, err = server.stop(timeout=60)
    t.eq(rc, 0, "server exits 0 on SIGTERM (%s)" % err.strip()[-2000:])


if __name__ == "__main__":
    t.main(test)
