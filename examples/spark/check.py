"""Checks the Spark job's shards against one `attend embed` run, and FAISS's exact search against `attend search --index`.

    python check.py --shards shards/ --single single.npy --index corpus.attendindex --attend /path/to/attend
"""
import argparse
import glob
import json
import subprocess
import sys

import faiss
import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shards", required=True)
    p.add_argument("--single", required=True, help=".npy written by attend embed (float32), ids beside it")
    p.add_argument("--index", required=True)
    p.add_argument("--attend", required=True)
    p.add_argument("--top", type=int, default=10)
    args = p.parse_args()

    # 1. The shards, concatenated in part order, equal the single run: same ids in the same order, same float32 bits.
    ids, rows = [], []
    parts = sorted(glob.glob(f"{args.shards}/part-*"))
    for part in parts:
        with open(part) as f:
            for line in f:
                r = json.loads(line)
                if "error" in r:
                    sys.exit(f"error record in {part}: {line.strip()}")
                ids.append(r["id"])
                rows.append(r["embedding"])
    spark = np.asarray(rows, dtype=np.float32)
    single = np.load(args.single)
    stem = args.single[: -len(".npy")]
    single_ids = [json.loads(l)["id"] for l in open(stem + ".ids.jsonl")]
    assert spark.shape == single.shape, f"shapes differ: spark {spark.shape}, single {single.shape}"
    assert ids == single_ids, "ids differ or are out of order"
    diff = float(np.abs(spark - single).max())
    identical = bool(np.array_equal(spark.view(np.uint32), single.view(np.uint32)))
    print(f"{len(parts)} shards, {spark.shape[0]} vectors: bit-identical to one run: {identical}; max |diff| {diff:.3g}")
    assert diff <= 1e-6, "shards differ from the single run by more than 1e-6"

    # 2. FAISS exact inner-product search over the shards = attend search --index (exact).
    index = faiss.IndexFlatIP(spark.shape[1])
    index.add(spark)
    queries = ["a dog runs in the park", "red car in the city", "birds sing in the morning", "a dark river under the mountain"]
    out = subprocess.run([args.attend, "embed", "--json"] + queries, check=True, capture_output=True, text=True).stdout
    q = np.asarray([json.loads(l)["embedding"] for l in out.splitlines()], dtype=np.float32)
    scores, found = index.search(q, args.top)
    out = subprocess.run([args.attend, "search", "--index", args.index, "--top", str(args.top), "--json"] + queries,
                         check=True, capture_output=True, text=True).stdout
    for qi, line in enumerate(out.splitlines()):
        hits = json.loads(line)["results"]
        attend_ids = [h["id"] for h in hits]
        attend_scores = np.asarray([h["cosine"] for h in hits], dtype=np.float32)
        faiss_ids = [ids[i] for i in found[qi]]
        assert np.allclose(attend_scores, scores[qi], atol=1e-5), f"query {qi}: scores differ {attend_scores} vs {scores[qi]}"
        # Equal as lists, except that rows tied within 1e-5 may come in either order.
        if attend_ids != faiss_ids:
            kth = scores[qi][-1]
            assert set(attend_ids) - set(faiss_ids) <= {i for i, s in zip(attend_ids, attend_scores) if abs(s - kth) <= 1e-5}, \
                f"query {qi}: top-{args.top} differs: attend {attend_ids} faiss {faiss_ids}"
        print(f"query {qi}: FAISS top-{args.top} = attend search --index top-{args.top} ({attend_ids[:3]} …)")
    print("ok")


if __name__ == "__main__":
    main()
