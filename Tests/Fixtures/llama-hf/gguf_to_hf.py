#!/usr/bin/env python3
"""Converts a Llama GGUF file to a Hugging Face folder with transformers (float32 safetensors, tokenizer, chat
template), for the manual check that Attend's HF-folder loader and its GGUF reference path agree on a real model.

Usage (needs `pip install gguf accelerate` beside transformers):
    PY=~/.cache/attend-baselines/venv/bin/python
    $PY Tests/Fixtures/llama-hf/gguf_to_hf.py ~/.cache/attend/models/smollm2-135m SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2-hf
then compare `attend generate --model /tmp/smollm2-hf …` with `attend generate --model smollm2-135m …`.
transformers dequantizes every tensor to float32 and undoes llama.cpp's Q/K row permutation, so the folder holds
exactly the weights of Attend's GGUF reference path (`LlamaWeightPath.reference`).
"""
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    folder, name, out = sys.argv[1], sys.argv[2], sys.argv[3]
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # A model loaded from GGUF refuses save_pretrained ("quantized with gguf"): copy its float32 weights into a plain
    # model of the same config.
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(model.state_dict())
    plain.save_pretrained(out)
    tok.save_pretrained(out)


if __name__ == "__main__":
    main()
