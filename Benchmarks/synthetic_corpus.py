"""Writes a synthetic corpus as `attend embed --keep-text` would: NAME.npy (float32 [N, D] unit vectors around
C random centres, seeded), NAME.ids.jsonl ({"id", "text"} per row) and NAME.meta.json (a synthetic model identity),
for `attend index build --embeddings NAME.npy` at scales no model could embed in a sitting.

    python3 Benchmarks/synthetic_corpus.py OUT_STEM --rows 1000000 --dim 384 --centres 1000 --noise 0.05
"""
import argparse, json, numpy as np

p = argparse.ArgumentParser()
p.add_argument("stem")
p.add_argument("--rows", type=int, default=1_000_000)
p.add_argument("--dim", type=int, default=384)
p.add_argument("--centres", type=int, default=1000)
p.add_argument("--noise", type=float, default=0.05, help="standard deviation per dimension of the noise around a centre")
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
rng = np.random.default_rng(a.seed)
centres = rng.standard_normal((a.centres, a.dim)).astype(np.float32)
centres /= np.linalg.norm(centres, axis=1, keepdims=True)
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (a.rows, a.dim)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
with open(a.stem + ".npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    for start in range(0, a.rows, 65536):
        n = min(65536, a.rows - start)
        v = centres[rng.integers(0, a.centres, n)] + a.noise * rng.standard_normal((n, a.dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        f.write(v.astype("<f4").tobytes())
with open(a.stem + ".ids.jsonl", "w") as f:
    for i in range(a.rows):
        f.write('{"id":"d%d","text":"synthetic document %d"}\n' % (i, i))
model = {"name": "synthetic", "sha256": "ab" * 32, "dimension": a.dim, "pooling": ["mean"], "normalize": True}
with open(a.stem + ".meta.json", "w") as f:
    json.dump({"model": model, "rows": a.rows, "dimension": a.dim}, f)
    f.write("\n")
