#!/usr/bin/env python3
"""Block and network throughput of the default Linux guest: osprey versus
QEMU microvm, and both against the host.

One guest program, bench/guest/iobench.c (built static and added to the
default initramfs), runs the same loops in the guest and on the host:

  block    sequential read and write (1 MiB requests, O_DIRECT on
           /dev/vda), 4 KiB random read and write IOPS (queue depth 1);
           the host runs the same loops on the image file itself
  network  TCP guest -> host and host -> guest over a tap device inside a
           network namespace this script creates (and deletes)

Each VMM boots the same kernel, initramfs and command line with one
virtio-blk disk (raw image, host page cache) and one virtio-net interface
on a tap (QEMU without vhost: /dev/vhost-net may be missing, and osprey's
back ends are user space too). Prints every figure, the osprey/QEMU and
guest/host ratios. A benchmark, not a test: it never fails on slow numbers.

With --soft both VMMs run their software CPUs (osprey --accel soft,
QEMU -accel tcg -cpu max); otherwise both use KVM.

On hosts where KVM emulates guest kernel code (kvm_pvm), every guest
system call and interrupt runs in KVM's instruction emulator, so these
figures measure mostly the emulator; bench/virtio_user.sh measures the
device path with a guest whose hot loop stays in user mode.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from common import ROOT, build, osprey_cmdline

NS_HOST_IP = "192.168.205.1"  # inside the private namespace only
NS_GUEST_IP = "192.168.205.2"
TAP = "ospbench0"
SINK_PORT, SOURCE_PORT = 9201, 9202
LINE = re.compile(r"iobench: ([a-z-]+):? .*= ([0-9.]+) (MB/s|IOPS|Mbit/s)")


def guest_cmdline(osprey, vmlinux, initrd, memory):
    """osprey's command line without its device parameters: those are each
    VMM's own business."""
    cmdline = osprey_cmdline(osprey, vmlinux, initrd, memory)
    return " ".join(w for w in cmdline.split() if not w.startswith("virtio_mmio."))


def bench_initramfs(base, iobench, tmp):
    """The default initramfs with /bin/iobench appended as a second archive."""
    root = os.path.join(tmp, "overlay")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(iobench, os.path.join(root, "bin", "iobench"))
    out = os.path.join(tmp, "initramfs-bench.cpio")
    shutil.copy(base, out)
    with open(out, "ab") as f:
        subprocess.run("find bin bin/iobench | cpio --quiet -o -H newc -R 0:0",
                       shell=True, check=True, cwd=root, stdout=f)
    return out


class HostPeer:
    """TCP peers inside the namespace: a sink (guest sends) and a source."""

    def __init__(self, ns, mib):
        code = f"""
import socket, sys, threading, time
def sink():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("{NS_HOST_IP}", {SINK_PORT})); s.listen(1)
    c, _ = s.accept(); n = 0; t0 = None
    while True:
        b = c.recv(1 << 20)
        if not b: break
        if t0 is None: t0 = time.monotonic()
        n += len(b)
    dt = time.monotonic() - t0 if t0 else 0
    print("host: tcp-sink %d bytes %.3f s" % (n, dt), flush=True); c.close()
def source():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("{NS_HOST_IP}", {SOURCE_PORT})); s.listen(1)
    c, _ = s.accept(); buf = b"x" * (1 << 18); left = {mib} << 20
    while left > 0:
        n = c.send(buf[:min(left, len(buf))]); left -= n
    c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
threading.Thread(target=sink, daemon=True).start()
threading.Thread(target=source, daemon=True).start()
print("READY", flush=True)
time.sleep(100000)
"""
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", code],
                                  stdout=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "READY":
            sys.exit("host TCP peers did not start")

    def stop(self):
        self.p.kill()
        self.p.wait()


def netns_create():
    ns = f"osprey-bench-{os.getpid()}"
    for cmd in (f"ip netns add {ns}", f"ip -n {ns} link set lo up",
                f"ip -n {ns} tuntap add dev {TAP} mode tap",
                f"ip -n {ns} addr add {NS_HOST_IP}/24 dev {TAP}",
                f"ip -n {ns} link set {TAP} up"):
        subprocess.run(cmd, shell=True, check=True)
    return ns


