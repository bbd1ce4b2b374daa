#!/usr/bin/env python3
"""Snapshot and restore times of a 256 MiB guest, and the files' sizes.

The guest is the counter test guest (guest/tests/counter.c): it first
writes a pattern to --fill-mib MiB of its RAM (default 128, so that a Full
snapshot has that much to save), then prints a "count N" line every
millisecond on the serial console, so that a restored machine's first
words are easy to time.

  create     PUT /snapshot/create on the paused machine -> its 204: Full
             (every page, then fsync, rename) and Diff (the pages written
             since the previous snapshot, ~0.1 s of counting)
  sizes      the state file, and the memory file's length and the blocks
             it really takes (a Full file is sparse where RAM is zero; a
             Diff only holds the dirtied pages)
  restore    on an osprey process started beforehand (as Firecracker
             measures it): PUT /snapshot/load with resume_vm -> its 204
             (state verified and loaded, memory mapped, the vCPU thread
             started: the guest is running), and -> the guest's next
             console line (its next instructions ran and did I/O)

Prints every run and the medians, against the target of at most 5 ms from
the load request to the guest running. A benchmark, not a test: it never
fails on slow numbers.
"""
import argparse
import http.client
import json
import os
import select
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_MS = 5.0


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def request(sock, method, path, body=None):
    """One API request; returns (status, body, seconds)."""
    c = UnixConnection(sock)
    data = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    c.connect()
    t0 = time.perf_counter()
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    text = r.read()
    t1 = time.perf_counter()
    c.close()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: HTTP {r.status}: {text.decode(errors='replace')}")
    return r.status, text, t1 - t0


class Vmm:
    """osprey --api-sock in a temporary directory, console on a pipe."""

    def __init__(self, osprey, workdir, name):
        self.sock = os.path.join(workdir, name + ".sock")
        self.p = subprocess.Popen([osprey, "--api-sock", self.sock], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.buf = b""
        for _ in range(200):
            if os.path.exists(self.sock):
                try:
                    request(self.sock, "GET", "/version")
                    return
                except OSError:
                    pass
            time.sleep(0.01)
        raise SystemExit("osprey's API socket does not answer")

    def api(self, method, path, body=None):
        return request(self.sock, method, path, body)

    def wait_line(self, needle, timeout=30.0):
        """Waits for needle in the console; returns the time it came."""
        end = time.monotonic() + timeout
        while needle not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise SystemExit(f"no {needle!r} on the console")
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = self.p.stdout.read()
                if chunk:
                    self.buf += chunk
                elif self.p.poll() is not None:
                    raise SystemExit(f"osprey exited before {needle!r}")
        return time.perf_counter()

    def kill(self):
        self.p.kill()
        self.p.wait()


def sizes(path):
    st = os.stat(path)
    return st.st_size, st.st_blocks * 512


def mib(n):
    return f"{n / 1048576:.1f} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=10)
    ap.add_argument("--memory", type=int, default=256, help="guest RAM in MiB")
    ap.add_argument("--accel", default="soft", help="soft (default) or kvm")
    ap.add_argument("--fill-mib", type=int, default=128, help="RAM the guest writes first")
    ap.add_argument("--dir", help="where the snapshot files go (default: a temporary directory)")
    a = ap.parse_args()

    subprocess.run(["make", "-s", "-C", ROOT, "build/osprey", "build/guest/counter.elf"],
                   check=True)
    osprey = os.path.join(ROOT, "build/osprey")
    guest = os.path.join(ROOT, "build/guest/counter.elf")
    work = a.dir or tempfile.mkdtemp(prefix="osprey-snapbench-")
    state, mem = os.path.join(work, "vm.snap"), os.path.join(work, "vm.mem")
    dstate, dmem = os.path.join(work, "diff.snap"), os.path.join(work, "diff.mem")

    print(f"osprey snapshots: {a.memory} MiB guest ({a.fill_mib} MiB written), accel {a.accel}, "
          f"{a.runs} runs, files in {work}")
    src = Vmm(osprey, work, "src")
    src.api("PUT", "/boot-source", {"kernel_image_path": guest,
                                    "boot_args": "counter.steps=4000000 counter.tick_ms=1 "
                                                 f"counter.fill_mib={a.fill_mib}"})
    src.api("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": a.memory,
                                       "accel": a.accel, "track_dirty_pages": True})
    src.api("PUT", "/actions", {"action_type": "InstanceStart"})
    src.wait_line(b"count 50 ", timeout=120)

    full, diff = [], []
    for i in range(a.runs):
        src.api("PATCH", "/vm", {"state": "Paused"})
        _, _, t = src.api("PUT", "/snapshot/create", {"snapshot_type": "Full",
                                                      "snapshot_path": state,
                                                      "mem_file_path": mem})
        full.append(t * 1000)
        src.api("PATCH", "/vm", {"state": "Resumed"})
        time.sleep(0.1)
        src.api("PATCH", "/vm", {"state": "Paused"})
        _, _, t = src.api("PUT", "/snapshot/create", {"snapshot_type": "Diff",
                                                      "snapshot_path": dstate,
                                                      "mem_file_path": dmem})
        diff.append(t * 1000)
        src.api("PATCH", "/vm", {"state": "Resumed"})
        print(f"  create {i + 1}: Full {full[-1]:8.2f} ms   Diff {diff[-1]:8.2f} ms")
    # The last Full snapshot, taken paused, is the one restored below.
    src.api("PATCH", "/vm", {"state": "Paused"})
    src.api("PUT", "/snapshot/create", {"snapshot_type": "Full", "snapshot_path": state,
                                        "mem_file_path": mem})
    src.kill()

    running, answer = [], []
    for i in range(a.runs):
        vm = Vmm(osprey, work, f"r{i}")
        t0 = time.perf_counter()
        _, _, t = vm.api("PUT", "/snapshot/load", {"snapshot_path": state,
                                                   "mem_backend": {"backend_type": "File",
                                                                   "backend_path": mem},
                                                   "resume_vm": True})
        t2 = vm.wait_line(b"count ")
        running.append(t * 1000)
        answer.append((t2 - t0) * 1000)
        vm.kill()
        print(f"  restore {i + 1}: guest running {running[-1]:7.2f} ms   "
              f"console answer {answer[-1]:7.2f} ms")

    s_len = os.stat(state).st_size
    m_len, m_alloc = sizes(mem)
    d_len, d_alloc = sizes(dmem)
    ds_len = os.stat(dstate).st_size
    med = statistics.median
    print()
    print(f"snapshot create, Full:  median {med(full):8.2f} ms  (state {s_len} B, memory "
          f"{mib(m_len)} long, {mib(m_alloc)} on disk)")
    print(f"snapshot create, Diff:  median {med(diff):8.2f} ms  (state {ds_len} B, memory "
          f"{mib(d_len)} long, {mib(d_alloc)} on disk)")
    print(f"restore -> guest running:  median {med(running):7.2f} ms  (min {min(running):.2f}, "
          f"max {max(running):.2f}); target <= {TARGET_MS:.0f} ms: "
          f"{'met' if med(running) <= TARGET_MS else 'NOT met'}")
    print(f"restore -> console answer: median {med(answer):7.2f} ms  (min {min(answer):.2f}, "
          f"max {max(answer):.2f})")


if __name__ == "__main__":
    main()
