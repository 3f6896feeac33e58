#!/usr/bin/env python3
"""The HTTP/1.1 example server and client (examples/http1) on 127.0.0.1:
the page's meta tags, static files, the continued trace, the client's
propagation, and hostile requests, each of which must get its error status
and leave the server answering. Ends with SIGTERM while a connection is
open: the server must stop cleanly (exit 0; under --config=asan that
includes the leak check).

usage: http1_test.py HTTP1_SERVER HTTP1_CLIENT"""

import html.parser
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SERVER, CLIENT = sys.argv[1], sys.argv[2]
TRACE = "771a43a4192642f0b136d5159a501700"
SPAN = "b1c2d3e4f5a6b7c8"
DSN = "https://49d0f7386ad645858ae85020e393bef3@o77.ingest.sentry.io/42"
TMP = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
children = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def eq(got, want, what):
    check(got == want, "%s (got %r, want %r)" % (what, got, want))


def start_server(*args, name="server"):
    port_file = os.path.join(TMP, name + ".port")
    p = subprocess.Popen([SERVER, "--port", "0", "--port-file", port_file] +
                         list(args), stderr=subprocess.PIPE)
    children.append(p)
    deadline = time.time() + 20
    while not os.path.exists(port_file):
        if p.poll() is not None or time.time() > deadline:
            raise SystemExit("server did not start: %r" % p.stderr.read())
        time.sleep(0.02)
    with open(port_file) as f:
        return p, int(f.read())


def exchange(port, raw, timeout=10):
    """Sends raw bytes, reads until the server closes; returns the bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        chunks = []
        while True:
            c = s.recv(65536)
            if not c:
                return b"".join(chunks)
            chunks.append(c)


def get(port, path, headers=()):
    lines = ["GET %s HTTP/1.1" % path, "Host: x", "Connection: close"]
    lines += ["%s: %s" % h for h in headers]
    raw = exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head.decode(), body.decode()


def status_of(raw):
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0


class Meta(html.parser.HTMLParser):
    """Every element of a page, and the meta tags' attributes."""

    def __init__(self):
        super().__init__()
        self.tags, self.meta = [], {}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content")


def test_page(port):
    status, head, body = get(port, "/page")
    eq(status, 200, "GET /page answers")
    check("text/html" in head, "the page is HTML")
    m = Meta()
    m.feed(body)
    trace = m.meta.get("sentry-trace", "")
    check(len(trace) == 51 and trace.endswith("-1"),
          "a new head's sentry-trace meta tag, sampled: %r" % trace)
    check("sentry-sampled=true" in m.meta.get("baggage", ""),
          "a new head's baggage meta tag")

    # Hostile bytes a DSC value may hold raw ('<>&) or encoded ("\n).
    hostile = "sentry-release=x'><script>alert(1)</script>&amp%22%0A"
    status, _, body = get(port, "/page?q=1", [
        ("sentry-trace", "%s-%s-1" % (TRACE, SPAN)),
        ("baggage", hostile + ",sentry-org_id=77")])
    m = Meta()
    m.feed(body)
    eq(m.tags, ["html", "head", "meta", "meta", "meta", "title", "body", "p"],
       "the hostile baggage added no element to the page")
    check(m.meta["sentry-trace"].startswith(TRACE + "-") and
          m.meta["sentry-trace"].endswith("-1"),
          "the page continues the request's trace")
    eq(m.meta["baggage"].split(",")[0], hostile,
       "the attribute reads back as the DSC member, byte for byte")
    check("&#x27;&gt;&lt;script&gt;" in body and "&amp;amp%22%0A" in body,
          "quotes, <, > and & are escaped in the attribute")


def test_template():
    page = os.path.join(TMP, "page.html")
    with open(page, "w") as f:
        f.write("<html><head><!--stp-meta--></head><body>mine</body></html>")
    p, port = start_server("--page", page, "--sample-rate", "0",
                           name="template")
    status, _, body = get(port, "/page")
    check(status == 200 and body.startswith(
        '<html><head><meta name="sentry-trace" content="') and
        body.endswith("</head><body>mine</body></html>") and "-0\">" in body,
        "--page: the meta tags replace the marker")
    stop(p)
    with open(page, "w") as f:
        f.write("<html>no marker</html>")
    r = subprocess.run([SERVER, "--port", "0", "--page", page],
                       stderr=subprocess.PIPE, timeout=20)
    check(r.returncode == 2 and b"<!--stp-meta-->" in r.stderr,
          "a --page without the marker is refused")


