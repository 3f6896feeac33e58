#!/usr/bin/env python3
"""The gRPC example server against what a peer or its --exec program may
do to it:

- escape:     a baggage value whose decoded text holds line breaks and
              escape bytes comes back escaped, never as lines of its own
              (in the answer and in the server's log);
- exec:       an --exec program that leaves a job running in the
              background: the call ends when the program does (exit status
              0, not a timeout), and the job is killed with it;
- concurrent: three calls that never finish (raw HTTP/2 requests whose end
              never comes) do not delay another client: calls are served
              several at once;
- pool:       at most --max-calls at once, each cancelled (DEADLINE_EXCEEDED)
              --call-timeout ms after it began; a call past the pool waits
              for a free place;
- options:    bad option values are refused (exit 2 with the usage), --help
              lists the limits; a server that cannot start exits 1, and a
              client with a bad -H exits 2, without a leak (under
              --config=asan a leak report would change the exit status).

usage: grpc_server_test.py GRPC_SERVER GRPC_CLIENT [PART...]"""

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


def stall(port, path=b"/x.Y/Stalled"):
    """A call whose request never ends: its HEADERS without END_STREAM,
    the server's SETTINGS acknowledged (so the connection itself stays
    good). Returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0) +
              frame(1, 4, 1, hpack([
                  (b":method", b"POST"), (b":scheme", b"http"),
                  (b":path", path), (b":authority", b"a"),
                  (b"content-type", b"application/grpc"),
                  (b"te", b"trailers")])))  # END_HEADERS, no END_STREAM
    buf = b""
    while True:
        buf += s.recv(65536)
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n = int.from_bytes(buf[:3], "big")
            ftype, flags = buf[3], buf[4]
            buf = buf[9 + n:]
            if ftype == 4 and not flags & 1:
                s.sendall(frame(4, 1, 0))
                return s


def ended(s, timeout):
    """Seconds until the server ended stream 1 of s (RST_STREAM, or
    HEADERS or DATA with END_STREAM) or closed the connection; None when
    it did neither within timeout."""
    started = time.time()
    s.settimeout(timeout)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return time.time() - started
            buf += chunk
            while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(
                    buf[:3], "big"):
                n = int.from_bytes(buf[:3], "big")
                ftype, flags = buf[3], buf[4]
                sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                buf = buf[9 + n:]
                if sid == 1 and (ftype == 3 or
                                 (ftype in (0, 1) and flags & 1)):
                    return time.time() - started
    except (socket.timeout, ConnectionError):
        return None if time.time() - started >= timeout else \
            time.time() - started


def escape():
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


def exec_job():
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


def concurrent():
    """The issue's case with the default limits: three calls that never
    finish delayed another client by 29.8 s when calls were served one at
    a time."""
    server, port, _ = start_server(work, "concurrent", [SERVER])
    stalled = [stall(port) for _ in range(3)]
    rc, out, took = call(port)
    expect(rc == 0 and took < 3,
           "3 calls that never finish: another client is answered in "
           "%.1f s" % took)
    expect(stop(server) == 0, "3 stalled calls: server stopped cleanly")
    for s in stalled:
        s.close()


def pool():
    server, port, log = start_server(work, "pool", [
        SERVER, "--max-calls", "2", "--call-timeout", "1000"])
    stalled = [stall(port, b"/x.Y/Stalled%d" % i) for i in range(2)]
    time.sleep(0.2)  # both taken by the pool before the next call comes
    rc, out, took = call(port)
    expect(rc == 0 and 0.5 < took < 5,
           "2 stalled calls, --max-calls 2: the next waited for a place "
           "(%.1f s)" % took)
    for i, s in enumerate(stalled):
        took = ended(s, 5)
        expect(took is not None,
               "stalled call %d ended by its --call-timeout" % i)
        s.close()
    expect(stop(server) == 0, "--max-calls: server stopped cleanly")
    with open(log, errors="replace") as f:
        lines = f.read().splitlines()
    expect(lines.count("grpc_server: call past its deadline, cancelled") == 2,
           "--call-timeout: both stalled calls logged as cancelled")
    for i in range(2):
        span = [l for l in lines if l.startswith("span ") and
                "/x.Y/Stalled%d " % i in l]
        took = int(span[0].rsplit("duration_us=", 1)[1]) if span else 0
        expect(span and "status=4 " in span[0] and 900000 <= took < 3e6,
               "stalled call %d: its record DEADLINE_EXCEEDED (4), %d us long"
               % (i, took))

    # The timeout is the call's own, from its start: a call within it is
    # served whatever the others do.
    server, port, _ = start_server(work, "pool1", [
        SERVER, "--max-calls", "1", "--call-timeout", "500"])
    s = stall(port)
    took = ended(s, 5)
    expect(took is not None and 0.4 < took < 3,
           "--call-timeout 500: a stalled call cancelled (%.2f s)" %
           (took or -1))
    rc, out, took = call(port)
    expect(rc == 0, "--max-calls 1: the next call is served")
    s.close()
    expect(stop(server) == 0, "--max-calls 1: server stopped cleanly")


def run(args):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, text=True, errors="replace")
    return r.returncode, r.stdout, r.stderr


def options():
    for args in (["--port", "99999"], ["--port", "-1"],
                 ["--max-calls", "0"], ["--max-calls", "257"],
                 ["--max-calls", "x"], ["--call-timeout", "0"],
                 ["--call-timeout"], ["--exec", "true", "--bogus"]):
        rc, _, err = run([SERVER] + args)
        expect(rc == 2 and "usage" in err,
               "grpc_server %s: refused with the usage (exit %s)" %
               (" ".join(args), rc))
    rc, out, _ = run([SERVER, "--help"])
    expect(rc == 0 and "--max-calls" in out and "--call-timeout" in out,
           "grpc_server --help: lists the limits (exit %s)" % rc)

    rc, _, err = run([SERVER, "--port-file", "/nonexistent/x"])
    expect(rc == 1 and "cannot write /nonexistent/x" in err and
           "Sanitizer" not in err,
           "--port-file in a missing directory: exit 1, nothing leaked "
           "(exit %s)" % rc)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        rc, _, err = run([SERVER, "--port", str(taken.getsockname()[1])])
    expect(rc == 1 and "cannot listen" in err and "Sanitizer" not in err,
           "a port in use: exit 1, nothing leaked (exit %s)" % rc)
    rc, _, err = run([CLIENT, "-H", "nocolon", "127.0.0.1:1"])
    expect(rc == 2 and "usage" in err and "Sanitizer" not in err,
           "grpc_client -H nocolon: exit 2, nothing leaked (exit %s)" % rc)


PARTS = {"escape": escape, "exec": exec_job, "concurrent": concurrent,
         "pool": pool, "options": options}

try:
    for name in sys.argv[3:] or PARTS:
        print("-- %s" % name)
        PARTS[name]()
finally:
    stop_all()
finish()
