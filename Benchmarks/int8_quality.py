#!/usr/bin/env python3
"""How much `--precision int8` moves the embeddings: the cosine of every sentence's int8 embedding to its fp32 one on
the benchmark sets, and the overlap of the top-10 documents retrieved with int8 embeddings against fp32 ones.

Usage: int8_quality.py --attend PATH/attend --short short.txt --long long.txt [--model NAME] [--precision int8]
The retrieval task: the short set (1,000 sentences) is the corpus; 100 queries are the long set's first 100 sentences
cut to their first 12 words. Prints one JSON line."""
import argparse, json, os, subprocess, tempfile
import numpy as np


def embed(attend, model, precision, path, out):
    subprocess.run([attend, "embed", "--model", model, "--precision", precision, "--input", path, "--output", out],
                   check=True, stderr=subprocess.DEVNULL)
    x = np.load(out).astype(np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attend", required=True)
    ap.add_argument("--short", required=True)
    ap.add_argument("--long", required=True)
    ap.add_argument("--model", default="all-MiniLM-L6-v2")
    ap.add_argument("--precision", default="int8")
    a = ap.parse_args()
    result = {"bench": "attend_int8_quality", "model": a.model, "precision": a.precision}
    with tempfile.TemporaryDirectory() as tmp:
        vecs = {}
        for case, path in (("short", a.short), ("long", a.long)):
            f = embed(a.attend, a.model, "fp32", path, os.path.join(tmp, f"{case}-fp32.npy"))
            q = embed(a.attend, a.model, a.precision, path, os.path.join(tmp, f"{case}-q.npy"))
            cos = (f * q).sum(axis=1)
            result[case] = {"n": len(cos), "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean()),
                            "below_0_99": int((cos < 0.99).sum())}
            vecs[case] = (f, q)
        queries = [" ".join(line.split()[:12]) for line in open(a.long, encoding="utf-8").read().splitlines()[:100]]
        qpath = os.path.join(tmp, "queries.txt")
        with open(qpath, "w", encoding="utf-8") as out:
            out.write("\n".join(queries) + "\n")
        qf = embed(a.attend, a.model, "fp32", qpath, os.path.join(tmp, "q-fp32.npy"))
        qq = embed(a.attend, a.model, a.precision, qpath, os.path.join(tmp, "q-q.npy"))
        cf, cq = vecs["short"]
        top_f = np.argsort(-(qf @ cf.T), axis=1)[:, :10]
        top_q = np.argsort(-(qq @ cq.T), axis=1)[:, :10]
        overlap = np.array([len(set(x) & set(y)) / 10 for x, y in zip(top_f, top_q)])
        result["retrieval"] = {"queries": len(queries), "corpus": len(cf), "overlap_mean": float(overlap.mean()),
                               "overlap_min": float(overlap.min())}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
