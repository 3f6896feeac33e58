"""Helpers for the HTTP/2 tests: start and stop servers on 127.0.0.1 with
random ports, run peers with timeouts, and build raw HTTP/2 frames.

Every process started here is stopped when the test ends, also when Bazel
stops the test with SIGTERM (see _on_term)."""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import weakref

TRACE = "771a43a4192642f0b136d5159a501700"
SPAN = "b1c2d3e4f5a6b7c8"
PUBLIC_KEY = "49d0f7386ad645858ae85020e393bef3"
DSN = "https://%s@o123.ingest.sentry.io/42" % PUBLIC_KEY
DSC = ("sentry-trace_id=%s,sentry-public_key=%s,sentry-sample_rate=0.25,"
       "sentry-sampled=true,sentry-sample_rand=0.123456,"
       "sentry-release=app%%401.0" % (TRACE, PUBLIC_KEY))

_children = []


def _on_term(signum, frame):
    raise SystemExit("stopped by signal %d" % signum)


signal.signal(signal.SIGTERM, _on_term)


def tmpdir():
    return tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))


def tool(name):
    """Path of a system tool; nghttpd lives in /usr/sbin, which a test's
    PATH may not list."""
    extra = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"]
    path = os.pathsep.join([os.environ.get("PATH", "")] + extra)
    found = shutil.which(name, path=path)
    if not found:
        sys.exit("%s not found (Debian: nghttp2-client / nghttp2-server)" % name)
    return found


def start(cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         **kw)
    _children.append(p)
    return p


def stop(p, timeout=30):
    """SIGTERM, then wait; SIGKILL if it does not stop. Returns (rc, out,
    err)."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out.decode(errors="replace"), err.decode(errors="replace")
    finally:
        if p in _children:
            _children.remove(p)
    return p.returncode, out.decode(errors="replace"), err.decode(
        errors="replace")


def cleanup():
    for p in list(_children):
        if p.poll() is None:
            p.kill()
        p.communicate()
    _children.clear()


def run(cmd, timeout=60, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(
        errors="replace")


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nothing listens on port %d" % port)


def free_port():
    """A port free right now (for peers that cannot pick one themselves)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The example server on a random port; keywords go to Popen."""

    def __init__(self, binary, *args, **kw):
        self.port_file = os.path.join(tmpdir(), "port")
        self.proc = start([binary, "--port", "0", "--port-file",
                           self.port_file] + list(args), **kw)
        deadline = time.time() + 20
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                rc, out, err = stop(self.proc)
                raise SystemExit("server did not start (rc %s): %s" % (rc, err))
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d/" % self.port

    def stop(self, timeout=30):
        return stop(self.proc, timeout)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))
    print("ok:", what)


def main(test):
    """Runs test(), always cleaning up; exit status 0 on success."""
    try:
        test()
    finally:
        cleanup()
    print("PASS")


# ---- output of our client ----------------------------------------------------

def client_sent(out):
    """The `> name: value` request lines printed by h2_client, as a dict of
    lists."""
    sent = {}
    for line in out.splitlines():
        m = re.match(r"> ([^:]*|:[^:]*): (.*)$", line)
        if m:
            sent.setdefault(m.group(1), []).append(m.group(2))
    return sent


def client_body(out):
    """The body printed by h2_client (after the blank line)."""
    return out.split("\n\n", 1)[1] if "\n\n" in out else ""


def json_line(text):
    """The first line of text that is a JSON object."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            return json.loads(line)
    raise AssertionError("no JSON object in: %r" % text[-2000:])


# ---- raw HTTP/2 frames -----------------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = (
    0, 1, 3, 4, 6, 7, 8)
CONTINUATION = 9
# Error codes (RFC 9113, 7) and the setting the server's limits show in.
NO_ERROR, REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM = 0x0, 0x7, 0x8, 0xb
MAX_CONCURRENT_STREAMS = 0x3
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(ftype, flags, stream_id, payload=b""):
    return (struct.pack(">I", len(payload))[1:] +
            struct.pack(">BBI", ftype, flags, stream_id) + payload)


def _hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack(headers):
    """Header block with every field as a literal without indexing and a
    new name (RFC 7541 6.2.2), no Huffman coding."""
    block = b""
    for name, value in headers:
        n = name.encode() if isinstance(name, str) else name
        v = value.encode() if isinstance(value, str) else value
        block += b"\x00" + _hpack_int(len(n), 7) + n + _hpack_int(len(v), 7) + v
    return block


def request_headers(extra, path="/"):
    return [(":method", "GET"), (":scheme", "http"),
            (":authority", "127.0.0.1"), (":path", path)] + list(extra)


