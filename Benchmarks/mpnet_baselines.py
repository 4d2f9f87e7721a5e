#!/usr/bin/env python3
"""Baselines for all-mpnet-base-v2 on the same workloads as ../shared/baselines (1,000 × 12 tokens and
256 × 128 tokens, batch 32, default threads): sentence-transformers encode(), and ONNX Runtime on the model
exported the way ../shared/baselines/export_onnx.py exports MiniLM (TorchScript exporter, opset 17, dynamic
batch and length, mean pooling and L2 normalisation inside the graph). Prints one JSON line.

Usage:
    PY=~/.cache/attend-baselines/venv/bin/python
    $PY Benchmarks/mpnet_baselines.py --model-dir ~/.cache/attend/models/all-mpnet-base-v2 [--repeats 5]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "baselines"))
import benchlib  # noqa: E402  (offline env vars, quiet-machine timing, the benchmark sentences)
import numpy as np  # noqa: E402
import torch  # noqa: E402


class Embedder(torch.nn.Module):
    def __init__(self, mpnet):
        super().__init__()
        self.mpnet = mpnet

    def forward(self, input_ids, attention_mask):
        h = self.mpnet(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        e = (h * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return e / e.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def export(model_dir, path):
    from transformers import MPNetModel
    model = MPNetModel.from_pretrained(model_dir, add_pooling_layer=False, attn_implementation="eager").eval()
    ids = torch.ones(2, 16, dtype=torch.int64) * 2000
    mask = torch.ones(2, 16, dtype=torch.int64)
    torch.onnx.export(Embedder(model), (ids, mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["sentence_embedding"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
                                    "sentence_embedding": {0: "b"}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=os.path.expanduser("~/.cache/attend/models/all-mpnet-base-v2"))
    ap.add_argument("--onnx", default=os.path.expanduser("~/.cache/attend-baselines/onnx/mpnet.onnx"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--only", choices=["st", "onnx"])
    args = ap.parse_args()

    import onnxruntime as ort
    import sentence_transformers
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(args.model_dir)
    cases = [("short", 1000, 12), ("long", 256, 128)]
    sets = {name: benchlib.make_sentences(n, t) for name, n, t in cases}
    for name, n, t in cases:
        benchlib.check_lengths(tok, sets[name], t)
    res = {"bench": "mpnet_embed_throughput", "batch_size": args.batch, "env": benchlib.env_info(),
           "sentence_transformers": sentence_transformers.__version__, "onnxruntime": ort.__version__, "results": []}

    if args.only in (None, "st"):
        st = SentenceTransformer(args.model_dir, device="cpu")
        for name, n, t in cases:
            r = benchlib.time_it(lambda: st.encode(sets[name], batch_size=args.batch, show_progress_bar=False), args.repeats)
            res["results"].append({"impl": "sentence-transformers encode", "case": name, "n": n, "tokens": t, **r,
                                   "sent_per_s": n / r["median_s"]})

    if args.only in (None, "onnx"):
        if not os.path.exists(args.onnx):
            os.makedirs(os.path.dirname(args.onnx), exist_ok=True)
            export(args.model_dir, args.onnx)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
        st = SentenceTransformer(args.model_dir, device="cpu")
        check = sets["short"][:8]
        ref = st.encode(check, normalize_embeddings=False)
        enc = tok(check, padding=True, return_tensors="np")
        got = sess.run(["sentence_embedding"], {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")})[0]
        res["onnx_max_abs_diff_vs_st"] = float(np.abs(ref - got).max())

        def run(sents):
            outs = []
            for i in range(0, len(sents), args.batch):
                enc = tok(sents[i:i + args.batch], padding=True, truncation=True, max_length=384, return_tensors="np")
                outs.append(sess.run(["sentence_embedding"], {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")})[0])
            return np.concatenate(outs)

        for name, n, t in cases:
            r = benchlib.time_it(lambda: run(sets[name]), args.repeats)
            res["results"].append({"impl": "onnxruntime mpnet.onnx", "case": name, "n": n, "tokens": t, **r,
                                   "sent_per_s": n / r["median_s"]})
    print(json.dumps(res))


if __name__ == "__main__":
    main()
