"""The official `openai` Python package as a real client of `attend serve`.

Usage: python openai_client.py BASE_URL API_KEY EXPECTED.jsonl
       python openai_client.py BASE_URL API_KEY --chat EXPECTED_CHAT.json
EXPECTED.jsonl is `attend embed --json` output for the same texts (one object per line with "text" and "embedding").
Checks, and prints one JSON line with what it measured; exits 1 on any mismatch:
  - embeddings.create with a list of strings, with encoding_format "float" and with the client's default (base64),
    and with a single string, equal attend embed's to 1e-6;
  - usage.prompt_tokens equals the token count attend embed reports;
  - models.list() lists the served model;
  - an unknown model raises NotFoundError, a wrong key AuthenticationError, with the server's message.
With --chat, EXPECTED_CHAT.json is `attend chat --model smollm2-135m --temperature 0 --max-tokens N --json MESSAGE`
output plus "message" and "max_tokens"; checks that chat.completions.create with that message, temperature 0 and
max_tokens N answers the same text, streamed (the chunks' contents concatenated) and not, with usage counts equal to
the CLI's input_ids and output_ids, and that a bad role raises BadRequestError.
"""
import json
import sys

import openai


def chat(base_url, api_key, expected_path):
    expected = json.load(open(expected_path, encoding="utf-8"))
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=900)
    problems = []
    messages = [{"role": "user", "content": expected["message"]}]
    kwargs = {"model": "smollm2-135m", "messages": messages, "temperature": 0, "max_tokens": expected["max_tokens"]}
    r = client.chat.completions.create(**kwargs)
    text = r.choices[0].message.content
    if text != expected["text"]:
        problems.append(f"chat: {text!r} != attend chat's {expected['text']!r}")
    if r.choices[0].finish_reason != expected["finish_reason"]:
        problems.append(f"finish_reason {r.choices[0].finish_reason} != {expected['finish_reason']}")
    if r.usage.prompt_tokens != len(expected["input_ids"]) or r.usage.completion_tokens != len(expected["output_ids"]):
        problems.append(f"usage {r.usage} != {len(expected['input_ids'])} + {len(expected['output_ids'])} tokens")
    pieces, finish, usage = [], None, None
    for chunk in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs):
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.content:
                pieces.append(c.delta.content)
            if c.finish_reason:
                finish = c.finish_reason
    if "".join(pieces) != expected["text"]:
        problems.append(f"streamed: {''.join(pieces)!r} != {expected['text']!r}")
    if finish != expected["finish_reason"]:
        problems.append(f"streamed finish_reason {finish}")
    if usage is None or usage.completion_tokens != len(expected["output_ids"]):
        problems.append(f"streamed usage {usage}")
    try:
        client.chat.completions.create(model="smollm2-135m", messages=[{"role": "robot", "content": "hi"}], max_tokens=1)
        problems.append("bad role: no error")
    except openai.BadRequestError as e:
        if "role" not in str(e):
            problems.append(f"bad role: message {e}")
    print(json.dumps({"openai": openai.__version__, "text": text, "chunks": len(pieces), "problems": problems}))
    sys.exit(1 if problems else 0)


if len(sys.argv) > 3 and sys.argv[3] == "--chat":
    chat(sys.argv[1], sys.argv[2], sys.argv[4])

base_url, api_key, expected_path = sys.argv[1], sys.argv[2], sys.argv[3]
expected = [json.loads(line) for line in open(expected_path, encoding="utf-8") if line.strip()]
texts = [e["text"] for e in expected]
# A generous timeout: the server shares the machine with the whole test suite (a debug build), not a load test.
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=900)
problems = []
worst = 0.0


def compare(label, got, want):
    global worst
    if len(got) != len(want):
        problems.append(f"{label}: {len(got)} numbers, expected {len(want)}")
        return
    diff = max(abs(a - b) for a, b in zip(got, want))
    worst = max(worst, diff)
    if diff > 1e-6:
        problems.append(f"{label}: max |diff| {diff:.3g} > 1e-6")


for fmt in ["float", None]:
    kwargs = {"encoding_format": fmt} if fmt else {}
    r = client.embeddings.create(model="all-MiniLM-L6-v2", input=texts, **kwargs)
    if [d.index for d in r.data] != list(range(len(texts))):
        problems.append(f"{fmt}: indices {[d.index for d in r.data]}")
    for d, e in zip(r.data, expected):
        compare(f"{fmt or 'default'} [{d.index}]", d.embedding, e["embedding"])
    tokens = sum(len(e["ids"]) for e in expected)
    if r.usage.prompt_tokens != tokens or r.usage.total_tokens != tokens:
        problems.append(f"usage {r.usage} != {tokens} tokens")

one = client.embeddings.create(model="all-MiniLM-L6-v2", input=texts[0])
compare("single string", one.data[0].embedding, expected[0]["embedding"])

ids = [m.id for m in client.models.list()]
if "all-MiniLM-L6-v2" not in ids:
    problems.append(f"models.list() = {ids}")

try:
    client.embeddings.create(model="no-such-model", input="a")
    problems.append("unknown model: no error")
except openai.NotFoundError as e:
    if "no-such-model" not in str(e):
        problems.append(f"unknown model: message {e}")

try:
    openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=0).embeddings.create(model="all-MiniLM-L6-v2", input="a")
    problems.append("wrong key: no error")
except openai.AuthenticationError:
    pass

try:
    client.embeddings.create(model="all-MiniLM-L6-v2", input="a", dimensions=64)
    problems.append("dimensions 64: no error")
except openai.BadRequestError:
    pass

print(json.dumps({"openai": openai.__version__, "texts": len(texts), "max_abs_diff": worst, "problems": problems}))
sys.exit(1 if problems else 0)
