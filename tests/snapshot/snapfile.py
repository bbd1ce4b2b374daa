#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Edits an osprey state file for the corruption tests (docs/snapshots.md
describes the format) and recomputes its CRC-64, so that only the change
itself can make osprey refuse the file.

  snapfile.py set-version FILE N       the header's format version
  snapfile.py set-template FILE NAME   the CPU template in section "machine"
                                       (a name of the same length; "other":
                                       soft <-> host, anything else changed
                                       in its last letter); prints the new one
  snapfile.py fix-crc FILE             just recompute the trailer
"""
import struct
import sys

HEADER = 8 + 4 + 4 + 8  # magic, version, type, body length
POLY = 0xC96C5795D7870F42  # CRC-64/XZ (ECMA-182, reflected), as liblzma's lzma_crc64


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ POLY if c & 1 else c >> 1
        t.append(c)
    return t


TABLE = _table()


def crc64(data):
    c = 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


def fix_crc(buf):
    buf[-8:] = struct.pack("<Q", crc64(bytes(buf[:-8])))


def sections(buf, start, end):
    """(name, version, offset of bytes, length) of the sections in buf[start:end]."""
    pos = start
    while pos + 4 <= end:
        (nlen,) = struct.unpack_from("<I", buf, pos)
        name = bytes(buf[pos + 4:pos + 4 + nlen]).decode("ascii", "replace")
        pos += 4 + nlen
        version, length = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        yield name, version, pos, length
        pos += length


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    buf = bytearray(open(path, "rb").read())
    if cmd == "set-version":
        struct.pack_into("<I", buf, 8, int(sys.argv[3]))
    elif cmd == "set-template":
        new = sys.argv[3].encode()
        (body_len,) = struct.unpack_from("<Q", buf, 16)
        for name, _, off, _ in sections(buf, HEADER, HEADER + body_len):
            if name == "machine":
                (slen,) = struct.unpack_from("<I", buf, off)
                if new == b"other":
                    old = bytes(buf[off + 4:off + 4 + slen])
                    swap = {b"soft": b"host", b"host": b"soft"}
                    new = swap.get(old, old[:-1] + (b"x" if old[-1:] != b"x" else b"y"))
                if slen != len(new):
                    sys.exit("template %r is not %d bytes long" % (sys.argv[3], slen))
                buf[off + 4:off + 4 + slen] = new
                print(new.decode())
                break
        else:
            sys.exit("no machine section")
    elif cmd != "fix-crc":
        sys.exit(__doc__)
    fix_crc(buf)
    open(path, "wb").write(buf)


if __name__ == "__main__":
    main()