def netns_delete(ns):
    subprocess.run(f"ip -n {ns} tuntap del dev {TAP} mode tap", shell=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run(f"ip netns del {ns}", shell=True, stderr=subprocess.DEVNULL)


def parse(out):
    res = {}
    for m in LINE.finditer(out):
        res[m.group(1)] = float(m.group(2))
    return res


def run_guest(name, argv, ns, mib, timeout):
    peer = HostPeer(ns, mib)
    t0 = time.monotonic()
    try:
        p = subprocess.run(["ip", "netns", "exec", ns] + argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        out = p.stdout.decode(errors="replace").replace("\r", "")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        print(f"{name}: timed out after {timeout} s")
    finally:
        peer.stop()
    print(f"{name}: guest ran {time.monotonic() - t0:.1f} s")
    for line in out.splitlines():
        if line.startswith("iobench") or "exit status" in line:
            print(f"  {line}")
    return parse(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--disk-mib", type=int, default=256, help="image size (default 256)")
    ap.add_argument("--seq-mib", type=int, default=64, help="sequential MiB (default 64)")
    ap.add_argument("--rand-seconds", type=float, default=5)
    ap.add_argument("--net-mib", type=int, default=32, help="TCP MiB each way (default 32)")
    ap.add_argument("--memory", default="256")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--soft", action="store_true",
                    help="software CPUs: osprey --accel soft vs QEMU TCG (-cpu max)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespace, tap)")

    osprey, vmlinux, initrd = build()
    tmp = tempfile.mkdtemp(prefix="osprey-io-", dir="/var/tmp")
    ns = None
    try:
        iobench = os.path.join(tmp, "iobench")
        subprocess.run(["gcc", "-O2", "-static", "-Wall", "-Wextra", "-Werror", "-o",
                        iobench, os.path.join(ROOT, "bench/guest/iobench.c")], check=True)
        initramfs = bench_initramfs(initrd, iobench, tmp)
        img = os.path.join(tmp, "disk.img")
        subprocess.run(["dd", "if=/dev/urandom", f"of={img}", "bs=1M",
                        f"count={args.disk_mib}", "status=none"], check=True)
        cmdline = guest_cmdline(osprey, vmlinux, initrd, args.memory)

        s, r, n = args.seq_mib, args.rand_seconds, args.net_mib
        guest = (f"iobench seqread /dev/vda {s} 1048576; iobench seqwrite /dev/vda {s} 1048576;"
                 f" iobench randread /dev/vda {r}; iobench randwrite /dev/vda {r};"
                 f" ifconfig eth0 {NS_GUEST_IP} netmask 255.255.255.0 up;"
                 f" iobench tcp-send {NS_HOST_IP} {SINK_PORT} {n};"
                 f" iobench tcp-recv {NS_HOST_IP} {SOURCE_PORT}")
        full = f'{cmdline} osprey_run="{guest}"'

        print("host: the same loops on the image file")
        host = {}
        for cmd in (["seqread", img, str(s), "1048576"], ["seqwrite", img, str(s), "1048576"],
                    ["randread", img, str(r)], ["randwrite", img, str(r)]):
            out = subprocess.run([iobench] + cmd, capture_output=True, text=True).stdout
            print(f"  {out.strip()}")
            host.update(parse(out))
        for cmd in (["randread", img, str(r)],):
            out = subprocess.run([iobench] + cmd, capture_output=True, text=True,
                                 env=dict(os.environ, IOBENCH_BUFFERED="1")).stdout
            print(f"  {out.strip()} (host page cache: what cache=writeback reads hit)")

        ns = netns_create()
        mac = "02:00:00:cd:00:02"
        runs = {"osprey": [osprey, "run", "--kernel", vmlinux, "--initrd", initramfs,
                           "--memory", args.memory, "--no-default-cmdline",
                           "--cmdline", full, "--disk", f"{img},cache=writeback",
                           "--net", f"tap={TAP},mac={mac}",
                           "--accel", "soft" if args.soft else "kvm"]}
        accel = ["-accel", "tcg", "-cpu", "max"] if args.soft else \
            ["-enable-kvm", "-cpu", "host,-arch-capabilities"]
        if not args.no_qemu:
            runs["qemu"] = ["qemu-system-x86_64", "-M", "microvm,acpi=off"] + accel + [
                            "-m", args.memory,
                            "-nodefaults", "-no-user-config", "-nographic", "-serial",
                            "stdio", "-no-reboot", "-kernel", vmlinux, "-initrd", initramfs,
                            "-append", full,
                            "-drive", f"id=d0,file={img},format=raw,if=none,cache=writeback",
                            "-device", "virtio-blk-device,drive=d0",
                            "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no",
                            "-device", f"virtio-net-device,netdev=n0,mac={mac}",
                            # the guest powers off through osprey's PV port
                            # (0x700); this device makes QEMU exit there too
                            "-device", "isa-debug-exit,iobase=0x700,iosize=4"]
        res = {}
        for name, argv in runs.items():
            res[name] = run_guest(name, argv, ns, n, args.timeout)

        print("\nsummary (guest figures; host = same loop on the image file)")
        keys = [("seqread", "MB/s"), ("seqwrite", "MB/s"), ("randread", "IOPS"),
                ("randwrite", "IOPS"), ("tcp-send", "Mbit/s"), ("tcp-recv", "Mbit/s")]
        print(f"  {'':10s} {'osprey':>10s} {'qemu':>10s} {'host':>10s} "
              f"{'osprey/qemu':>12s} {'osprey/host':>12s}")
        for k, unit in keys:
            o, q, h = res.get("osprey", {}).get(k), res.get("qemu", {}).get(k), host.get(k)
            fmt = lambda v: f"{v:10.1f}" if v is not None else f"{'-':>10s}"
            ratio = lambda a, b: f"{a / b:11.2f}x" if a and b else f"{'-':>12s}"
            print(f"  {k:10s} {fmt(o)} {fmt(q)} {fmt(h)} {ratio(o, q)} {ratio(o, h)}  {unit}")
    finally:
        if ns:
            netns_delete(ns)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
