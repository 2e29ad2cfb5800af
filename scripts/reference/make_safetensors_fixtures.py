#!/usr/bin/env python3
"""Safetensors fixtures from the reference implementation (Hugging Face `safetensors`).

Writes small weight files with `safetensors.numpy.save_file` (a single mixed-dtype file and a
two-shard checkpoint with its index) and `expected.json`: every tensor's dtype, shape, raw bytes
and values as float64 (numpy's conversion), plus how numpy (f16) and ml_dtypes (bf16) round a
fixed set of tricky float32 values. src/main/io/safetensors.test.ts checks our reader, writer and
float32ToF16 / float32ToBf16 against it. Needs numpy, safetensors and ml_dtypes.

Usage (from the repository root):
    ~/.venvs/ref/bin/python scripts/reference/make_safetensors_fixtures.py \
        [--out test/fixtures/safetensors]
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import struct
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import safetensors
from safetensors.numpy import load_file, save_file

GENERATOR = "scripts/reference/make_safetensors_fixtures.py"
DEFAULT_OUT = "test/fixtures/safetensors"
SEED = 20260524

BF16 = ml_dtypes.bfloat16
DTYPE_NAMES = {
    np.dtype(np.float64): "F64",
    np.dtype(np.float32): "F32",
    np.dtype(np.float16): "F16",
    np.dtype(BF16): "BF16",
    np.dtype(np.int64): "I64",
    np.dtype(np.int32): "I32",
    np.dtype(np.int16): "I16",
    np.dtype(np.int8): "I8",
    np.dtype(np.uint8): "U8",
    np.dtype(np.bool_): "BOOL",
}

# Values each float tensor starts with, so the decoders meet every class of number:
# signed zeros, infinities, NaN and the target format's subnormals and extremes.
SPECIAL_F32 = [0.0, -0.0, 1.0, -2.5, math.inf, -math.inf, math.nan, 1e-40, -1e-45, 3.4028234663852886e38]
SPECIAL_F16 = [0.0, -0.0, 2.0**-24, -(2.0**-24), 2.0**-14, 65504.0, -65504.0, math.inf, -math.inf, math.nan, 0.099975586]
SPECIAL_BF16 = [0.0, -0.0, 2.0**-133, 2.0**-126, 3.3895313892515355e38, math.inf, -math.inf, math.nan, 1.0078125]
# 1e-300 underflows and 1e300 overflows float32; 0.1 and 1/3 are not exactly representable.
SPECIAL_F64 = [0.0, -0.0, 0.1, 1.0 / 3.0, 1e-300, -1e300, math.inf, math.nan, 2.0**-149, 16777217.0]


def floats(rng: np.random.Generator, dtype, shape: tuple[int, ...], special: list[float]) -> np.ndarray:
    count = int(np.prod(shape))
    values = rng.standard_normal(count) * 10.0 ** rng.integers(-3, 4, count)
    values[: min(len(special), count)] = special[:count]
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(dtype).reshape(shape)


def mixed_tensors(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "model.embed_tokens.weight": floats(rng, np.float32, (16, 8), SPECIAL_F32),
        "model.layers.0.self_attn.q_proj.weight": floats(rng, np.float16, (8, 8), SPECIAL_F16),
        "model.layers.0.mlp.up_proj.weight": floats(rng, BF16, (4, 2, 6), SPECIAL_BF16),
        "model.layers.0.input_layernorm.weight": floats(rng, np.float64, (12,), SPECIAL_F64),
        "model.norm.eps": np.array(1e-6, dtype=np.float32),  # scalar: shape []
        "model.empty_bias": np.zeros((0, 4), dtype=np.float16),  # zero-size
        "position_ids": np.arange(-3, 7, dtype=np.int64).reshape(2, 5),
        "counts.i32": rng.integers(-(2**31), 2**31, 6, dtype=np.int32),
        "counts.i16": rng.integers(-(2**15), 2**15, 5, dtype=np.int16),
        "counts.i8": rng.integers(-128, 128, 7, dtype=np.int8),
        "pixels.u8": rng.integers(0, 256, 9, dtype=np.uint8),
        "attention_mask": rng.integers(0, 2, (3, 3)).astype(np.bool_),
    }


def shard_tensors(rng: np.random.Generator) -> list[dict[str, np.ndarray]]:
    first = {
        "model.embed_tokens.weight": floats(rng, BF16, (10, 4), SPECIAL_BF16),
        "model.layers.0.self_attn.o_proj.weight": floats(rng, BF16, (4, 4), []),
        "model.layers.0.self_attn.q_proj.weight": floats(rng, BF16, (4, 4), []),
    }
    second = {
        "model.layers.1.self_attn.o_proj.weight": floats(rng, BF16, (4, 4), []),
        "model.layers.1.post_attention_layernorm.weight": floats(rng, np.float32, (4,), SPECIAL_F32),
        "model.norm.weight": floats(rng, np.float32, (4,), []),
    }
    return [first, second]


def json_number(value: float) -> float | str:
    # JSON has no NaN or infinities; the test maps these strings back.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def describe(file: Path, root: Path, name: str, array: np.ndarray) -> dict:
    values = array.astype(np.float64).reshape(-1)
    return {
        "file": file.relative_to(root).as_posix(),
        "name": name,
        "dtype": DTYPE_NAMES[array.dtype],
        "shape": list(array.shape),
        "hex": array.tobytes().hex(),
        "values": [json_number(float(v)) for v in values],
    }


def header_of(file: Path) -> tuple[int, list[str]]:
    """The header length and the tensor names in data order, as the library wrote them."""
    raw = file.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    names = [k for k in header if k != "__metadata__"]
    names.sort(key=lambda k: header[k]["data_offsets"][0])
    return length, names


def save_checked(file: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    save_file(tensors, str(file), metadata=metadata)
    loaded = load_file(str(file))
    assert loaded.keys() == tensors.keys(), file
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype and loaded[name].tobytes() == array.tobytes(), name


# float32 bit patterns: round-to-nearest-even ties, values next to ties, subnormals of both the
# source and the target, overflow to infinity, signed zeros, quiet and signalling NaNs.
ROUNDING_BITS = [
    0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
    0x7FC00000, 0xFFC00000, 0x7FC00001, 0x7F800001, 0x7FA00000, 0xFFD00000, 0x7FFFFFFF,
    # bf16: ties at 1 + 2^-8 (to even, down) and 1 + 3*2^-8 (to even, up); just above a tie.
    0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF, 0xBF818000,
    # bf16: largest float32 and the tie at the largest bf16 overflow to infinity.
    0x7F7FFFFF, 0x7F7F8000, 0x7F7F7FFF, 0xFF7F8000,
    # subnormal float32 (bf16 keeps them): smallest, ties, largest.
    0x00000001, 0x00008000, 0x00018000, 0x00008001, 0x007FFFFF, 0x80018000,
    # f16: 65504 (largest), 65519.996 (rounds down to it), 65520 (tie, overflows), 1e5.
    0x477FE000, 0x477FEFFF, 0x477FF000, 0xC77FF000, 0x47C35000,
    # f16 subnormals: 2^-24 (smallest), 2^-25 (tie to 0), 1.5 * 2^-25, 3 * 2^-25 (tie to even),
    # just below 2^-14 (rounds up to the smallest normal), 2^-14, a value that flushes to -0.
    0x33800000, 0x33000000, 0x33000001, 0x33400000, 0x33C00000, 0x387FFFFF, 0x38800000, 0xB2000000,
    # f16: 1 + 2^-11 (tie, down), 1 + 3 * 2^-11 (tie, up), 2048 + 1 (tie, down), 2048 + 3 (tie, up).
    0x3F801000, 0x3F803000, 0x45001000, 0x45003000,
    # 0.1, 1/3, pi, -1e-8
    0x3DCCCCCD, 0x3EAAAAAB, 0x40490FDB, 0xB22BCC77,
]
RANDOM_ROUNDING_CASES = 64


def rounding_cases(rng: np.random.Generator) -> list[dict]:
    random_bits = rng.integers(0, 2**32, RANDOM_ROUNDING_CASES, dtype=np.uint64)
    bits = np.array(ROUNDING_BITS + [int(b) for b in random_bits], dtype=np.uint32)
    values = bits.view(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        bf16 = values.astype(BF16).view(np.uint16)
        f16 = values.astype(np.float16).view(np.uint16)
    cases = [
        {"f32": int(b), "bf16": int(x), "f16": int(y)} for b, x, y in zip(bits, bf16, f16)
    ]
    # Spot checks of what the references must do, so a changed library fails here, loudly.
    by_bits = {c["f32"]: c for c in cases}
    assert by_bits[0x3F808000]["bf16"] == 0x3F80 and by_bits[0x3F818000]["bf16"] == 0x3F82
    assert by_bits[0x7F7F8000]["bf16"] == 0x7F80
    assert by_bits[0x477FEFFF]["f16"] == 0x7BFF and by_bits[0x477FF000]["f16"] == 0x7C00
    assert by_bits[0x33000000]["f16"] == 0x0000 and by_bits[0x33C00000]["f16"] == 0x0002
    assert by_bits[0x387FFFFF]["f16"] == 0x0400 and by_bits[0xB2000000]["f16"] == 0x8000
    for c in cases:
        if math.isnan(float(np.uint32(c["f32"]).view(np.float32))):
            assert (c["bf16"] & 0x7FFF) > 0x7F80 and (c["f16"] & 0x7FFF) > 0x7C00, hex(c["f32"])
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    (out / "sharded").mkdir(parents=True)
    rng = np.random.default_rng(SEED)

    described: list[dict] = []
    layouts: dict[str, dict] = {}

    mixed = mixed_tensors(rng)
    mixed_file = out / "mixed.safetensors"
    save_checked(mixed_file, mixed, {"format": "np", "source": GENERATOR})
    described += [describe(mixed_file, out, name, array) for name, array in mixed.items()]

    shards = shard_tensors(rng)
    weight_map: dict[str, str] = {}
    total_size = 0
    for index, tensors in enumerate(shards, start=1):
        shard_file = out / "sharded" / f"model-{index:05d}-of-{len(shards):05d}.safetensors"
        save_checked(shard_file, tensors, {"format": "np"})
        described += [describe(shard_file, out, name, array) for name, array in tensors.items()]
        for name, array in tensors.items():
            weight_map[name] = shard_file.name
            total_size += array.nbytes
    # Like transformers' index: metadata.total_size is a number, weight_map sorted by name.
    index_json = {"metadata": {"total_size": total_size}, "weight_map": dict(sorted(weight_map.items()))}
    (out / "sharded" / "model.safetensors.index.json").write_text(json.dumps(index_json, indent=2) + "\n")

    for file in sorted(out.rglob("*.safetensors")):
        length, names = header_of(file)
        layouts[file.relative_to(out).as_posix()] = {"header_length": length, "data_order": names}

    expected = {
        "generator": GENERATOR,
        "seed": SEED,
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "safetensors": safetensors.__version__,
            "ml_dtypes": ml_dtypes.__version__,
        },
        "metadata": {
            "mixed.safetensors": {"format": "np", "source": GENERATOR},
            "sharded": {"format": "np", "total_size": str(total_size)},
        },
        "layouts": layouts,
        "tensors": described,
        "rounding_cases": rounding_cases(rng),
    }
    # One tensor or rounding case per line keeps the file small and diffs readable.
    head = {k: v for k, v in expected.items() if k not in ("tensors", "rounding_cases")}
    tensor_lines = ",\n  ".join(json.dumps(t, separators=(",", ":")) for t in described)
    case_lines = ",\n  ".join(json.dumps(c, separators=(",", ":")) for c in expected["rounding_cases"])
    text = (
        json.dumps(head, indent=1)[:-2]
        + ',\n "tensors": [\n  ' + tensor_lines + "\n ],"
        + '\n "rounding_cases": [\n  ' + case_lines + "\n ]\n}\n"
    )
    assert json.loads(text) == expected  # the hand-joined document is valid JSON
    (out / "expected.json").write_text(text)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out} ({len(described)} tensors, {len(expected['rounding_cases'])} rounding cases, {total} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
