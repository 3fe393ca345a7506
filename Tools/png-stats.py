#!/usr/bin/env python3
"""Reads an 8-bit RGB or RGBA PNG (a browser's screenshot) with nothing but the standard
library and prints what a test needs to tell a drawn picture from a blank one:

    width=W height=H nonwhite=N distinct=D
    #rrggbb=COUNT          (one line per colour named on the command line)

Usage: png-stats.py FILE [#rrggbb ...]"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    at, idat, width = 8, b"", None
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        body = data[at + 8:at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace != 0:
                raise SystemExit(f"{path}: depth {depth} colour type {colour} interlace {interlace} not supported")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        f = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def main():
    width, height, channels, rows = read_png(sys.argv[1])
    counts = {}
    for row in rows:
        for x in range(0, len(row), channels):
            px = row[x:x + 3]
            counts[px] = counts.get(px, 0) + 1
    nonwhite = sum(n for px, n in counts.items() if px != b"\xff\xff\xff")
    print(f"width={width} height={height} nonwhite={nonwhite} distinct={len(counts)}")
    for name in sys.argv[2:]:
        px = bytes.fromhex(name.lstrip("#"))
        print(f"{name}={counts.get(px, 0)}")


main()
