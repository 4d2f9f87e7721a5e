#!/usr/bin/env python3
"""Writes the committed seed corpora (Fuzz/corpus/TARGET/*): small valid and nearly valid inputs.

Only the standard library: run with any python3 from the repository root, `python3 Fuzz/make_seeds.py`.
"""
import json, os, struct, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- json ---------------------------------------------------------------------------------------------------
for i, text in enumerate([
    '{}', '[]', 'null', 'true', '0', '-0.0', '1e308', '1e309', '-9223372036854775808', '9223372036854775807',
    '18446744073709551616', '"\\u00e9\\ud83d\\ude00"', '"\\ud800"', '[1, 2.5, -3e-7, "x", {"a": [null, false]}]',
    '{"a": {"b": {"c": [[[[]]]]}}}', '[' * 40 + ']' * 40, '{"dup": 1, "dup": 2}', '{"a": 1,}', '[1 2]',
    '"\\x"', '"tab\there"', '\ufeff{"bom": true}', '{"q": [[1, 0], [0, 1]], "k": [[1, 0]], "v": [[2, 3]]}',
]):
    put("json", f"seed-{i:02d}.json", text)

# --- safetensors --------------------------------------------------------------------------------------------
def safetensors(header, data=b"", pad=True, length=None):
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data

f32 = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
put("safetensors", "valid-f32.safetensors", safetensors(
    {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "__metadata__": {"format": "pt"}}, f32))
