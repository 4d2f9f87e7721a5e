#!/usr/bin/env python3
"""Tiny random Llama models in Hugging Face layout, and their reference outputs from transformers, for Attend's
loader of HF folders (`Sources/AttendModels/Llama/Llama+HFLoading.swift`). Made independently of Attend.

Usage (writes the folders and the fixture file beside this script; about 0.8 MB in all):
    ~/.cache/attend-baselines/venv/bin/python Tests/Fixtures/llama-hf/make_tiny_llama.py

A byte-level BPE tokenizer of 512 tokens is trained with Hugging Face `tokenizers` on a small built-in corpus
(SmolLM2's pre-tokenizer: Digits(individual_digits) then ByteLevel; ByteLevel decoder; `<|endoftext|>`,
`<|im_start|>`, `<|im_end|>` as special tokens; SmolLM2's ChatML chat template). Two LlamaForCausalLM models
(hidden 64, 2 layers, 4 query heads sharing 2 key/value heads, FFN 128, RoPE base 10000, seed fixed) are saved
with `save_pretrained`:
  - `tiny-untied-f16`: float16 weights, an untied LM head (`lm_head.weight`), one `model.safetensors`;
  - `tiny-tied-bf16`: bfloat16 weights, the LM head tied to the embedding, sharded into several files with
    `model.safetensors.index.json`.
Both models' references are computed in float32 from the saved 16-bit values widened to float32 (Attend's tests
also rewrite a folder's weights as float32 and expect the same numbers).
Weights are drawn with std 0.15 (norm weights 1 ± 0.2) so the logits are far from uniform.

`tiny-llama-fixtures.json`, per model and prompt: input_ids, the last position's logits (all 512), every layer's
and head's attention weights (`[query][key]`; only the last 4 query rows for prompts over 32 tokens), and the
greedy continuation of 16 tokens (no stop on end of turn); plus the tokenizer's ids on hard text (code, whitespace runs, emoji, CJK, accents, special tokens).
Float32 eager attention throughout. Floats are rounded to 8 significant digits.
"""
import json
import os

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# SmolLM2-135M-Instruct's chat template (ChatML with a default system message).
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

CORPUS = [
    "The capital of France is Paris. The capital of Italy is Rome. The capital of Japan is Tokyo.",
    "Attention lets every token look back at the tokens before it, weighting each one by how well its key "
    "matches the query.",
    "def attention(q, k, v):\n    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))\n"
    "    return torch.softmax(scores, dim=-1) @ v\n",
    "I have two cats called Miso and Tofu. They love sleeping on the radiator. What did I say about cats earlier?",
    "Café, naïve, Zürich, façade, crème brûlée. 東京は日本の首都です。 🙂 🚀 👍🏽",
    "for i in range(10):\n\tprint(i * 2 + 1)\n\n    # indented comment\n",
    "Once upon a time there was a small model that learned to attend. It read the story and wrote the next word.",
    "1234567890 3.14159 2+2=4 100,000 x^2 + y^2 = z^2",
]

HARD_TEXTS = [
    "Hello world",
    "  leading spaces and   runs of    spaces  ",
    "def f(x):\n\treturn x ** 2  # square\n\n\n",
    "Café naïve Zürich façade",
    "東京は日本の首都です。中文也可以。",
    "emoji 🙂🚀 and 👍🏽 family 👨‍👩‍👧",
    "numbers 1234567 and ٣٤٥ and 3.14",
    "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "unseen words: xylophone quixotic zephyr",
    "\r\n\r\nwindows\r\nlines\u00a0nbsp",
]


def r8(x):
    return float(f"{float(x):.8g}")


def rounded(t):
    if isinstance(t, torch.Tensor):
        t = t.tolist()
    if isinstance(t, list):
        return [rounded(v) for v in t]
    return r8(t)


def train_tokenizer():
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=SPECIAL, min_frequency=1,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   unk_token="<|endoftext|>", pad_token="<|im_end|>", model_max_length=256)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build(tok, tied, seed):
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, rope_theta=10000.0, rms_norm_eps=1e-5,
        tie_word_embeddings=tied, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, attention_bias=False, mlp_bias=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    return model


def prompts(tok):
    chat = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                   tokenize=False, add_generation_prompt=True)
    return [
        ("raw", "The"),
        ("raw", "The capital of France is"),
        ("raw", "def attention(q, k, v):\n    return 東京 🙂 café 42"),
        ("chat", chat),
    ]


def references(model, tok):
    model.eval()
    cases = []
    for kind, text in prompts(tok):
        ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        n = ids.shape[1]
        with torch.no_grad():
            res = model(ids, output_attentions=True)
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=16, do_sample=False,
                                 eos_token_id=None, pad_token_id=tok.pad_token_id)
        new = gen[0, n:].tolist()
        cases.append({
            "kind": kind,
            "text": text,
            "input_ids": ids[0].tolist(),
            "logits": rounded(res.logits[0, -1]),
            "attention": [rounded(a[0] if n <= 32 else a[0, :, -4:]) for a in res.attentions],   # [layer][head][query][key]
            "attention_rows": "all" if n <= 32 else "last 4",
            "greedy_ids": new,
            "greedy_text": tok.decode(new),
        })
    return cases


def main():
    tok = train_tokenizer()
    out = {"meta": {"torch": torch.__version__, "transformers": transformers.__version__,
                    "layouts": {"attention": "[layer][head][query][key]", "logits": "last position, every id"}},
           "models": {}}
    for folder, tied, dtype, seed in (("tiny-untied-f16", False, torch.float16, 1), ("tiny-tied-bf16", True, torch.bfloat16, 2)):
        model = build(tok, tied, seed)
        # The references use exactly the saved values: 16-bit weights widened back to float32 (parameters only:
        # RoPE's inv_freq buffer stays float32, as transformers computes it when it loads the folder).
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(dtype).to(torch.float32))
        model.config._attn_implementation = "eager"
        cases = references(model, tok)
        path = os.path.join(HERE, folder)
        model.to(dtype).save_pretrained(path, max_shard_size="150KB" if tied else "5GB")
        tok.save_pretrained(path)
        out["models"][folder] = {"tied": tied, "dtype": str(dtype), "prompts": cases}
    out["tokenizer"] = [{"text": t, "ids": tok(t, add_special_tokens=False)["input_ids"]} for t in HARD_TEXTS]
    with open(os.path.join(HERE, "tiny-llama-fixtures.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"), ensure_ascii=False)


if __name__ == "__main__":
    main()
