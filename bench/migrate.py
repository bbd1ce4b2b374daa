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

Beside it, when qemu-system-x86_64 is installed (scripts/deps.sh --bench),
the same guest, kernel, initramfs and workloads on QEMU TCG
(`-M microvm -accel tcg -cpu max`): a destination with `-incoming
tcp:...`, QMP `migrate` on the source with the bandwidth unlimited and a
20 ms downtime limit, and query-migrate's own figures (total-time,
downtime, ram dirty-sync-count as rounds). The downtimes are not measured
alike: osprey's runs from the final pause to the destination's READY,
QEMU's is the source's own account of its stop.

Prints figures; a benchmark, not a test: it never fails on slow numbers.
"""
import argparse
import glob
import json
import os
import re
import shutil
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


class Qmp:
    """A QMP client on a Unix socket: one command at a time."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        wait_for(lambda: self._try(path), 10, "QEMU's QMP socket")
        self.f = self.s.makefile("rwb")
        self.f.readline()  # the greeting
        self.cmd("qmp_capabilities")

    def _try(self, path):
        try:
            self.s.connect(path)
            return True
        except OSError:
            return False

    def cmd(self, name, arguments=None):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(f"QMP {name}: {r['error']}")


def qemu_run(args, kind, tmp, port):
    boot_args = (f"console=ttyS0 reboot=k panic=1 pci=off quiet "
                 f"osprey_run=\"{WORK[kind]}\"")
    base = ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "tcg", "-cpu", "max",
            "-smp", str(args.cpus), "-m", str(args.memory), "-nodefaults", "-no-user-config",
            "-nographic", "-no-reboot", "-kernel", args.vmlinux, "-initrd", args.initrd,
            "-append", boot_args]
    src_out = os.path.join(tmp, "qsrc.out")
    qmp = os.path.join(tmp, "qsrc.qmp")
    src = subprocess.Popen(base + ["-serial", f"file:{src_out}", "-qmp",
                                   f"unix:{qmp},server=on,wait=off"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    dst = subprocess.Popen(base + ["-serial", "null", "-incoming", f"tcp:127.0.0.1:{port}"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(src_out) and b"READY" in open(src_out, "rb").read(),
                 300, "the QEMU guest")
        time.sleep(args.settle)
        q = Qmp(qmp)
        q.cmd("migrate-set-parameters", {"max-bandwidth": 1 << 40,
                                         "downtime-limit": args.downtime})
        q.cmd("migrate", {"uri": f"tcp:127.0.0.1:{port}"})
        st = {}
        end = time.time() + 120
        while time.time() < end:
            st = q.cmd("query-migrate")
            if st.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.02)
        if st.get("status") != "completed":
            raise RuntimeError(f"QEMU migration: {st}")
        ram = st.get("ram", {})
        return (int(ram.get("dirty-sync-count", 0)), int(ram.get("normal", 0)),
                int(st["total-time"]), int(st.get("downtime", 0)))
    finally:
        for p in (src, dst):
            if p.poll() is None:
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
    ap.add_argument("--no-qemu", action="store_true", help="osprey only")
    args = ap.parse_args()
    have_qemu = not args.no_qemu and shutil.which("qemu-system-x86_64")
    if not (os.path.exists(args.vmlinux) and os.path.exists(args.initrd)):
        sys.exit("guest kernel/initramfs not found (scripts/build-kernel.sh, build-initramfs.sh)")
    port = 20000 + os.getpid() % 20000
    print(f"live migration, {args.memory} MiB Linux guest, {args.cpus} vCPU, TCP loopback, "
          f"software CPU; downtime target {args.downtime} ms"
          + (f", {args.bandwidth} MiB/s limit" if args.bandwidth else ""))
    for kind in args.cases.split(","):
        med = {}
        for vmm, run in (("osprey", one_run), ("qemu", qemu_run)):
            if vmm == "qemu" and not have_qemu:
                continue
            res = []
            for i in range(args.runs):
                with tempfile.TemporaryDirectory() as tmp:
                    r = run(args, kind, tmp, port + 2 * i + (vmm == "qemu"))
                res.append(r)
                print(f"  {kind} {vmm} run {i + 1}: total {r[2]} ms, downtime {r[3]} ms, "
                      f"{r[0]} rounds, {r[1]} pages")
            med[vmm] = [statistics.median(r[k] for r in res) for k in range(4)]
            print(f"{kind} {vmm}: median total {med[vmm][2]:.0f} ms, "
                  f"median downtime {med[vmm][3]:.0f} ms, median rounds {med[vmm][0]:.0f}, "
                  f"median pages {med[vmm][1]:.0f}")
        if "qemu" in med and med["qemu"][2]:
            print(f"{kind} osprey/qemu: total {med['osprey'][2] / med['qemu'][2]:.2f}x"
                  f" (downtime {med['osprey'][3]:.0f} ms vs {med['qemu'][3]:.0f} ms)")
    if not have_qemu:
        print("QEMU not installed (scripts/deps.sh --bench): osprey only")

if __name__ == "__main__":
    main()
