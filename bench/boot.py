#!/usr/bin/env python3
"""Boot time and VMM memory overhead: osprey versus QEMU microvm.

Both VMMs boot the same kernel (the default guest's PVH vmlinux), the same
initramfs and the same kernel command line, alternately, several times.

  boot time  process start -> the guest's init prints
             "osprey-guest: init reached" on the serial console
  overhead   VMM resident memory minus guest RAM, sampled when init is
             reached (sum of Rss over /proc/PID/smaps, leaving out the
             mapping(s) that back guest RAM)

With --soft both run their software CPUs: osprey `--accel soft` against
QEMU `-accel tcg -cpu max` (the issue's reference: QEMU 7.2 TCG reaches
init in 0.70-0.89 s on the development machine); otherwise both use KVM.

Prints each run, the medians and the ratios osprey/QEMU. A benchmark, not a
test: it never fails on slow numbers.
"""
import argparse
import os
import re
import statistics
import subprocess
import time

from common import build, osprey_cmdline

MARKER = b"osprey-guest: init reached"


def guest_ram_mappings_rss(pid, mem_bytes):
    """Returns (total Rss, Rss of mappings that back guest RAM) in KiB."""
    total = ram = 0
    size = 0
    rss = 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                size = int(m.group(2), 16) - int(m.group(1), 16)
                continue
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
                total += rss
                # Guest RAM: one anonymous mapping at least as large as RAM
                # (QEMU may round it up), or osprey's MAP_NORESERVE region.
                if size >= mem_bytes:
                    ram += rss
    return total, ram


def run_once(argv, mem_bytes, timeout):
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    buf = b""
    boot = None
    overhead = None
    os.set_blocking(p.stdout.fileno(), False)
    while time.monotonic() - start < timeout:
        chunk = p.stdout.read()
        if chunk:
            buf += chunk
            if MARKER in buf:
                boot = time.monotonic() - start
                total, ram = guest_ram_mappings_rss(p.pid, mem_bytes)
                overhead = (total - ram) / 1024.0
                break
        elif p.poll() is not None:
            break
        else:
            time.sleep(0.005)
    p.kill()
    _, err = p.communicate()
    marker = re.search(rb"boot marker \d+ from \w+ at ([0-9.]+) ms", err or b"")
    return boot, overhead, (float(marker.group(1)) / 1000 if marker else None), buf


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--runs", type=int, default=3, help="runs per VMM (default 3)")
    ap.add_argument("--memory", default="256", help="guest MiB (default 256)")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--soft", action="store_true",
                    help="software CPUs: osprey --accel soft vs QEMU TCG")
    args = ap.parse_args()

    osprey, vmlinux, initrd = build()
    mem_bytes = int(args.memory) << 20

    # The exact command line osprey builds (defaults + CPU template) + quiet,
    # so QEMU's guest gets the same one.
    cmdline = osprey_cmdline(osprey, vmlinux, initrd, args.memory)

    osprey_argv = [osprey, "run", "--kernel", vmlinux, "--initrd", initrd,
                   "--memory", args.memory, "--cpus", str(args.cpus),
                   "--no-default-cmdline", "--cmdline", cmdline,
                   "--accel", "soft" if args.soft else "kvm"]
    accel = ["-accel", "tcg", "-cpu", "max"] if args.soft else \
        ["-enable-kvm", "-cpu", "host,-arch-capabilities"]
    qemu_argv = ["qemu-system-x86_64", "-M", "microvm,acpi=off"] + accel + ["-m", args.memory,
                 "-smp", str(args.cpus), "-nodefaults", "-no-user-config",
                 "-nographic", "-serial", "stdio", "-no-reboot",
                 "-kernel", vmlinux, "-initrd", initrd, "-append", cmdline]

    print(f"kernel   {vmlinux}\ninitrd   {initrd}\nmemory   {args.memory} MiB, "
          f"{args.cpus} vCPU(s)\ncmdline  {cmdline}\n")
    results = {"osprey": [], "qemu": []}
    for i in range(args.runs):
        for name, argv in (("osprey", osprey_argv), ("qemu", qemu_argv)):
            boot, overhead, marker, out = run_once(argv, mem_bytes, args.timeout)
            if boot is None:
                print(f"run {i + 1} {name:6s}: init not reached; last output:\n"
                      f"{out[-500:].decode(errors='replace')}")
                continue
            results[name].append((boot, overhead))
            extra = f", osprey marker {marker:.2f} s" if marker else ""
            print(f"run {i + 1} {name:6s}: init reached after {boot:6.2f} s, "
                  f"VMM overhead {overhead:5.2f} MiB{extra}", flush=True)

    print()
    med = {}
    for name, rs in results.items():
        if not rs:
            continue
        med[name] = (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
        print(f"median {name:6s}: boot {med[name][0]:6.2f} s, overhead {med[name][1]:5.2f} MiB "
              f"({len(rs)} runs)")
    if "osprey" in med and "qemu" in med:
        print(f"ratio osprey/qemu: boot {med['osprey'][0] / med['qemu'][0]:.2f}x, "
              f"overhead {med['osprey'][1] / med['qemu'][1]:.2f}x")


if __name__ == "__main__":
    main()
