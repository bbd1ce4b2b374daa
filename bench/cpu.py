#!/usr/bin/env python3
"""Guest CPU speed: osprey's software CPU versus QEMU's (TCG), and the host.

The cpubench test guest (guest/tests/cpubench.c) runs three loops with a
known number of instructions per iteration in user mode (CPL3, long mode,
paging on): integer (xorshift), branchy (a data-dependent branch each
iteration) and memory (a histogram in a 4 KiB table). Each VMM boots it
with a small and a large iteration count, alternately, several times; the
difference in wall time between the two divided into the difference in
instructions is the guest's MIPS for that loop, with boot and exit costs
cancelled out. The same object code runs natively on the host
(bench/cpu_native.c) for the host column.

  bench/cpu.py [-n RUNS] [--small N] [--large N] [--osprey-args ...]

A benchmark, not a test: it never fails on slow numbers.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST = os.path.join(ROOT, "build/guest/cpubench.elf")
NATIVE = os.path.join(ROOT, "build/bench/cpu_native")
LOOPS = {"int": (1, 12), "branch": (2, 12), "mem": (4, 8)}


def prepare():
    subprocess.run([os.path.join(ROOT, "scripts/deps.sh"), "--bench"], check=True)
    subprocess.run(["make", "-s", "-C", ROOT, "build/osprey", "guests"], check=True)
    os.makedirs(os.path.dirname(NATIVE), exist_ok=True)
    subprocess.run(["gcc", "-O2", "-I", os.path.join(ROOT, "guest/tests"), "-o", NATIVE,
                    os.path.join(ROOT, "bench/cpu_native.c"),
                    os.path.join(ROOT, "guest/tests/cpuloops.S")], check=True)


def vmm_command(which, iters, mask, extra):
    cmdline = f"cpubench.iters={iters} cpubench.loops={mask}"
    if which == "osprey":
        return [os.path.join(ROOT, "build/osprey"), "run", "--kernel", GUEST,
                "--memory", "128M", "--cmdline", cmdline] + extra
    if which == "qemu":
        # isa-debug-exit stands in for osprey's PV power-off port (status 3).
        return ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "tcg",
                "-cpu", "max", "-m", "128", "-nodefaults", "-no-user-config",
                "-nographic", "-serial", "stdio", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0x700,iosize=4",
                "-kernel", GUEST, "-append", cmdline]
    return [NATIVE, str(iters), str(mask)]


def timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=900)
    t = time.monotonic() - t0
    sums = dict(re.findall(r"cpubench: (\w+) iters=\d+.* sum=(0x[0-9a-f]+)", p.stdout))
    return t, sums


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3, help="runs per figure (default 3)")
    ap.add_argument("--small", type=int, default=1000000)
    ap.add_argument("--large", type=int, default=30000000)
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--osprey-args", nargs=argparse.REMAINDER, default=["--accel", "soft"])
    a = ap.parse_args()
    prepare()
    who = ["osprey", "host"] + ([] if a.no_qemu else ["qemu"])
    mips = {w: {} for w in who}
    for loop, (mask, per) in LOOPS.items():
        delta = {w: [] for w in who}
        ref = None
        for r in range(a.n):
            for w in who:
                ts, _ = timed(vmm_command(w, a.small, mask, a.osprey_args))
                tl, sums = timed(vmm_command(w, a.large, mask, a.osprey_args))
                if loop not in sums:
                    sys.exit(f"{w}: the {loop} loop printed no checksum")
                if ref is None:
                    ref = sums[loop]
                elif sums[loop] != ref:
                    sys.exit(f"{w}: {loop} checksum {sums[loop]} differs from {ref}")
                delta[w].append(tl - ts)
                print(f"run {r + 1} {loop:6} {w:6} {ts:7.3f} s / {tl:7.3f} s", flush=True)
        insns = (a.large - a.small) * per
        for w in who:
            d = statistics.median(delta[w])
            mips[w][loop] = insns / d / 1e6 if d > 0 else float("inf")
    print()
    print(f"{'loop':8} " + " ".join(f"{w + ' MIPS':>12}" for w in who) +
          f" {'osprey/qemu':>12} {'osprey/host':>12}")
    for loop in LOOPS:
        row = f"{loop:8} " + " ".join(f"{mips[w][loop]:12.1f}" for w in who)
        if "qemu" in mips:
            row += f" {mips['osprey'][loop] / mips['qemu'][loop]:12.3f}"
        else:
            row += f" {'-':>12}"
        row += f" {mips['osprey'][loop] / mips['host'][loop]:12.4f}"
        print(row)


if __name__ == "__main__":
    main()
