# SPDX-License-Identifier: Apache-2.0
"""What the benchmarks against QEMU share: building osprey and the default
guest, and learning the kernel command line osprey gives that guest, so
that QEMU's guest can be given the same one."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd):
    """The last line a command prints (run in the checkout)."""
    return subprocess.run(cmd, shell=True, check=True, capture_output=True,
                          text=True, cwd=ROOT).stdout.strip().splitlines()[-1]


def build():
    """Installs the benchmark dependencies, builds the default guest kernel
    and initramfs (cached) and build/osprey. Returns (osprey, vmlinux, initrd)."""
    subprocess.run([os.path.join(ROOT, "scripts/deps.sh"), "--bench"], check=True)
    kdir = sh("scripts/build-kernel.sh")
    initrd = sh("scripts/build-initramfs.sh")
    subprocess.run(["make", "-s", "-C", ROOT, "build/osprey"], check=True)
    return os.path.join(ROOT, "build/osprey"), os.path.join(kdir, "vmlinux"), initrd


def osprey_cmdline(osprey, vmlinux, initrd, memory):
    """The exact command line osprey builds (defaults + CPU template) + quiet."""
    p = subprocess.Popen([osprey, "run", "--kernel", vmlinux, "--initrd", initrd,
                          "--memory", memory, "--cmdline", "quiet", "--log-level",
                          "info", "--console", "none"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    cmdline = None
    for line in p.stderr:
        m = re.search(r"command line: (.*)$", line)
        if m:
            cmdline = m.group(1)
            break
    p.kill()
    p.wait()
    if not cmdline:
        sys.exit("could not learn osprey's kernel command line")
    return cmdline
