"""Shared by the fixture scripts: make a safetensors file byte-reproducible.

safetensors (Rust, HashMap) writes `__metadata__` keys in a random order per process. The header
is rewritten with those keys sorted; everything else (tensor entries and their order, offsets,
compact JSON, space padding to a multiple of 8) is kept, and the encoding is first checked to
reproduce the library's header byte for byte."""
from __future__ import annotations

import json
import struct
from pathlib import Path


def sort_metadata_keys(path: Path) -> None:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length].decode("utf-8"))

    def encode(h: dict) -> bytes:
        b = json.dumps(h, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return b + b" " * (-len(b) % 8)

    assert encode(header) == raw[8 : 8 + length], "unexpected safetensors header encoding"
    if "__metadata__" not in header:
        return
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    new = encode(header)
    assert len(new) == length
    path.write_bytes(raw[:8] + new + raw[8 + length :])
