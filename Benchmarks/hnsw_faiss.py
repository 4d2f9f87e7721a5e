"""FAISS's HNSW on the same vectors as `attend index bench --near-rows` (a baseline for the recall@k Attend's graph
reaches, not a test): IndexHNSWFlat with inner product, the same M and efConstruction, queries made the same way
(seeded stored rows plus 0.5 × a random unit vector, normalised), recall@k against FAISS's exact IndexFlatIP.

    python3 Benchmarks/hnsw_faiss.py v.npy --m 16 --ef-construction 100 --queries 50 --top 10 --ef 16,32,64,128
"""
import argparse, json, time
import numpy as np
import faiss

p = argparse.ArgumentParser()
p.add_argument("npy")
p.add_argument("--m", type=int, default=16)
p.add_argument("--ef-construction", type=int, default=100)
p.add_argument("--queries", type=int, default=50)
p.add_argument("--top", type=int, default=10)
p.add_argument("--ef", default="16,32,64,128")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
faiss.omp_set_num_threads(a.threads)
x = np.load(a.npy, mmap_mode="r")
n, d = x.shape
x = np.ascontiguousarray(x, dtype=np.float32)
rng = np.random.default_rng(a.seed)
rows = rng.integers(0, n, a.queries)
noise = rng.standard_normal((a.queries, d)).astype(np.float32)
noise /= np.linalg.norm(noise, axis=1, keepdims=True)
q = x[rows] + 0.5 * noise
q /= np.linalg.norm(q, axis=1, keepdims=True)

flat = faiss.IndexFlatIP(d)
flat.add(x)
_, truth = flat.search(q, a.top)

index = faiss.IndexHNSWFlat(d, a.m, faiss.METRIC_INNER_PRODUCT)
index.hnsw.efConstruction = a.ef_construction
t0 = time.time(); c0 = time.process_time()
index.add(x)
build = {"wall_s": time.time() - t0, "cpu_s": time.process_time() - c0}
out = {"rows": n, "dim": d, "m": a.m, "ef_construction": a.ef_construction, "threads": a.threads, "build": build, "hnsw": []}
for ef in [int(e) for e in a.ef.split(",")]:
    index.hnsw.efSearch = ef
    t0 = time.time()
    _, got = index.search(q, a.top)
    ms = (time.time() - t0) * 1000 / a.queries
    recall = np.mean([len(set(g) & set(t)) / a.top for g, t in zip(got, truth)])
    top1 = np.mean([g[0] == r for g, r in zip(got, rows)])
    out["hnsw"].append({"ef": ef, "recall": float(recall), "row_found_first": float(top1), "ms_per_query": ms})
print(json.dumps(out))
