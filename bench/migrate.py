#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Live migration of the default Linux guest over TCP loopback.

An API server boots the guest (256 MiB, 1 vCPU by default) with either
an idle workload (a shell sleeping) or a busy one (a loop writing 256 KiB
of random data into tmpfs files and printing a counter); once it runs,
`osprey run --incoming tcp:127.0.0.1:PORT` listens and PUT /migrate moves
the machine. The source's log line "migrated to ...: R rounds, P pages,
T ms, downtime D ms" gives the figures: total time (connect to GO),
downtime (vCPUs paused to the destination's READY), rounds and pages.
Each case runs N times (default 3); prints every run and the medians.

Prints figures; a benchmark, not a test: it never fails on slow numbers.
"""
import argparse
import glob
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORK = {
    "idle": "echo READY; while true; do sleep 10; done",
    "busy": ("echo READY; i=0; while true; do dd if=/dev/urandom of=/tmp/w$((i % 4)) "
             "bs=4096 count=64 2>/dev/null; echo WORK $i; i=$((i+1)); done"),
}


def api(sock, method, path, body=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock)
    data = json.dumps(body).encode() if body is not None else b""
    s.sendall((f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data)
    resp = b""
    while True:
        k = s.recv(65536)
        if not k:
            break
        resp += k
    s.close()
    status = int(resp.split(b" ", 2)[1])
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {resp.decode(errors='replace')}")
    return resp


def wait_for(pred, limit, what):
    end = time.time() + limit
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def one_run(args, kind, tmp, port):
    sock = os.path.join(tmp, "src.sock")
    out = open(os.path.join(tmp, "src.out"), "wb")
    err_path = os.path.join(tmp, "src.err")
    src = subprocess.Popen([args.osprey, "--api-sock", sock, "--log-level", "info"],
                           stdout=out, stderr=open(err_path, "wb"), stdin=subprocess.DEVNULL)
    dst = None
    try:
        wait_for(lambda: os.path.exists(sock), 10, "the API socket")
        boot_args = (f"console=ttyS0 reboot=k panic=1 pci=off quiet "
                     f"osprey_run=\"{WORK[kind]}\"")
        api(sock, "PUT", "/boot-source", {"kernel_image_path": args.vmlinux,
                                          "initrd_path": args.initrd, "boot_args": boot_args})
        api(sock, "PUT", "/machine-config", {"vcpu_count": args.cpus,
                                             "mem_size_mib": args.memory})
        api(sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        src_out = os.path.join(tmp, "src.out")
        wait_for(lambda: b"READY" in open(src_out, "rb").read(), 300, "the guest")
        time.sleep(args.settle)
        dst = subprocess.Popen([args.osprey, "run", "--incoming", f"tcp:127.0.0.1:{port}",
                                "--console", "none"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(0.3)
        api(sock, "PUT", "/migrate", {"destination_uri": f"tcp:127.0.0.1:{port}",
                                      "downtime_limit_ms": args.downtime,
                                      "bandwidth_limit_mib_s": args.bandwidth})
        src.wait(timeout=120)
        log = open(err_path).read()
        if args.verbose:
            print("".join(l + "\n" for l in log.splitlines() if "migration" in l), end="")
        m = re.search(r"(\d+) rounds, (\d+) pages, (\d+) ms, downtime (\d+) ms", log)
        if not m:
            raise RuntimeError("no 'migrated' line: " + log[-500:])
        time.sleep(0.5)
        if dst.poll() is not None:
            raise RuntimeError(f"the destination exited with {dst.returncode}")
        return tuple(int(x) for x in m.groups())
    finally:
        for p in (src, dst):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def main():
    cache = os.path.expanduser("~/.cache/osprey")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osprey", default=os.path.join(ROOT, "build/osprey"))
    ap.add_argument("--vmlinux", default=next(iter(sorted(glob.glob(f"{cache}/kernel-*/vmlinux"))), ""))
    ap.add_argument("--initrd", default=next(iter(sorted(glob.glob(f"{cache}/initramfs-*/initramfs.cpio"))), ""))
    ap.add_argument("--memory", type=int, default=256)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--downtime", type=int, default=20, help="downtime_limit_ms")
    ap.add_argument("--bandwidth", type=int, default=0, help="bandwidth_limit_mib_s (0: none)")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds after READY")
    ap.add_argument("--cases", default="idle,busy")
    ap.add_argument("--verbose", action="store_true", help="print the source's migration log")
    args = ap.parse_args()
    if not (os.path.exists(args.vmlinux) and os.path.exists(args.initrd)):
        sys.exit("guest kernel/initramfs not found (scripts/build-kernel.sh, build-initramfs.sh)")
    port = 20000 + os.getpid() % 20000
    print(f"live migration, {args.memory} MiB Linux guest, {args.cpus} vCPU, TCP loopback, "
          f"software CPU; downtime target {args.downtime} ms"
          + (f", {args.bandwidth} MiB/s limit" if args.bandwidth else ""))
    for kind in args.cases.split(","):
        res = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                r = one_run(args, kind, tmp, port + i)
            res.append(r)
            print(f"  {kind} run {i + 1}: total {r[2]} ms, downtime {r[3]} ms, "
                  f"{r[0]} rounds, {r[1]} pages")
        print(f"{kind}: median total {statistics.median(r[2] for r in res):.0f} ms, "
              f"median downtime {statistics.median(r[3] for r in res):.0f} ms, "
              f"median rounds {statistics.median(r[0] for r in res):.0f}, "
              f"median pages {statistics.median(r[1] for r in res):.0f}")


if __name__ == "__main__":
    main()
