#!/usr/bin/python3
"""Write the safetensors and dtype-conversion fixtures for ModelGen's DType tests.

Run:   /usr/bin/python3 tests/oracle/make_safetensors_fixtures.py
Needs: PyTorch (tested with Debian's torch 1.13). The `safetensors` package is not needed: the files are written
by hand with struct and json, following the format (8-byte little-endian header length, a JSON header padded with
spaces to a multiple of 8, then the data buffer), so the script is an independent implementation of the format.

Writes into fixtures/ next to this script:

  dtypes.safetensors       one or two tensors of every dtype (F32, F64, I32, I64, BOOL, F16, BF16) with known values,
                           laid out exactly as ModelGen's SafeTensorsWriter lays them out (tensors in the given order,
                           compact JSON with keys dtype, shape, data_offsets, metadata first), so the C# test can
                           compare bytes. The values are repeated in dtypes.json.
  dtypes.json              {"metadata": {...}, "tensors": [{name, dtype, shape, values}]}: the values as written
                           (floats as IEEE bit patterns in hex so NaN and -0 survive; ints as decimal; bools as 0/1).
  conversions.json         torch's conversions: float32 → float16 / bfloat16 bit patterns (subnormals, ties to even,
                           overflow to inf, inf, NaN, random values), float64 → float16 / bfloat16 (torch goes
                           through float32), float16 / bfloat16 → float32 widening of sampled bit patterns, float32
                           → int32 / int64 (truncation toward zero) and float32 → bool.
  tiny_f16.safetensors,    the parameters of a Linear(6, 9) → Linear(9, 5) model (fc1.weight, fc1.bias, fc2.weight,
  tiny_bf16.safetensors    fc2.bias) stored as F16 / BF16, written like HuggingFace checkpoints (names sorted,
                           {"format": "pt"} metadata); their float32 values are in tiny.json.

Running the script twice gives byte-identical files.
"""

import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def bits_to_f32(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


def f32_tensor(bit_patterns):
    return torch.tensor(bit_patterns, dtype=torch.int64).to(torch.int32).view(torch.float32)


def u16(t):
    """A float16/bfloat16 tensor's bit patterns as Python ints."""
    return [v & 0xFFFF for v in t.contiguous().view(torch.int16).tolist()]


def u32(t):
    return [v & 0xFFFFFFFF for v in t.contiguous().view(torch.int32).tolist()]


def raw(t):
    """The little-endian bytes of a tensor, as torch stores it."""
    t = t.contiguous()
    if t.dtype == torch.bool:
        return bytes(int(v) for v in t.reshape(-1).tolist())
    fmt = {torch.float32: "f", torch.float64: "d", torch.int32: "i", torch.int64: "q"}
    if t.dtype in fmt:
        vals = t.reshape(-1).tolist()
        if t.dtype == torch.float32:  # through the bit pattern, so NaN payloads survive
            return b"".join(struct.pack("<I", b) for b in u32(t.reshape(-1)))
        if t.dtype == torch.float64:
            return b"".join(struct.pack("<q", b) for b in t.reshape(-1).view(torch.int64).tolist())
        return struct.pack("<%d%s" % (len(vals), fmt[t.dtype]), *vals)
    if t.dtype in (torch.float16, torch.bfloat16):
        return b"".join(struct.pack("<H", b) for b in u16(t.reshape(-1)))
    raise ValueError(t.dtype)


ST_NAME = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64",
           torch.bool: "BOOL", torch.float16: "F16", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor), written in this order."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, t in tensors:
        b = raw(t)
        header[name] = {"dtype": ST_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    padded = (len(text) + 7) // 8 * 8
    text += b" " * (padded - len(text))
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def describe(t):
    """Values of a tensor for JSON: floats as hex bit patterns, ints as decimal, bools as 0/1."""
    flat = t.contiguous().reshape(-1)
    if t.dtype == torch.float32:
        return ["%08x" % b for b in u32(flat)]
    if t.dtype == torch.float64:
        return ["%016x" % (b & 0xFFFFFFFFFFFFFFFF) for b in flat.view(torch.int64).tolist()]
    if t.dtype in (torch.float16, torch.bfloat16):
        return ["%04x" % b for b in u16(flat)]
    if t.dtype == torch.bool:
        return [int(v) for v in flat.tolist()]
    return [int(v) for v in flat.tolist()]


def dump_json(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False, sort_keys=False)
        f.write("\n")


# --------------------------------------------------------------------------
# dtypes.safetensors: every dtype, in ModelGen's writer layout
# --------------------------------------------------------------------------

def dtype_tensors():
    nan = float("nan")
    inf = float("inf")
    f32 = f32_tensor([0x00000000, 0x80000000, f32_bits(1.5), f32_bits(-2.25), 0x7F7FFFFF, 0x00000001,
                      0x7F800000, 0xFF800000, 0x7FC00000, f32_bits(0.1), f32_bits(-1e-20), f32_bits(123456.789)]).reshape(3, 4)
    f64 = torch.tensor([0.0, -0.0, 1.5, -2.25, 1.7976931348623157e308, 5e-324, inf, -inf, 0.1, -1e-300],
                       dtype=torch.float64).reshape(2, 5)
    f64_nan = torch.tensor([nan], dtype=torch.float64).reshape(())
    i32 = torch.tensor([0, 1, -1, 2147483647, -2147483648, 123456, -7], dtype=torch.int32)
    i64 = torch.tensor([0, -1, 2 ** 62, -2 ** 63, 2 ** 63 - 1, 2 ** 53 + 1], dtype=torch.int64).reshape(3, 2)
    b = torch.tensor([True, False, True, True, False, False], dtype=torch.bool).reshape(2, 3)
    src = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 1e5, 2 ** -24, 2 ** -14, 0.1, 1.0 / 3.0, inf, -inf],
                       dtype=torch.float32)
    f16 = src.to(torch.float16).reshape(2, 2, 3)
    bf16 = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.0e38, 1e-40, 0.1, 1.0 / 3.0, inf, -inf], dtype=torch.float32).to(torch.bfloat16)
    empty = torch.zeros((2, 0), dtype=torch.float16)
    scalar = torch.tensor(42, dtype=torch.int64)
    return [
        ("f32", f32), ("f64", f64), ("f64_nan", f64_nan), ("i32", i32), ("i64", i64), ("bool", b),
        ("f16", f16), ("bf16", bf16), ("f16_empty", empty), ("i64_scalar", scalar),
    ]


