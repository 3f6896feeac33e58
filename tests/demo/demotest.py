"""What the demo's tests share: the example servers started on a free
port and stopped with SIGTERM, and checks that print and count their
failures."""

import os
import signal
import subprocess
import time

children = []  # every server started and not yet stopped
failures = []


def _on_term(signum, frame):
    raise SystemExit("stopped by signal %d" % signum)


signal.signal(signal.SIGTERM, _on_term)


def expect(cond, what):
    print(("ok: " if cond else "FAILED: ") + what)
    if not cond:
        failures.append(what)


def start_server(work, name, args):
    """Starts args + --port 0 --port-file FILE in `work`, its output to
    work/NAME.log; returns (process, port, log path)."""
    port_file = os.path.join(work, name + ".port")
    log_path = os.path.join(work, name + ".log")
    with open(log_path, "w") as log:
        p = subprocess.Popen(args + ["--port", "0", "--port-file", port_file],
                             stdout=log, stderr=subprocess.STDOUT, cwd=work)
    children.append(p)
    deadline = time.time() + 20
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if p.poll() is not None or time.time() > deadline:
            raise SystemExit("%s did not start" % name)
        time.sleep(0.02)
    return p, int(open(port_file).read()), log_path


def stop(p):
    """SIGTERM, then its exit status (None when it had to be killed)."""
    if p in children:
        children.remove(p)
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def stop_all():
    """Stops every server still running; returns their exit statuses."""
    return [stop(p) for p in list(children)]


def finish():
    """The closing line, and the exit status."""
    print("%d failed" % len(failures))
    raise SystemExit(1 if failures else 0)
