#!/usr/bin/env python3
"""The example server against clients that would hold it, over hand-made
HTTP/2 frames; each part checks one limit of examples/h2/server_loop.h:

- lockout:     41 connections with 100 unfinished streams each (past the
               4096 the server holds) do not lock a new client out;
- shares:      SETTINGS_MAX_CONCURRENT_STREAMS is advertised and kept, and
               a connection under its share takes the oldest stream of the
               one holding the most;
- timeouts:    handshake, idle and stream timeouts, also against a client
               that trickles a byte at a time;
- descriptors: 100 idle sockets on a server with 64 descriptors do not
               keep a new client waiting; past --max-conns, with every
               connection busy, a new one is closed at once;
- spans:       with --spans, unfinished streams carrying 40 KB trace
               headers cost bounded memory, and records keep 8 KiB;
- options:     the limits' options refuse bad values; --help lists them.

Small limits and timeouts are passed as options so that it runs in
seconds. Every server must exit 0 on SIGTERM (under --config=asan that
includes the leak check).

usage: limits_test.py H2_SERVER [PART...]"""

import json
import os
import resource
import socket
import sys
import time

import h2test as t
from h2test import (CANCEL, DATA, ENHANCE_YOUR_CALM, GOAWAY,
                    MAX_CONCURRENT_STREAMS, NO_ERROR, REFUSED_STREAM,
                    RST_STREAM, SPAN, TRACE)

GOOD_TRACE = ("sentry-trace", "%s-%s-1" % (TRACE, SPAN))
BLOCK = t.hpack(t.request_headers([GOOD_TRACE, ("baggage", "a=1")]))


def unfinished(sids, block=BLOCK):
    """Requests whose headers came but whose end never will."""
    return b"".join(t.headers_frames(sid, block, end_stream=False)
                    for sid in sids)


def resets(frames):
    """{stream id: error code} of the RST_STREAM frames among frames."""
    return {f[2]: t.error_code(f) for f in frames if f[0] == RST_STREAM}


def answered(port, what, timeout=10):
    """A new client's GET is answered with its trace continued. Returns
    the seconds that took."""
    started = time.time()
    s = t.connect(port)
    s.settimeout(timeout)
    try:
        s.sendall(t.PREFACE + t.frame(t.SETTINGS, 0, 0) + t.headers_frames(
            1, t.hpack(t.request_headers([GOOD_TRACE]))))
        frames = t.read_frames(s, until_stream=1, timeout=timeout)
    except OSError as e:
        frames = [("error", str(e))]
    finally:
        s.close()
    body = t.body_of(frames, 1) if frames and frames[0][0] != "error" else b""
    j = json.loads(body) if body else None
    took = time.time() - started
    ok = j is not None and j["trace_id"] == TRACE
    t.check(ok, "%s: a new client is answered (%.2f s)%s" % (
        what, took, "" if ok else "; last frames %r" % [
            f[:3] for f in frames][-3:]))
    return took


def stopped_cleanly(server, what):
    rc, _, err = server.stop(timeout=60)
    t.eq(rc, 0, "%s: server exits 0 on SIGTERM (%s)" %
         (what, err.strip()[-2000:]))


def lockout(binary):
    """The issue's case, with the default limits: 41 connections each
    opening 100 streams and never finishing them (about 410 KB sent)
    fill the 4096 streams the server holds. A new client is answered
    all the same: streams of the connections holding the most are reset
    for it."""
    server = t.Server(binary)
    socks = []
    for _ in range(41):
        s = t.open_h2(server.port)
        s.sendall(unfinished(range(1, 200, 2)))
        socks.append(s)
    seen = [t.sync(s) for s in socks]
    answered(server.port, "4100 unfinished streams")
    seen = [got + t.sync(s) for got, s in zip(seen, socks)]
    codes = [c for got in seen for c in resets(got).values()]
    t.check(len(codes) >= 5,
            "4101 streams for 4096 places: %d reset" % len(codes))
    t.check(ENHANCE_YOUR_CALM in codes,
            "streams of the largest holders reset with ENHANCE_YOUR_CALM")
    for s in socks:
        s.close()
    answered(server.port, "4100 unfinished streams dropped")
    stopped_cleanly(server, "lockout")