def make_dtypes():
    tensors = dtype_tensors()
    metadata = {"format": "pt", "source": "make_safetensors_fixtures.py"}
    write_safetensors(os.path.join(OUT, "dtypes.safetensors"), tensors, metadata)
    dump_json("dtypes.json", {
        "metadata": metadata,
        "tensors": [{"name": n, "dtype": ST_NAME[t.dtype], "shape": list(t.shape), "values": describe(t)} for n, t in tensors],
    })


# --------------------------------------------------------------------------
# conversions.json: torch's float32 ↔ float16 / bfloat16, float64 → 16-bit, float → int, float → bool
# --------------------------------------------------------------------------

def make_conversions():
    specials = [
        0x00000000, 0x80000000,                      # ±0
        0x3F800000, 0xBF800000,                      # ±1
        0x7F800000, 0xFF800000,                      # ±inf
        0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF,  # NaNs (quiet, negative, signalling payloads)
        0x00000001, 0x007FFFFF, 0x00800000,          # float32 subnormals and the smallest normal
        0x7F7FFFFF, 0xFF7FFFFF,                      # ±float32 max (bfloat16: rounds to inf)
        0x7F7F0000, 0x7F7F7FFF, 0x7F7F8000,          # near the bfloat16 max: exact, just below the tie, the tie
    ]
    values = [
        65504.0, 65519.0, 65519.996, 65520.0, 65536.0, 1e10, -1e10, 70000.0,   # float16 max, just below/at the overflow tie
        2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 3 * 2.0 ** -25, 2.0 ** -26, 2.0 ** -24 * 1.5,  # float16 subnormals, ties
        2.0 ** -24 * 2.5, 2.0 ** -15, (2.0 ** -14) * (1 - 2.0 ** -11), (2.0 ** -14) * (1 - 2.0 ** -12),
        1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -11 + 2.0 ** -23, 2048 + 1.0, 2048 + 3.0,        # float16 ties to even
        1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, 1 + 2.0 ** -8 + 2.0 ** -23, 256 + 1.0, 256 + 3.0,             # bfloat16 ties to even
        0.1, -0.1, 1.0 / 3.0, math.pi, -math.e, 1e-5, 1e-8, 1e-30, 1e-40, 1e30, 3.0e38,
    ]
    bits = specials + [f32_bits(v) for v in values] + [f32_bits(-v) for v in values]
    gen = torch.Generator().manual_seed(20)
    rnd = (torch.randn(200, generator=gen) * torch.pow(10.0, torch.randint(-9, 6, (200,), generator=gen).float())).to(torch.float32)
    bits += u32(rnd)
    x = f32_tensor(bits)
    f16 = u16(x.to(torch.float16))
    bf16 = u16(x.to(torch.bfloat16))

    doubles = [1 + 2.0 ** -11 + 2.0 ** -40, 1 + 2.0 ** -8 + 2.0 ** -40, 0.1, 1.0 / 3.0, 65519.99999999, 1e300, -1e300, 5e-324,
               2.0 ** -25 + 2.0 ** -60, -(1 + 2.0 ** -11 + 2.0 ** -40)]
    d = torch.tensor(doubles, dtype=torch.float64)
    d_f16 = u16(d.to(torch.float16))
    d_bf16 = u16(d.to(torch.bfloat16))

    # widening: every 61st bit pattern plus the specials of both formats
    patterns = sorted(set(list(range(0, 65536, 61)) + [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00,
                                                       0x7C01, 0xFE00, 0x3C00, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x0080, 0x007F]))
    pt = torch.tensor(patterns, dtype=torch.int32).to(torch.int16)
    wide_f16 = u32(pt.view(torch.float16).to(torch.float32))
    wide_bf16 = u32(pt.view(torch.bfloat16).to(torch.float32))

    ints_in = [0.0, -0.0, 0.4, 0.5, 0.9999, 1.0, 2.5, 2.7, -2.5, -2.7, -0.9999, 1e9, -1e9, 2147483520.0, -2147483648.0, 16777217.0, 123.456]
    t = torch.tensor(ints_in, dtype=torch.float32)
    i32 = t.to(torch.int32).tolist()
    i64_in = ints_in + [1e18, -1e18, 9.2e18]
    t64 = torch.tensor(i64_in, dtype=torch.float32)
    i64 = t64.to(torch.int64).tolist()
    bool_bits = [0x00000000, 0x80000000, f32_bits(1e-45), f32_bits(0.1), f32_bits(-3.0), 0x7FC00000, 0x7F800000, 0xFF800000]
    tb = f32_tensor(bool_bits).to(torch.bool).tolist()

    dump_json("conversions.json", {
        "torch": torch.__version__,
        "float32_to_16": {"float32": ["%08x" % b for b in bits], "float16": ["%04x" % b for b in f16], "bfloat16": ["%04x" % b for b in bf16]},
        "float64_to_16": {"float64": ["%016x" % f64_bits(v) for v in doubles], "float16": ["%04x" % b for b in d_f16],
                          "bfloat16": ["%04x" % b for b in d_bf16]},
        "widen": {"bits": ["%04x" % b for b in patterns], "float16": ["%08x" % b for b in wide_f16], "bfloat16": ["%08x" % b for b in wide_bf16]},
        "to_int32": {"float32": ["%08x" % f32_bits(v) for v in ints_in], "int32": i32},
        "to_int64": {"float32": ["%08x" % f32_bits(v) for v in i64_in], "int64": i64},
        "to_bool": {"float32": ["%08x" % b for b in bool_bits], "bool": [int(v) for v in tb]},
    })