def headers_frames(stream_id, block, end_stream=True, end_headers=True,
                   max_frame=16384):
    """HEADERS then CONTINUATION frames carrying block."""
    chunks = [block[i:i + max_frame]
              for i in range(0, len(block), max_frame)] or [b""]
    out = b""
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        flags = (END_HEADERS if last and end_headers else 0)
        if i == 0:
            out += frame(HEADERS, flags | (END_STREAM if end_stream else 0),
                         stream_id, chunk)
        else:
            out += frame(CONTINUATION, flags, stream_id, chunk)
    return out


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(10)
    return s


def open_h2(port):
    """A connection that has sent the preface and an empty SETTINGS."""
    s = connect(port)
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    return s


def read_frames(s, until_stream=None, timeout=10):
    """Frames from s until stream until_stream ends (DATA or HEADERS with
    END_STREAM, or RST_STREAM), or every stream of until_stream when it is
    a collection of ids; or until a GOAWAY, the connection's end, or the
    timeout. Returns a list of (type, flags, stream_id, payload); a
    SETTINGS frame from the server is acknowledged."""
    if until_stream is None:
        waiting = set()
    elif isinstance(until_stream, int):
        waiting = {until_stream}
    else:
        waiting = set(until_stream)
    s.settimeout(timeout)
    buf = b""
    frames = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            ftype, flags = buf[3], buf[4]
            sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            payload = buf[9:9 + length]
            buf = buf[9 + length:]
            frames.append((ftype, flags, sid, payload))
            if ftype == SETTINGS and not flags & ACK:
                try:
                    s.sendall(frame(SETTINGS, ACK, 0))
                except OSError:
                    pass  # the server may already have closed
            if ftype == GOAWAY:
                return frames
            if sid in waiting and (
                    ftype == RST_STREAM or
                    (ftype in (DATA, HEADERS) and flags & END_STREAM)):
                waiting.discard(sid)
                if not waiting:
                    return frames
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionError):
            return frames
        if not chunk:
            return frames
        buf += chunk
    return frames


# Bytes read_until read past the frame it stopped at, by socket.
_unread = weakref.WeakKeyDictionary()


def read_until(s, done, timeout=10, ack=True):
    """Frames from s until done(frame) is true for one of them (it is the
    last one returned), the connection's end or the timeout. Returns
    (frames, how): how is "done", "closed" (the peer ended the
    connection) or "timeout". SETTINGS from the server are acknowledged
    unless ack is false; what was read past the last frame returned is
    kept for the next call."""
    buf = _unread.pop(s, b"")
    frames = []
    deadline = time.time() + timeout
    while True:
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            length = int.from_bytes(buf[:3], "big")
            f = (buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF,
                 buf[9:9 + length])
            buf = buf[9 + length:]
            frames.append(f)
            if ack and f[0] == SETTINGS and not f[1] & ACK:
                try:
                    s.sendall(frame(SETTINGS, ACK, 0))
                except OSError:
                    pass
            if done(f):
                _unread[s] = buf
                return frames, "done"
        left = deadline - time.time()
        if left <= 0:
            return frames, "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return frames, "timeout"
        except ConnectionError:
            return frames, "closed"
        if not chunk:
            return frames, "closed"
        buf += chunk


def sync(s, timeout=30):
    """Waits until the server has handled everything sent before on s and
    sent all it had to say about it; returns the frames read meanwhile.
    Two PINGs: the answer to the first may overtake frames queued with it
    (nghttp2 sends PING answers first), the second is answered after
    those have left."""
    frames = []
    for _ in range(2):
        s.sendall(frame(PING, 0, 0, b"syncsync"))
        got, how = read_until(s, lambda f: f[0] == PING and f[1] & ACK,
                              timeout)
        if how != "done":
            raise AssertionError("no PING answer (%s)" % how)
        frames += got
    return frames


def error_code(f):
    """The error code of a RST_STREAM or GOAWAY frame."""
    return int.from_bytes(f[3][:4] if f[0] == RST_STREAM else f[3][4:8], "big")


def settings_of(frames):
    """The settings of the server's first SETTINGS frame, as a dict."""
    for ftype, flags, _, payload in frames:
        if ftype == SETTINGS and not flags & ACK:
            return {int.from_bytes(payload[i:i + 2], "big"):
                    int.from_bytes(payload[i + 2:i + 6], "big")
                    for i in range(0, len(payload), 6)}
    raise AssertionError("no SETTINGS from the server")


def rss_kib(pid):
    """The resident set of a process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def body_of(frames, stream_id):
    return b"".join(p for t, f, sid, p in frames
                    if t == DATA and sid == stream_id)