def shares(binary):
    """At most --conn-streams per connection, advertised; with all
    --max-streams taken, a connection under its share still opens a
    stream, and the oldest of the largest holder is reset for it."""
    server = t.Server(binary, "--max-streams", "20", "--conn-streams", "10")
    a = t.open_h2(server.port)
    a.sendall(unfinished(range(1, 23, 2)))  # 11 streams, before any ACK
    got = t.sync(a)
    t.eq(t.settings_of(got).get(MAX_CONCURRENT_STREAMS), 10,
         "SETTINGS_MAX_CONCURRENT_STREAMS advertised")
    t.eq(resets(got), {21: REFUSED_STREAM},
         "the 11th stream of a connection allowed 10: refused")
    b = t.open_h2(server.port)
    b.sendall(unfinished(range(1, 21, 2)))
    t.eq(resets(t.sync(b)), {}, "10 more on a second connection: taken")
    answered(server.port, "all 20 streams held by two connections")
    t.eq(resets(t.sync(a)), {1: ENHANCE_YOUR_CALM},
         "the oldest stream of the largest holder made room")
    t.eq(resets(t.sync(b)), {}, "the other holder kept its streams")
    a.close()
    b.close()
    stopped_cleanly(server, "shares")


def post_headers(sid):
    return t.headers_frames(sid, t.hpack(
        [(":method", "POST"), (":scheme", "http"),
         (":authority", "127.0.0.1"), (":path", "/"), GOOD_TRACE]),
        end_stream=False)


def timed(s, done, timeout=10, ack=True):
    started = time.time()
    frames, how = t.read_until(s, done, timeout, ack)
    return frames, how, time.time() - started


def timeouts(binary):
    """--handshake-timeout 300, --idle-timeout 500, --stream-timeout 800
    (ms); the sweeps run a quarter of the shortest apart, so each fires
    within 75 ms of its time (the checks leave room for a slow host)."""
    server = t.Server(binary, "--handshake-timeout", "300", "--idle-timeout",
                      "500", "--stream-timeout", "800")
    port = server.port
    for what, data in [("nothing sent", b""),
                       ("half a preface", t.PREFACE[:10])]:
        s = t.connect(port)
        s.sendall(data)
        _, how, took = timed(s, lambda f: False, ack=False)
        s.close()
        t.check(how == "closed" and 0.25 < took < 3,
                "handshake timeout, %s: closed after %.2f s (%s)" %
                (what, took, how))

    s = t.open_h2(port)
    frames, how, took = timed(s, lambda f: f[0] == GOAWAY)
    t.check(how == "done" and t.error_code(frames[-1]) == NO_ERROR and
            0.45 < took < 3,
            "idle timeout: GOAWAY (NO_ERROR) after %.2f s (%s)" % (took, how))
    _, how, took = timed(s, lambda f: False)
    t.check(how == "closed" and took < 2, "idle timeout: then closed")
    s.close()

    s = t.open_h2(port)
    s.sendall(unfinished([1]))
    frames, how, took = timed(s, lambda f: f[0] == RST_STREAM)
    t.check(how == "done" and resets(frames) == {1: CANCEL} and
            0.75 < took < 3.5,
            "stream timeout: an unfinished request reset (CANCEL) after "
            "%.2f s (%s)" % (took, how))
    frames, how, took = timed(s, lambda f: f[0] == GOAWAY)
    t.check(how == "done" and 0.45 < took < 3,
            "stream timed out: then the idle timeout (%.2f s)" % took)
    s.close()

    # A byte of body every 100 ms is progress of a kind, but the stream's
    # time is counted from its HEADERS.
    s = t.open_h2(port)
    s.sendall(post_headers(1))
    started, frames = time.time(), []
    while time.time() - started < 5 and RST_STREAM not in [
            f[0] for f in frames]:
        s.sendall(t.frame(DATA, 0, 1, b"x"))
        got, how = t.read_until(s, lambda f: f[0] == RST_STREAM, 0.1)
        frames += got
    took = time.time() - started
    s.close()
    t.check(resets(frames) == {1: CANCEL} and 0.75 < took < 3.5,
            "stream timeout against a trickle: reset after %.2f s" % took)

    s = t.open_h2(port)
    s.sendall(t.headers_frames(1, BLOCK))
    frames, how = t.read_until(
        s, lambda f: f[0] == DATA and f[1] & t.END_STREAM)
    t.check(how == "done", "a finished request is answered")
    frames, how, took = timed(s, lambda f: f[0] == GOAWAY)
    t.check(how == "done" and 0.45 < took < 3,
            "after its answer, the idle timeout (%.2f s)" % took)
    s.close()
    answered(port, "after the timeouts")
    stopped_cleanly(server, "timeouts")