put("safetensors", "valid-mixed.safetensors", safetensors({
    "a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
    "b": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 8]},
    "ids": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]},
    "i32": {"dtype": "I32", "shape": [2], "data_offsets": [16, 24]},
    "empty": {"dtype": "F32", "shape": [0, 4], "data_offsets": [24, 24]},
    "scalar": {"dtype": "F32", "shape": [], "data_offsets": [24, 28]},
}, b"\x00\x3c\x00\x40" + b"\x80\x3f\x00\x40" + struct.pack("<q", 7) + struct.pack("<2i", -1, 2) + struct.pack("<f", 9)))
put("safetensors", "overlap.safetensors", safetensors({
    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12))
put("safetensors", "past-end.safetensors", safetensors(
    {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8))
put("safetensors", "shape-mismatch.safetensors", safetensors(
    {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8))
put("safetensors", "huge-shape.safetensors", safetensors(
    {"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}, b"\0" * 8))
put("safetensors", "negative-offsets.safetensors", safetensors(
    {"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}, b"\0" * 8))
put("safetensors", "huge-offsets.safetensors", safetensors(
    {"a": {"dtype": "F32", "shape": [1], "data_offsets": [9223372036854775804, 9223372036854775807]}}, b"\0" * 8))
put("safetensors", "header-too-long.safetensors", safetensors({"a": 1}, length=1 << 40))
put("safetensors", "bad-dtype.safetensors", safetensors(
    {"a": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0"))
put("safetensors", "truncated.safetensors", b"\x10\0\0\0\0\0\0\0{\"a\":")
put("safetensors", "not-utf8.safetensors", struct.pack("<Q", 4) + b"\xff\xfe{}")

# --- gguf ---------------------------------------------------------------------------------------------------
def gs(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b

def gguf(kvs, tensors, data, version=3, align=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, typ, payload in kvs:
        out += gs(key) + struct.pack("<I", typ) + payload
    for name, dims, typ, off in tensors:
        out += gs(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", typ, off)
    out += b"\0" * ((align - len(out) % align) % align)
    return out + data

kvs = [
    ("general.architecture", 8, gs("llama")),
    ("general.alignment", 4, struct.pack("<I", 32)),
    ("llama.context_length", 4, struct.pack("<I", 2048)),
    ("llama.rope.freq_base", 6, struct.pack("<f", 10000.0)),
    ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 3) + gs("a") + gs("b") + gs("<s>")),
    ("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 0, -1, -2)),
    ("flag", 7, b"\x01"),
    ("i64", 11, struct.pack("<q", -5)),
    ("f64", 12, struct.pack("<d", 0.5)),
    ("nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 5, 2) + struct.pack("<2i", 1, 2)),
]
q8 = struct.pack("<e", 0.5) + bytes(range(32))   # one Q8_0 block of 32 weights
f16 = struct.pack("<4e", 1, 2, 3, 4)
f32g = struct.pack("<4f", 1, 2, 3, 4)
put("gguf", "valid-v3.gguf", gguf(kvs, [("f32", [4], 0, 0), ("f16", [2, 2], 1, 32), ("q8", [32], 8, 64)],
                                  f32g + b"\0" * 16 + f16 + b"\0" * 24 + q8))
put("gguf", "valid-v2.gguf", gguf(kvs[:3], [("w", [2, 2], 0, 0)], f32g, version=2))
put("gguf", "bad-version.gguf", gguf(kvs[:1], [], b"", version=9))
put("gguf", "huge-count.gguf", b"GGUF" + struct.pack("<IQQ", 3, 1 << 62, 1 << 62))
put("gguf", "tensor-past-end.gguf", gguf([], [("w", [1024], 0, 0)], f32g))
put("gguf", "misaligned.gguf", gguf([], [("w", [1], 0, 3)], f32g))
put("gguf", "bad-type.gguf", gguf([], [("w", [4], 99, 0)], f32g))
put("gguf", "huge-dims.gguf", gguf([], [("w", [1 << 62, 4], 0, 0)], f32g))
put("gguf", "truncated.gguf", gguf(kvs, [("w", [4], 0, 0)], f32g)[:70])

# --- tokenizer_json -----------------------------------------------------------------------------------------
wordpiece = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": 0, "content": "[PAD]", "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True},
                     {"id": 1, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True},
                     {"id": 2, "content": "[CLS]", "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True},
                     {"id": 3, "content": "[SEP]", "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True}],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                   "strip_accents": None, "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                  {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                       "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                       "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                          "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100,
              "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, ",": 5, "!": 6, "w": 7,
                        "##or": 8, "##ld": 9, "a": 10, "##b": 11}},
}
put("tokenizer_json", "wordpiece.json", json.dumps(wordpiece, indent=1))
wp2 = json.loads(json.dumps(wordpiece)); wp2["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}
put("tokenizer_json", "wordpiece-bertprocessing.json", json.dumps(wp2))
wp3 = json.loads(json.dumps(wordpiece)); wp3["model"]["vocab"]["hello"] = 30522
put("tokenizer_json", "wordpiece-id-gap.json", json.dumps(wp3))
wp4 = json.loads(json.dumps(wordpiece)); wp4["model"]["vocab"] = {"[UNK]": -1}
put("tokenizer_json", "wordpiece-negative-id.json", json.dumps(wp4))
with open(os.path.join(ROOT, "Tests/AttendTokenizersTests/Resources/tiny-bpe-tokenizer.json"), "rb") as f:
    tiny_bpe = f.read()
put("tokenizer_json", "tiny-bpe.json", tiny_bpe)
bpe = json.loads(tiny_bpe)
bpe2 = json.loads(tiny_bpe); bpe2["model"]["merges"] = bpe2["model"]["merges"][:3] + [["zz", "qq"], "a"]
put("tokenizer_json", "bpe-bad-merges.json", json.dumps(bpe2))
bpe3 = json.loads(tiny_bpe); bpe3["model"]["dropout"] = 0.5; bpe3["model"]["byte_fallback"] = True
put("tokenizer_json", "bpe-options.json", json.dumps(bpe3))
put("tokenizer_json", "unknown-model.json", '{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}')
put("tokenizer_json", "empty.json", '{}')

# --- tokenize_wordpiece / tokenize_bpe ----------------------------------------------------------------------
texts = ["Hello, world!", "The quick brown fox jumps over the lazy dog.", "naïve café résumé", "日本語のテキスト",
         "emoji 😀👍🏽 and ZWJ 👨‍👩‍👧", "a\u0301 e\u0300 combining", "[CLS] [SEP] [MASK] <|im_start|>user\nhi<|im_end|>",
         "   spaces\t\ttabs\n\nnewlines  ", "x" * 300, "antidisestablishmentarianism" * 5, "\u200b\ufeff\u00ad",
         "1234567890 3.14159 -42", "https://example.com/path?q=1&r=2", "ﬁ ligature Ⅻ ＡＢＣ", ""]
for i, t in enumerate(texts):
    put("tokenize_wordpiece", f"text-{i:02d}.txt", t)
    put("tokenize_bpe", f"text-{i:02d}.txt", t)
for target in ("tokenize_wordpiece", "tokenize_bpe"):
    put(target, "invalid-utf8.bin", b"ab\xff\xfe\xc3(\xe2\x82 \xf0\x28\x8c\xbc")

# --- model_config -------------------------------------------------------------------------------------------
def model_file(folder, name):
    with open(os.path.join(folder, name), "rb") as f:
        return f.read()

res = os.path.join(ROOT, "Sources/AttendModels/Resources")
gpt = json.loads(model_file(os.path.join(res, "tiny-gpt-induction"), "config.json"))
tr = json.loads(model_file(os.path.join(res, "tiny-translator"), "config.json"))
bert = {"model_type": "bert", "hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 6,
        "num_attention_heads": 12, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2,
        "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0}
mpnet = {"model_type": "mpnet", "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
         "num_attention_heads": 12, "vocab_size": 30527, "max_position_embeddings": 514,
         "relative_attention_num_buckets": 32, "layer_norm_eps": 1e-5, "hidden_act": "gelu", "pad_token_id": 1}
st = '{"max_seq_length": 256, "do_lower_case": false}'
put("model_config", "gpt.json", json.dumps(gpt))
put("model_config", "translator.json", json.dumps(tr))
put("model_config", "bert.json", json.dumps(bert) + "\0" + st)
put("model_config", "mpnet.json", json.dumps(mpnet) + "\0" + '{"max_seq_length": 384}')
big = 9223372036854775807
for field in ("hidden_size", "intermediate_size", "max_position_embeddings", "num_hidden_layers"):
    c = dict(bert); c[field] = big
    put("model_config", f"bert-{field}-max.json", json.dumps(c))
c = dict(bert); c["hidden_size"] = 1 << 31
put("model_config", "bert-hidden-2p31.json", json.dumps(c))
put("model_config", "bert-st-min.json", json.dumps(bert) + "\0" + '{"max_seq_length": -9223372036854775808}')
g = json.loads(json.dumps(gpt)); g["training"]["induction_head"] = "99"
put("model_config", "gpt-induction-head-99.json", json.dumps(g))
g = json.loads(json.dumps(gpt)); g["training"]["induction_head"] = 99
put("model_config", "gpt-induction-head-number.json", json.dumps(g))
g = dict(gpt); g["num_layers"] = big
put("model_config", "gpt-layers-max.json", json.dumps(g))
t = dict(tr); t["d_model"] = 1 << 62
put("model_config", "translator-dmodel-2p62.json", json.dumps(t))
put("model_config", "translator-vocab-extra.json", json.dumps(tr) + "\0" + json.dumps({"fr": ["<pad>", "a"], "en": {"x": 1}}))
put("model_config", "top-level-array.json", "[]")
put("model_config", "no-model-type.json", '{"hidden_size": 4}')

# --- attention_problem --------------------------------------------------------------------------------------
for name in sorted(os.listdir(os.path.join(ROOT, "Examples"))):
    if name.endswith(".json"):
        shutil.copy(os.path.join(ROOT, "Examples", name), os.path.join(OUT, "attention_problem", name)) \
            if os.path.isdir(os.path.join(OUT, "attention_problem")) else put("attention_problem", name, model_file(os.path.join(ROOT, "Examples"), name))
put("attention_problem", "vector-query.json", '{"q": [1, 0], "k": [[1, 0], [0, 1]], "v": [[1, 2], [3, 4]]}')
put("attention_problem", "mask-matrix.json", '{"q": [[1, 0], [0, 1]], "k": [[1, 0], [0, 1]], "v": [[1], [2]], "mask": [[1, 0], [1, 1]]}')
put("attention_problem", "heads-scale.json", '{"q": [[1, 0, 1, 0]], "k": [[1, 0, 0, 1]], "v": [[1, 2, 3, 4]], "heads": 2, "scale": 0.5}')
put("attention_problem", "bad-heads.json", '{"q": [[1, 0, 1]], "k": [[1, 0, 0]], "v": [[1, 2, 3]], "heads": 2}')
put("attention_problem", "huge-heads.json", '{"q": [[1]], "k": [[1]], "v": [[1]], "heads": 9223372036854775807}')
put("attention_problem", "ragged.json", '{"q": [[1, 0], [1]], "k": [[1, 0]], "v": [[1, 0]]}')
put("attention_problem", "nan.json", '{"q": [[1e39]], "k": [[-1e39]], "v": [[1]], "scale": 1e-45}')
put("attention_problem", "causal.json", '{"q": [[1], [2]], "k": [[1], [2], [3]], "v": [[1], [2], [3]], "mask": "causal"}')
# --- server_request: the first byte picks the route (its index in server_request.swift's `routes`), the rest is
#     the body ----------------------------------------------------------------------------------------------------
ROUTES = ["/v1/embeddings", "/v1/attention", "/v1/explain", "/embed", "/embed_all", "/similarity", "/rerank",
          "/tokenize", "/decode"]
bodies = {
    "/v1/embeddings": ['{"input": "hello world"}', '{"input": ["a", "b"], "encoding_format": "base64"}',
                       '{"input": [101, 7592, 102]}', '{"input": [[7592], [2088, 999999]]}',
                       '{"input": "x", "dimensions": 8, "return_attention": true}', '{"input": "x", "dimensions": 3}',
                       '{"input": ""}', '{"input": []}', '{"input": "x", "model": "tiny-gpt"}', '{"input": "x", "extra": 1}',
                       '{"input": ["a", "b", "c", "d", "e"]}', '{"input": [1.5]}', '[]', '', '{"input": "\\ud800"}'],
    "/v1/attention": ['{"q": [[1, 0]], "k": [[1, 0], [0, 1]], "v": [[1, 2], [3, 4]]}',
                      '{"q": [[1, 0, 1, 0]], "k": [[1, 0, 0, 1]], "v": [[1, 2, 3, 4]], "heads": 2, "mask": "causal"}',
                      '{"q": [[1]], "k": [[1]], "v": [[1]], "heads": 9223372036854775807}', '{"q": 1}', '{'],
    "/v1/explain": ['{"text": "the cat sat"}', '{"text": "the cat sat", "model": "tiny-gpt", "layer": 0, "head": 1}',
                    '{"text": "le chat", "model": "tiny-translator", "token": 1}', '{"text": "a b", "layer": 99}',
                    '{"text": "a b", "head": -1}', '{"text": "a b", "token": "zzz"}', '{"text": " "}', '{"text": 3}'],
    "/embed": ['{"inputs": "hello"}', '{"inputs": ["a", "b"], "normalize": false, "truncate": true, "truncation_direction": "left"}',
               '{"inputs": "x", "return_attention": true}', '{"inputs": []}', '{"inputs": [""]}', '{"inputs": {"a": 1}}',
               '{"inputs": "' + "word " * 80 + '"}', '{"inputs": "x", "truncation_direction": "Up"}'],
    "/embed_all": ['{"inputs": "hello"}', '{"inputs": ["a b c", "d"], "return_attention": true}'],
    "/similarity": ['{"inputs": {"source_sentence": "a cat", "sentences": ["a dog", "a car"]}}',
                    '{"inputs": {"source_sentence": "a", "sentences": []}}', '{"inputs": {"sentences": ["a"]}}',
                    '{"inputs": "a"}'],
    "/rerank": ['{"query": "cat", "texts": ["dog", "cat", "car"], "return_text": true}', '{"query": "cat", "texts": []}',
                '{"texts": ["a"]}', '{"query": "q", "texts": ["a"], "raw_scores": 1}'],
    "/tokenize": ['{"inputs": "Hello, world!"}', '{"inputs": ["a", "\\u00e9\\u0301"], "add_special_tokens": false}',
                  '{"inputs": "x", "model": "nope"}'],
    "/decode": ['{"ids": [101, 7592, 102]}', '{"ids": [[101], [102, 2088]], "skip_special_tokens": false}',
                '{"ids": [-1]}', '{"ids": [30522]}', '{"ids": []}', '{"ids": [[1], 2]}', '{"ids": [1e3]}'],
}
for r, items in bodies.items():
    slug = r.strip("/").replace("/", "-")
    for i, b in enumerate(items):
        put("server_request", f"{slug}-{i:02d}", bytes([ROUTES.index(r)]) + b.encode("utf-8"))

# --- embed_lines: the first byte is the options (bit 0 JSON Lines, bits 1-2 output jsonl/npy/fbin, bit 3 skip bad,
#     bit 4 keep text, bit 5 windows of 2 lines, bit 6 shard 1/2, bit 7 by id), the rest the input file ------------
lines_text = "the first line\nthe second line\r\n\n  \nunicode: caf\u00e9 \U0001F600\nlast line without newline"
lines_jsonl = "\n".join([
    '{"id": "a", "text": "a document"}', '{"id": 7, "text": "another", "lang": "en", "n": [1, 2.5e300]}',
    '{"text": "no id"}', '{"id": null, "text": ""}', '{"id": "b"}', '{"id": "c", "text": 3}', '[1, 2]', '{"id": "d", "text": "x"',
    '{"id": "\\ud800", "text": "lone surrogate"}', '{"id": 1e400, "text": "huge id"}', '"just a string"',
])
for flags in (0x00, 0x02, 0x04, 0x10, 0x20, 0x40, 0xC1):
    put("embed_lines", f"text-{flags:02x}", bytes([flags & ~1]) + lines_text.encode("utf-8"))
for flags in (0x01, 0x03, 0x05, 0x09, 0x11, 0x21, 0x41, 0xC1):
    put("embed_lines", f"jsonl-{flags:02x}", bytes([flags]) + lines_jsonl.encode("utf-8"))
put("embed_lines", "invalid-utf8", b"\x00ok\nab\xff\xfe\nnul\x00inside\n")
put("embed_lines", "jsonl-invalid-utf8", b"\x01{\"text\": \"\xc3(\"}\n{\"text\": \"ok\"}\n")
put("embed_lines", "long-line", b"\x00" + b"word " * 700 + b"\n")
print("seeds written to", OUT)
