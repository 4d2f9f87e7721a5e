#!/usr/bin/env bash
# Runs the Spark example end to end in local mode and checks it:
#   1. a synthetic corpus of $DOCS short documents (default 20000),
#   2. the PySpark job (embed_corpus.py) pipes $PARTITIONS partitions through `attend embed`,
#   3. one `attend embed` run over the whole corpus (.npy + ids), and an index built from it without re-embedding,
#   4. check.py: the shards equal the single run, and FAISS's exact top-k equals `attend search --index`.
# Needs: Java 17, python3; installs pyspark, faiss-cpu and numpy into $VENV. ATTEND is the attend binary (a release
# build: a debug build embeds ~15 documents/s per core, a release one ~450).
set -euo pipefail
cd "$(dirname "$0")"
ATTEND="${ATTEND:-../../.build/release/attend}"
ATTEND="$(cd "$(dirname "$ATTEND")" && pwd)/$(basename "$ATTEND")"
DOCS="${DOCS:-20000}"
PARTITIONS="${PARTITIONS:-4}"
WINDOW="${WINDOW:-1024}"
VENV="${VENV:-$HOME/.cache/attend-spark/venv}"
WORK="${WORK:-$(mktemp -d)}"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import pyspark, faiss, numpy" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet pyspark faiss-cpu numpy
fi
PY="$VENV/bin/python"
export PYSPARK_PYTHON="$PY"
java -version 2>&1 | head -1

"$PY" - "$DOCS" "$WORK/docs.jsonl" <<'PYEOF'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(14)
subjects = "the cat|a dog|the old man|a child|the red car|a small bird|the river|my neighbour|the train|a storm".split("|")
verbs = "runs|sleeps|sings|waits|shines|falls|moves|stops|grows|turns".split("|")
places = "in the park|under the bridge|near the station|at the market|on the hill|by the sea|in the city|at night|in the morning|through the forest".split("|")
with open(path, "w") as f:
    for i in range(n):
        text = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(places)}"
        if rng.random() < 0.3:
            text += f" and {rng.choice(subjects)} {rng.choice(verbs)}"
        f.write(json.dumps({"id": f"doc-{i}", "text": text, "shard_hint": i % 7}) + "\n")
PYEOF
echo "== $DOCS documents in $WORK/docs.jsonl"

start=$(date +%s)
"$PY" embed_corpus.py --input "$WORK/docs.jsonl" --output "$WORK/shards" --attend "$ATTEND" \
    --partitions "$PARTITIONS" --window "$WINDOW"
echo "== spark job: $(( $(date +%s) - start )) s"

start=$(date +%s)
"$ATTEND" embed --input "$WORK/docs.jsonl" --output "$WORK/single.npy" --window "$WINDOW" --keep-text
echo "== single attend embed run: $(( $(date +%s) - start )) s"
"$ATTEND" index build --embeddings "$WORK/single.npy" --out "$WORK/corpus.attendindex"

"$PY" check.py --shards "$WORK/shards" --single "$WORK/single.npy" --index "$WORK/corpus.attendindex" --attend "$ATTEND"
