#!/usr/bin/env python3
"""Generates goldens.json for AttendTokenizersTests from Hugging Face `tokenizers`.

NOT run by the tests: the tests only read the goldens.json it wrote. To regenerate:

    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers
    /tmp/tokvenv/bin/python Tests/AttendTokenizersTests/Resources/make_goldens.py \
        ~/.cache/attend/models/all-MiniLM-L6-v2/tokenizer.json

The tokenizer is loaded from that same tokenizer.json with its built-in truncation
and padding disabled (tok.no_truncation(); tok.no_padding()). Offsets are the
Python (Unicode code point) offsets.
"""
import hashlib
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer

LONG = " ".join(
    ["The quick brown fox jumps over the lazy dog while the committee's unprecedented deliberations "
     "(concerning approximately 1,234 antidisestablishmentarianism-related amendments) continued; "
     "meanwhile, naïve onlookers in Zürich ate crème brûlée."] * 12)

SINGLES = [
    ("plain", "The cat sat on the mat"),
    ("plain_caps", "HELLO World, This Is A Test."),
    ("sentence", "The animal didn't cross the street because it was too tired"),
    ("question", "What is the capital of France?"),
    ("exclaim", "Wow!!! That's amazing..."),
    ("contractions", "I'm sure you've seen it; they're here, aren't they? We'll see. Don't!"),
    ("possessive", "John's dog and the Smiths' house"),
    ("punct_ascii", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    ("punct_unicode", "“Quoted” ‘single’ — dash – en… ellipsis «guillemets» ¿qué? ¡sí!"),
    ("numbers", "3.14159 and 2,718 and 1e10 and 42nd and 007"),
    ("date", "2023-07-14"),
    ("date_time", "On 14/07/2023 at 10:30am (UTC+2)"),
    ("currency", "$1,234.56 costs €99.99 or £5 or ¥1000"),
    ("percent", "50% off, 3/4 cup, #hashtag @mention"),
    ("url", "Visit https://www.example.com/path?query=1&x=y now"),
    ("email", "mail me at john.doe+tag@example.co.uk"),
    ("accents", "naïve café Zürich crème brûlée São"),
    ("accents_caps", "ÉCOLE Ångström Ñandú ÀÉÎÕÜ"),
    ("accents_mixed", "résumé façade jalapeño Ørsted Łódź"),
    ("cjk", "我爱北京天安门"),
    ("cjk_mixed", "Tokyo 東京 is 日本の首都 です"),
    ("japanese_kana", "こんにちは世界 カタカナ"),
    ("korean", "안녕하세요 세계"),
    ("emoji", "I love pizza 🍕🍕 and 😀 smiles 👍🏽"),
    ("heart", "❤️ I ❤ you"),
    ("emoji_zwj", "family 👨‍👩‍👧 flag 🇫🇷"),
    ("fullwidth", "ＡＢＣ ｆｕｌｌ　ｗｉｄｔｈ"),
    ("ligature", "ﬁne ﬂow oﬃce"),
    ("eszett", "Straße ß groß"),
    ("turkish", "İstanbul ISTANBUL ıi"),
    ("greek", "Καλημέρα κόσμε, ΟΔΥΣΣΕΥΣ"),
    ("cyrillic", "Привет, мир! Ёлка"),
    ("arabic", "مرحبا بالعالم"),
    ("hebrew", "שלום עולם"),
    ("hindi", "नमस्ते दुनिया"),
    ("thai", "สวัสดีชาวโลก"),
    ("mixed_scripts", "English Ελληνικά Русский العربية हिन्दी 中文"),
    ("tabs_newlines", "line one\nline two\tTabbed\r\nwindows  double  space"),
    ("whitespace_unicode", "a\u00a0b\u2003c\u3000d\u2028e\u2029f\u0085g"),
    ("control_chars", "he\u0000llo\u0007 wor\u001bld\ufffd\u200bzero\u200dwidth\u00adsoft"),
    ("vertical_tab", "a\u000bb\u000cc"),
    ("combining", "e\u0301 a\u0308 n\u0303 x\u0301y"),
    ("long_word_100", "a" * 100),
    ("long_word_101", "b" * 101),
    ("long_word_120", "supercalifragilistic" * 6),
    ("unknown_piece", "xyz😀abc"),
    ("empty", ""),
    ("spaces_only", "   \t\n "),
    ("single_char", "a"),
    ("single_punct", "."),
    ("subwords", "unaffable tokenization preprocessing uncharacteristically"),
    ("code", "def f(x): return x**2 + 1  # comment"),
    ("markup", "<b>bold</b> & <i>italic</i>"),
    ("brackets_special", "the [MASK] sat on the [CLS] mat [SEP] [mask] [UNK]"),
    ("special_adjacent", "a[MASK]b[PAD]"),
    ("repeated_punct", "?!?!... --- ___ ***"),
    ("hyphenated", "state-of-the-art well-known e-mail"),
    ("math", "∑ x² ≤ ∞ ± √2 → λ"),
    ("superscript", "x² H₂O ½ ①"),
    ("unassigned_and_private", "a\u0378b \ue000c"),
    ("cjk_ext", "a\U00020000b a\U0002B820b a\U0002B920b 豈"),
    # Characters newer than tokenizers' frozen Unicode tables (format, punctuation, marks, NFD).
    ("unicode_version_edges", "a\u0890b a\u2E52b x\u1B4Ey a\u166Db \U00011938 q\u0897r s\u061Dt"),
    ("long_text", LONG),
]

PAIRS = [
    ("pair_simple", "How old are you?", "I am 6 years old"),
    ("pair_accents", "Où est la gare?", "La gare est à côté de l'église."),
    ("pair_empty_second", "Only the first", ""),
    ("pair_empty_both", "", ""),
    ("pair_long", "A question about things", LONG[:600]),
]

TRUNCATION = [
    ("trunc_long_256", LONG, None, 256),
    ("trunc_long_128", LONG, None, 128),
    ("trunc_short_noop", "short text", None, 16),
    ("trunc_exact", "one two three four", None, 6),
    ("trunc_to_3", "one two three four", None, 3),
    ("trunc_pair_first_longer", "a b c d e f g h", "x y z", 6),
    ("trunc_pair_second_longer", "a b c", "x y z w v", 6),
    ("trunc_pair_equal", "a b c", "x y z", 6),
    ("trunc_pair_shorter_fits", "a b", "q r s t u v w x y z", 9),
    ("trunc_pair_both_long", "a b c d e f g h i j", "q r s t u v w x y z", 11),
]

# Other pipelines built from the same vocabulary, for the stages MiniLM does not use.
VARIANTS = [
    ("nfd_lower_strip_whitespace",
     {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Lowercase"}, {"type": "StripAccents"}]},
     {"type": "Whitespace"}),
    ("lowercase_whitespacesplit", {"type": "Lowercase"}, {"type": "WhitespaceSplit"}),
    ("bert_keep_case_keep_accents",
     {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": False, "strip_accents": False, "lowercase": False},
     {"type": "BertPreTokenizer"}),
    ("bert_lowercase_keep_accents",
     {"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": True, "strip_accents": False, "lowercase": True},
     {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "BertPreTokenizer"}]}),
    ("no_normalizer_bert", None, {"type": "BertPreTokenizer"}),
]
VARIANT_TEXTS = [
    "Héllo, wörld! it's 3.14 — ok?? a_b",
    "naïve café Zürich crème brûlée São",
    "x\u0903y İ Ǆ ÀÉÎÕÜ",
    "don't--stop ...ok",
    "我爱北京 東京",
    "a\u0000b\u200bc\td\u00a0e",
    "The Quick BROWN fox",
    "a\u1ACFb c\u0890d e\u2E52f \U00011938 x\u0903y",
]


def encoding_dict(tok, e):
    return {
        "ids": e.ids,
        "tokens": e.tokens,
        "type_ids": e.type_ids,
        "offsets": [list(o) for o in e.offsets],
        "word_ids": e.word_ids,
        "special_tokens_mask": e.special_tokens_mask,
        "decoded": tok.decode(e.ids),
        "decoded_with_special": tok.decode(e.ids, skip_special_tokens=False),
    }


def main():
    path = os.path.expanduser(sys.argv[1] if len(sys.argv) > 1 else "~/.cache/attend/models/all-MiniLM-L6-v2/tokenizer.json")
    raw = open(path, "rb").read()
    config = json.loads(raw)
    tok = Tokenizer.from_str(raw.decode("utf-8"))
    tok.no_truncation()
    tok.no_padding()

    out = {
        "meta": {
            "tokenizers_version": tokenizers.__version__,
            "tokenizer_json_sha256": hashlib.sha256(raw).hexdigest(),
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "offsets": "Unicode code points of the input (Python str indices)",
            "generator": "make_goldens.py (not run by the tests)",
        },
        "cases": [],
        "truncation": [],
        "no_special_tokens": [],
        "variants": [],
        "decode_only": [],
    }
    for name, text in SINGLES:
        out["cases"].append({"name": name, "text": text, **encoding_dict(tok, tok.encode(text))})
    for name, a, b in PAIRS:
        out["cases"].append({"name": name, "text": a, "pair": b, **encoding_dict(tok, tok.encode(a, b))})
    for name, a, b, n in TRUNCATION:
        tok.enable_truncation(n)
        e = tok.encode(a, b) if b is not None else tok.encode(a)
        out["truncation"].append({"name": name, "text": a, "pair": b, "max_length": n,
                                  "ids": e.ids, "tokens": e.tokens, "type_ids": e.type_ids})
    tok.no_truncation()
    for name, a, b in [("ns_single", "Hello, World!", None), ("ns_pair", "a b", "c d")]:
        e = tok.encode(a, b, add_special_tokens=False) if b is not None else tok.encode(a, add_special_tokens=False)
        out["no_special_tokens"].append({"name": name, "text": a, "pair": b, **encoding_dict(tok, e)})
    for ids in [[101, 2009, 1005, 1055, 1037, 3231, 1012, 2079, 2025, 2175, 999, 102],
                [2009, 1005, 1049, 2025, 1029, 1010, 5, 99999, 100, 103, 0],
                [7592, 1010, 2088, 999, 2079, 1050, 1005, 1056, 3280, 1005, 2310],
                []]:
        out["decode_only"].append({"ids": ids, "decoded": tok.decode(ids),
                                   "decoded_with_special": tok.decode(ids, skip_special_tokens=False)})
    for name, normalizer, pre_tokenizer in VARIANTS:
        variant = json.loads(raw)
        variant["normalizer"] = normalizer
        variant["pre_tokenizer"] = pre_tokenizer
        variant["truncation"] = None
        variant["padding"] = None
        vt = Tokenizer.from_str(json.dumps(variant))
        cases = [{"text": t, **encoding_dict(vt, vt.encode(t))} for t in VARIANT_TEXTS]
        out["variants"].append({"name": name, "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "cases": cases})

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", len(out["cases"]), "cases,", len(out["truncation"]), "truncation cases,",
          len(out["variants"]), "variants")


if __name__ == "__main__":
    main()
