#!/usr/bin/env python3
"""The gRPC example server against what a peer or its --exec program may
do to it:

- a baggage value whose decoded text holds line breaks and escape bytes
  comes back escaped, never as lines of its own (in the answer and in the
  server's log);
- an --exec program that leaves a job running in the background: the call
  ends when the program does (exit status 0, not a timeout), and the job
  is killed with it;
- a call that stalls (a raw HTTP/2 request never finished) is cancelled
  after 10 s, and the server serves the next call.

usage: grpc_server_test.py GRPC_SERVER GRPC_CLIENT"""

import os
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

from demotest import expect, start_server, stop, stop_all, finish

SERVER, CLIENT = map(os.path.abspath, sys.argv[1:3])
TRACE = "771a43a4192642f0b136d5159a501700"
SPAN = "b1c2d3e4f5a6b7c8"
work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))


def call(port, *args):
    started = time.time()
    r = subprocess.run([CLIENT] + list(args) + ["127.0.0.1:%d" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, text=True, errors="replace")
    return r.returncode, r.stdout, time.time() - started


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its new parent to reap it is gone too.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def frame(ftype, flags, stream_id, payload=b""):
    return (struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) +
            struct.pack(">I", stream_id) + payload)


def hpack(headers):  # literal fields, no indexing, no Huffman; short only
    return b"".join(b"\x00" + bytes([len(k)]) + k + bytes([len(v)]) + v
                    for k, v in headers)


def test():
    # 1. Hostile baggage, escaped.
    server, port, log = start_server(work, "escape", [SERVER])
    rc, out, _ = call(port, "-H", "sentry-trace: %s-%s-1" % (TRACE, SPAN),
                      "-H", "baggage: sentry-trace_id=%s,sentry-release="
                      "a%%0Aforged%%3D1%%1B[31m" % TRACE)
    expect(rc == 0, "hostile baggage: the call succeeded")
    expect("dsc.release=a\\x0aforged=1\\x1b[31m" in out,
           "hostile baggage: the decoded value comes back escaped")
    lines = out.splitlines()
    expect(not any(l.startswith("forged=") for l in lines),
           "hostile baggage: no line of its own in the answer")
    expect(stop(server) == 0, "hostile baggage: server stopped cleanly")
    with open(log, errors="replace") as f:
        logged = f.read()
    expect("\x1b" not in logged and
           not any(l.startswith("forged=") for l in logged.splitlines()),
           "hostile baggage: nothing injected into the server's log")

    # 2. An --exec program that leaves a job behind.
    pid_file = os.path.join(work, "job.pid")
    script = os.path.join(work, "leaves_a_job.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho started\nsleep 60 &\necho $! > %s\n"
                "exit 0\n" % pid_file)
    os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR)
    server, port, _ = start_server(work, "exec", [SERVER, "--exec", script])
    rc, out, took = call(port)
    expect(rc == 0, "--exec job: the call succeeded")
    expect("downstream_exit=0" in out,
           "--exec job: the program's exit status, not a timeout")
    expect(took < 5, "--exec job: the call ended with the program "
           "(%.1f s)" % took)
    job = int(open(pid_file).read())
    deadline = time.time() + 5
    while alive(job) and time.time() < deadline:
        time.sleep(0.05)
    expect(not alive(job), "--exec job: the background job was killed")
    expect(stop(server) == 0, "--exec job: server stopped cleanly")

    # 3. A stalled call is cancelled; the next one is served.
    server, port, _ = start_server(work, "stall", [SERVER])
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0) +
              frame(1, 4, 1, hpack([
                  (b":method", b"POST"), (b":scheme", b"http"),
                  (b":path", b"/x.Y/Stalled"), (b":authority", b"a"),
                  (b"content-type", b"application/grpc"),
                  (b"te", b"trailers")])))  # END_HEADERS, no END_STREAM
    time.sleep(11)  # the server's limit for one step of a call: 10 s
    rc, out, took = call(port)
    expect(rc == 0, "stalled call: the next call is served (%.1f s)" % took)
    s.close()
    expect(stop(server) == 0, "stalled call: server stopped cleanly")


try:
    test()
finally:
    stop_all()
finish()
