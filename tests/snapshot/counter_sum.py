#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The checksum guest/tests/counter.c prints after STEPS steps (its
'counter: done' line), computed the same way: usage counter_sum.py STEPS."""
import sys

WORDS, STIR, M = 65536, 1024, 0xFFFFFFFF


def counter_sum(steps):
    t = [0] * WORDS
    for i in range(steps):
        base = i * 1031
        for k in range(STIR):
            idx = (base + k * 67) % WORDS
            t[idx] = (t[idx] * 33 + i + k) & M
    h = 2166136261
    for w in t:
        h = ((h ^ w) * 16777619) & M
    return h


if __name__ == "__main__":
    print("0x%08x" % counter_sum(int(sys.argv[1])))