def test_trace_and_files(port, static_dir):
    status, head, body = get(port, "/api", [
        ("sentry-trace", "%s-%s" % (TRACE, SPAN)),
        ("baggage", "sentry-sampled=false,sentry-org_id=77")])
    a = json.loads(body)
    check(a["continued"] and a["trace_id"] == TRACE and
          a["parent_span_id"] == SPAN and a["sampled"] is False,
          "GET /api: the continued trace, decided by the DSC")
    check("Access-Control-Allow-Origin: *" in head, "any origin may read it")
    raw = exchange(port, b"OPTIONS /api HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\n")
    check(status_of(raw) == 204 and
          b"Access-Control-Allow-Headers: sentry-trace, baggage" in raw,
          "the CORS preflight allows the trace headers")
    with open(os.path.join(static_dir, "m.js"), "w") as f:
        f.write("export const x = 1;\n")
    status, head, body = get(port, "/static/m.js")
    check(status == 200 and "text/javascript" in head and
          body == "export const x = 1;\n", "a static module, as it is")
    for path, want in [("/static/../m.js", 400), ("/static/a//m.js", 400),
                       ("/static/./m.js", 400), ("/static/%2e%2e/x", 400),
                       ("/static/nope.js", 404), ("/static/m.js/", 400)]:
        eq(get(port, path)[0], want, "GET %s" % path)


def test_keep_alive(port):
    raw = exchange(port, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    eq(raw.count(b"HTTP/1.1 200 OK"), 2, "two pipelined requests, two answers")


HOSTILE = [
    ("obs-fold", b"GET / HTTP/1.1\r\nbaggage: a=1\r\n b=2\r\n\r\n", 400),
    ("a bare CR in a value",
     b"GET / HTTP/1.1\r\nsentry-trace: x\rbaggage: y\r\n\r\n", 400),
    ("a NUL in a value", b"GET / HTTP/1.1\r\nbaggage: a=\x001\r\n\r\n", 400),
    ("a name that is not a token", b"GET / HTTP/1.1\r\nbag gage: a\r\n\r\n",
     400),
    ("no colon", b"GET / HTTP/1.1\r\nbaggage\r\n\r\n", 400),
    ("a request line of two parts", b"GET /\r\n\r\n", 400),
    ("a target without a slash", b"GET x HTTP/1.1\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\n\r\n", 505),
    ("a body", b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413),
    ("chunked", b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413),
    ("a head of 17 KiB",
     b"GET / HTTP/1.1\r\nbaggage: " + b"a" * 17000 + b"\r\n\r\n", 431),
    ("101 fields", b"GET / HTTP/1.1\r\n" + b"x: 1\r\n" * 101 + b"\r\n", 431),
    ("a cut head", b"GET / HTTP/1.1\r\nbaggage: a=1", 400),
    ("POST", b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
]


def test_hostile(port):
    for what, raw, want in HOSTILE:
        if what == "a cut head":
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(raw)
                s.shutdown(socket.SHUT_WR)
                got = s.recv(4096)
        else:
            got = exchange(port, raw)
        eq(status_of(got), want, what)
        check(b"\r\nbaggage" not in got and b"\r\nsentry-trace" not in got,
              "%s: nothing of it in the answer's head" % what)
        eq(get(port, "/still")[0], 200, "%s: the server still answers" % what)


def client(*args):
    r = subprocess.run([CLIENT] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def test_client(port):
    spans = os.path.join(TMP, "spans.jsonl")
    rc, out, _ = client("-H", "sentry-trace: %s-%s-1" % (TRACE, SPAN),
                        "-H", "baggage: sentry-org_id=77,vendor=1",
                        "--spans", spans, "http://127.0.0.1:%d/c" % port)
    eq(rc, 0, "http1_client got an answer")
    a = json.loads(out.split("\n\n", 1)[1])
    rec = json.loads(open(spans).read().splitlines()[-1])
    check(a["trace_id"] == TRACE and a["parent_span_id"] == rec["span_id"] and
          rec["parent_span_id"] == SPAN,
          "client -> server: the server's parent is the client's span")
    check(out.count("> baggage: ") == 1 and
          "> baggage: vendor=1,sentry-org_id=77," in out,
          "one baggage header: the request's own member, then the DSC")
    rc, out, _ = client("--target", "^http://example\\.com/",
                        "http://127.0.0.1:%d/t" % port)
    check(rc == 0 and "sentry-trace" not in out.split("\n\n")[0] and
          json.loads(out.split("\n\n", 1)[1])["status"] == "absent",
          "a URL no --target matches gets no trace headers")
    for bad in (["-H", "x: a\r\nInjected: 1"], ["-H", "a b: 1"],
                ["http://127.0.0.1:%d/a b" % port]):
        rc, out, _ = client(*(bad + (["http://127.0.0.1:%d/" % port]
                                     if bad[0] == "-H" else [])))
        check(rc == 2 and out == "", "refused before sending: %r" % bad)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("the server did not stop")
    return p.returncode, err.decode(errors="replace")


def main():
    static_dir = os.path.join(TMP, "static")
    os.mkdir(static_dir)
    p, port = start_server("--dsn", DSN, "--sample-rate", "1", "--static",
                           static_dir)
    try:
        test_page(port)
        test_template()
        test_trace_and_files(port, static_dir)
        test_keep_alive(port)
        test_hostile(port)
        test_client(port)
        idle = socket.create_connection(("127.0.0.1", port))
        rc, err = stop(p)
        idle.close()
        eq(rc, 0, "SIGTERM with a connection open: a clean stop (%s)" %
           err.strip().splitlines()[-1:])
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.communicate()
    print("PASS")


main()
