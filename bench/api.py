#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The control API: start-up to a ready socket, and request latency.

  start-up  `osprey --api-sock PATH` is started N times (default 20); each
            time the wall time from process start until a connect() to
            the socket succeeds, and the CPU time the process (all its
            threads) had used by then, from /proc/PID/task/*/schedstat
            (nanoseconds). Also the CPU time over the whole life up to
            exit after SIGTERM (rusage from wait4). Firecracker's
            SPECIFICATION.md states <= 8 CPU ms up to API socket
            availability (wall clock 6 to 60 ms, typically 12 ms, on an
            M5D.metal host): the reference.
  latency   one server; GET /, GET /vm/config, PUT /machine-config and
            PUT /boot-source, each R times (default 500), over one
            persistent HTTP/1.1 connection and with a new connection per
            request; median, p99 and minimum in microseconds, measured
            from sending the request to having read the whole response.

Prints figures; a benchmark, not a test: it never fails on slow numbers.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRECRACKER_CPU_MS = 8


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket (the host name only fills Host:)."""

    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def cpu_ns(pid):
    """CPU time used so far by every thread of pid, in nanoseconds."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that just ended
    return total


def try_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def start_server(osprey, sock, timeout=10.0):
    """Starts osprey; returns (process, wall s, CPU ns) once the socket takes connections."""
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = time.monotonic()
    p = subprocess.Popen([osprey, "--api-sock", sock], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        # Cheap checks first, short sleeps: the poller must not take the
        # CPU away from the process it measures (2-core hosts).
        if os.path.exists(sock) and try_connect(sock):
            wall = time.monotonic() - t0
            return p, wall, cpu_ns(p.pid)
        if p.poll() is not None:
            raise RuntimeError(f"osprey exited with status {p.returncode}: "
                               f"{p.stderr.read().decode(errors='replace').strip()}")
        if time.monotonic() - t0 > timeout:
            p.kill()
            raise RuntimeError("the API socket did not come up")
        time.sleep(0.0002)


def stop_server(p):
    """SIGTERM, then the whole life's CPU time from wait4 (seconds)."""
    p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            p.kill()
        time.sleep(0.001)


def summary(values, unit, scale=1.0):
    v = sorted(x * scale for x in values)
    return (f"median {statistics.median(v):8.2f} {unit}  min {v[0]:8.2f}  "
            f"max {v[-1]:8.2f}")


def bench_startup(osprey, runs, tmp):
    sock = os.path.join(tmp, "start.sock")
    walls, cpus, lives = [], [], []
    for _ in range(runs):
        p, wall, cpu = start_server(osprey, sock)
        lives.append(stop_server(p))
        walls.append(wall)
        cpus.append(cpu / 1e9)
    print(f"start-up to a ready API socket ({runs} runs)")
    print(f"  wall time            {summary(walls, 'ms', 1e3)}")
    print(f"  CPU time until ready {summary(cpus, 'ms', 1e3)}")
    print(f"  CPU time, whole life {summary(lives, 'ms', 1e3)}  (incl. shutdown)")
    print(f"  reference: Firecracker states <= {FIRECRACKER_CPU_MS} CPU ms "
          "(wall 6-60 ms, typically 12 ms)")


def one(conn, method, path, body):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    t0 = time.perf_counter_ns()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    t = time.perf_counter_ns() - t0
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data!r}")
    return t


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def bench_latency(osprey, reps, tmp, kernel):
    sock = os.path.join(tmp, "lat.sock")
    p, _, _ = start_server(osprey, sock)
    cases = [
        ("GET", "/", None),
        ("GET", "/vm/config", None),
        ("PUT", "/machine-config", json.dumps({"vcpu_count": 1, "mem_size_mib": 128})),
        ("PUT", "/boot-source", json.dumps({"kernel_image_path": kernel,
                                            "boot_args": "console=ttyS0 quiet"})),
    ]
    try:
        print(f"\nrequest latency ({reps} requests each; microseconds)")
        print(f"  {'request':24} {'persistent connection':>30}   {'new connection':>30}")
        print(f"  {'':24} {'median':>9} {'p99':>9} {'min':>9}   {'median':>9} {'p99':>9} {'min':>9}")
        for method, path, body in cases:
            conn = UnixHTTPConnection(sock)
            for _ in range(20):  # warm-up
                one(conn, method, path, body)
            keep = [one(conn, method, path, body) / 1e3 for _ in range(reps)]
            conn.close()
            fresh = []
            for _ in range(reps):
                c = UnixHTTPConnection(sock)
                fresh.append(one(c, method, path, body) / 1e3)
                c.close()
            row = [statistics.median(keep), pct(keep, 0.99), min(keep),
                   statistics.median(fresh), pct(fresh, 0.99), min(fresh)]
            print(f"  {method + ' ' + path:24} " + " ".join(f"{x:9.1f}" for x in row[:3]) +
                  "   " + " ".join(f"{x:9.1f}" for x in row[3:]))
    finally:
        stop_server(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--osprey", default=os.path.join(ROOT, "build", "osprey"))
    ap.add_argument("--runs", type=int, default=20, help="start-ups (default 20)")
    ap.add_argument("--requests", type=int, default=500,
                    help="requests per kind (default 500)")
    args = ap.parse_args()
    if not os.access(args.osprey, os.X_OK):
        sys.exit(f"bench/api.py: {args.osprey} is missing: run make")
    # Any readable file will do as the kernel of PUT /boot-source.
    kernel = os.path.join(ROOT, "build", "guest", "hello.elf")
    if not os.path.exists(kernel):
        kernel = args.osprey
    print(f"osprey: {args.osprey}; host: {os.cpu_count()} CPUs, {os.uname().release}")
    with tempfile.TemporaryDirectory(prefix="osprey-bench-api.") as tmp:
        bench_startup(args.osprey, args.runs, tmp)
        bench_latency(args.osprey, args.requests, tmp, kernel)


if __name__ == "__main__":
    main()