# --------------------------------------------------------------------------
# tiny_f16 / tiny_bf16: a checkpoint of Linear(6, 9) → Linear(9, 5) in 16-bit, as HuggingFace writes them
# --------------------------------------------------------------------------

def make_tiny():
    torch.manual_seed(7)
    fc1, fc2 = torch.nn.Linear(6, 9), torch.nn.Linear(9, 5)
    state = {"fc1.weight": fc1.weight, "fc1.bias": fc1.bias, "fc2.weight": fc2.weight, "fc2.bias": fc2.bias}
    state = {k: v.detach().to(torch.float32) for k, v in state.items()}
    out = {}
    for suffix, dt in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        tensors = [(k, state[k].to(dt)) for k in sorted(state)]
        write_safetensors(os.path.join(OUT, "tiny_%s.safetensors" % suffix), tensors, {"format": "pt"})
        out[suffix] = {k: {"shape": list(t.shape), "float32": ["%08x" % b for b in u32(t.to(torch.float32).reshape(-1))]}
                       for k, t in tensors}
    dump_json("tiny.json", out)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_dtypes()
    make_conversions()
    make_tiny()
    for f in ("dtypes.safetensors", "dtypes.json", "conversions.json", "tiny_f16.safetensors", "tiny_bf16.safetensors", "tiny.json"):
        print(f, os.path.getsize(os.path.join(OUT, f)), "bytes")
