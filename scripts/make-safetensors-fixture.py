#!/usr/bin/env python3
"""PyTorch side of wasmtail's safetensors interop tests.

The `safetensors` Python package is not installed on our machines (and PyPI is
unreachable), so the format is implemented here by hand from the spec, the
same way the reference writer lays it out: tensors ordered by dtype alignment
(largest first) then name, a compact JSON header padded with spaces to a
multiple of 8 bytes, and `{"format": "pt"}` as metadata, like
`safetensors.torch.save_file`. Tensor bytes come straight from torch.

  make DIR   write DIR/torch-mixed.safetensors and DIR/torch-mixed.expected.json
             (the values torch gets when it converts each tensor to float32)
  read FILE  parse FILE with torch.frombuffer and print its contents as JSON on
             stdout (used by test/io/safetensors-interop.test.ts)

Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity" so
the JSON stays standard.
"""
import json
import math
import struct
import sys

import torch

DTYPES = {  # safetensors name -> torch dtype, in the reference's alignment order
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I32": torch.int32,
    "F32": torch.float32,
    "F64": torch.float64,
    "I64": torch.int64,
}
NAMES = {v: k for k, v in DTYPES.items()}
ORDER = list(DTYPES)


def save(path, tensors, metadata):
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(NAMES[kv[1].dtype]), kv[0]))
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in items:
        raw = t.contiguous().view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load(path):
    buf = open(path, "rb").read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        raw = bytearray(buf[8 + n + begin : 8 + n + end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = (info, flat.reshape(info["shape"]))
    return tensors, metadata


def encode(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def describe(t):
    return [encode(v) for v in t.float().reshape(-1).tolist()]


def make(out_dir):
    torch.manual_seed(0)
    inf, nan = float("inf"), float("nan")
    tensors = {
        # A BatchNorm + conv state dict as PyTorch names it.
        "conv1.weight": torch.randn(2, 3, 3, 3),
        "bn1.weight": torch.tensor([1.0, 0.5]),
        "bn1.bias": torch.tensor([0.0, -0.25]),
        "bn1.running_mean": torch.randn(2),
        "bn1.running_var": torch.rand(2) + 0.5,
        "bn1.num_batches_tracked": torch.tensor(78200, dtype=torch.int64),
        # Edge values of each dtype we convert.
        "half.values": torch.tensor(
            [0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-24, 2.0**-14, inf, -inf, nan], dtype=torch.float16
        ).reshape(2, 5),
        "bfloat16.values": torch.tensor([1.0, -3.140625, 1e38, 2.0**-130, -inf, nan], dtype=torch.bfloat16).reshape(2, 3),
        "double.values": torch.tensor([0.1, 1e-50, 1e300, -1e-40, 16777217.0], dtype=torch.float64),
        "int32.values": torch.tensor([-5, 0, 7, 2**31 - 1], dtype=torch.int32),
        # 2^54 + 2^30 + 1 rounds differently if converted via float64 first.
        "int64.values": torch.tensor([-(2**40) - 1, 2**53 + 1, 2**54 + 2**30 + 1, -(2**63)], dtype=torch.int64),
        "empty.weight": torch.zeros(0, 3),
        "scalar": torch.tensor(2.5),
    }
    path = f"{out_dir}/torch-mixed.safetensors"
    save(path, tensors, {"format": "pt", "note": "made by scripts/make-safetensors-fixture.py"})
    expected = {
        name: {"dtype": NAMES[t.dtype], "shape": list(t.shape), "float32": describe(t)}
        for name, t in tensors.items()
    }
    with open(f"{out_dir}/torch-mixed.expected.json", "w") as f:
        lines = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in expected.items())
        f.write(f'{{"torch": {json.dumps(torch.__version__)}, "tensors": {{\n{lines}\n}}}}\n')
    # The file must read back to the same values through the reader below.
    for name, (info, t) in load(path)[0].items():
        assert describe(t) == expected[name]["float32"], name


def read(path):
    tensors, metadata = load(path)
    order = sorted(tensors, key=lambda k: tensors[k][0]["data_offsets"])
    out = {
        "metadata": metadata,
        "order": order,
        "tensors": {k: {"dtype": i["dtype"], "shape": list(t.shape), "float32": describe(t)} for k, (i, t) in tensors.items()},
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "read"):
        sys.exit(__doc__)
    {"make": make, "read": read}[sys.argv[1]](sys.argv[2])
