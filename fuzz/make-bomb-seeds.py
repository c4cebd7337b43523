#!/usr/bin/env python3
"""Writes the decompression-bomb seeds of the sync_request fuzz target
(fuzz/seeds/sync_request/bomb-*.cbor): sync request bodies whose one message carries a
compressed change, or a whole document with a deflated column, that inflates far past the
server's limit (waystation_core::sync::bounds). They give the fuzzer well-formed DEFLATE streams
to mutate; before the bounds existed, the first one alone made the fuzzer's malloc limit fire.

    python3 fuzz/make-bomb-seeds.py
"""
import os
import zlib

MAGIC = bytes([0x85, 0x6F, 0x4A, 0x83])
REPORT = "report:0190a8a4-7c1e-7000-8000-0000000000b0"


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def deflated_zeros(mib):
    """Raw DEFLATE of `mib` MiB of zeros: one full-flushed block repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    return block * mib + c.flush(zlib.Z_FINISH)


def chunk(kind, body):
    return MAGIC + bytes(4) + bytes([kind]) + uleb(len(body)) + body


def sync_message(chunks):
    out = bytes([0x42, 0, 0, 0]) + uleb(len(chunks))
    for c in chunks:
        out += uleb(len(c)) + c
    return out


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for size, info in ((1, 24), (2, 25), (4, 26), (8, 27)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError(n)


def text(s):
    b = s.encode()
    return cbor_head(3, len(b)) + b


def request(message):
    doc = cbor_head(5, 3) + text("i") + text(REPORT) + text("k") + text("report")
    doc += text("m") + cbor_head(2, len(message)) + message
    return cbor_head(5, 2) + text("c") + cbor_head(0, 0) + text("d") + cbor_head(4, 1) + doc


def document_with_deflated_column(mib):
    column = deflated_zeros(mib)
    body = bytes([0, 0, 0, 1]) + uleb(2 | 0b1000) + uleb(len(column)) + column
    return chunk(0, body)


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "sync_request")
seeds = {
    "bomb-compressed-change-1gib.cbor": request(sync_message([chunk(2, deflated_zeros(1024))])),
    "bomb-deflated-column-64mib.cbor": request(sync_message([document_with_deflated_column(64)])),
}
for name, body in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(body)
    print(name, len(body))