def low_descriptor_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def descriptors(binary):
    """A server with 64 descriptors (so at most 32 connections by
    default) and 100 sockets that connect and send nothing: a new client
    is answered at once, not after the handshake timeout (5 s); the
    oldest idle connections were closed for the new ones."""
    server = t.Server(binary, preexec_fn=low_descriptor_limit)
    socks = [socket.create_connection(("127.0.0.1", server.port))
             for _ in range(100)]
    took = answered(server.port, "100 idle sockets, 64 descriptors",
                    timeout=10)
    t.check(took < 3, "100 idle sockets: answered in %.2f s" % took)
    closed = 0
    for s in socks:
        _, how = t.read_until(s, lambda f: False, 0.05, ack=False)
        closed += how == "closed"
        s.close()
    t.check(closed >= 100 - 32,
            "100 idle sockets: the oldest closed for new ones (%d)" % closed)
    stopped_cleanly(server, "idle sockets")

    # Past --max-conns with a stream open on every connection, a new
    # connection is closed at once rather than left waiting.
    server = t.Server(binary, "--max-conns", "2")
    busy = []
    for _ in range(2):
        s = t.open_h2(server.port)
        s.sendall(unfinished([1]))
        t.sync(s)
        busy.append(s)
    s = t.connect(server.port)
    frames, how, took = timed(s, lambda f: False, 5, ack=False)
    s.close()
    t.check(how == "closed" and not frames and took < 2,
            "--max-conns 2, both busy: a third closed at once (%.2f s)" % took)
    busy[0].sendall(t.headers_frames(3, BLOCK))
    frames = t.read_frames(busy[0], until_stream=3)
    t.check(t.body_of(frames, 3), "--max-conns 2: the busy ones still served")
    for s in busy:
        s.close()
    stopped_cleanly(server, "--max-conns")


def spans(binary):
    """--spans keeps the trace headers of each request for its record.
    1000 unfinished streams (10 connections of 100) each carrying
    `sentry-trace`, `baggage` and `traceparent` of 40 KB (the most that
    fits the 8 CONTINUATION frames nghttp2 allows) cost a bounded amount
    of memory, not the 120 MB sent; a record keeps at most 8 KiB."""
    log = os.path.join(t.tmpdir(), "spans.jsonl")
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:  # freed header buffers are not held back
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=4"
    server = t.Server(binary, "--spans", log, env=env)
    huge = [(name, c * 40000) for name, c in
            [("sentry-trace", "s"), ("baggage", "b"), ("traceparent", "t")]]
    block = t.hpack(t.request_headers(huge))
    answered(server.port, "--spans")
    before = t.rss_kib(server.proc.pid)
    socks = []
    for _ in range(10):
        s = t.open_h2(server.port)
        s.sendall(unfinished(range(1, 200, 2), block))
        socks.append(s)
    for s in socks:
        t.eq(resets(t.sync(s)), {}, "--spans: 100 streams of 120 KB headers")
    grew = (t.rss_kib(server.proc.pid) - before) / 1024
    t.check(grew < 60, "--spans: 1000 unfinished streams with 120 KB of "
            "trace headers each: RSS grew %.1f MB (under 60)" % grew)
    for s in socks:
        s.close()

    s = t.open_h2(server.port)
    s.sendall(t.headers_frames(1, block))
    frames = t.read_frames(s, until_stream=1)
    s.close()
    t.check(t.body_of(frames, 1), "--spans: a request with 120 KB answered")
    stopped_cleanly(server, "--spans")
    with open(log) as f:
        records = [json.loads(line) for line in f]
    kept = [sum(len(v) for _, v in r["headers"]) for r in records]
    t.eq(len(records), 2, "--spans: a record per answered request")
    t.eq(kept[-1], 8192, "--spans: the record keeps 8 KiB of the 120 KB")


def options(binary):
    for args in (["--conn-streams", "0"], ["--max-streams", "-5"],
                 ["--max-conns", "x"], ["--handshake-timeout", ""],
                 ["--idle-timeout", "9999999999"], ["--stream-timeout"]):
        rc, _, err = t.run([binary] + args, timeout=10)
        t.check(rc == 2 and "usage" in err,
                "%s: refused with usage (exit %s)" % (" ".join(args), rc))
    rc, out, _ = t.run([binary, "--help"], timeout=10)
    t.check(rc == 0 and all(o in out for o in (
        "--conn-streams", "--max-streams", "--max-conns",
        "--handshake-timeout", "--idle-timeout", "--stream-timeout")),
        "--help lists the limits (exit %s)" % rc)


PARTS = {"lockout": lockout, "shares": shares, "timeouts": timeouts,
         "descriptors": descriptors, "spans": spans, "options": options}


def test():
    for name in sys.argv[2:] or PARTS:
        print("-- %s" % name)
        PARTS[name](sys.argv[1])


if __name__ == "__main__":
    t.main(test)
