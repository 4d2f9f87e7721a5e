#!/usr/bin/env bash
# Attend against the systems users would pick instead, side by side in one sitting on the same inputs.
# Usage: Benchmarks/compare.sh [OUT_DIR]      (needs ../shared/baselines and the venv of its README)
# Prints a Markdown table of medians and ratios, and leaves every raw JSON line in OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BASE="$ROOT/../shared/baselines"
PY="${PY:-$HOME/.cache/attend-baselines/venv/bin/python}"
OUT="${1:-$ROOT/.build-bench}"
mkdir -p "$OUT"
export BENCH_MAX_WAIT="${BENCH_MAX_WAIT:-120}"   # the baselines wait this long for a quiet machine

[ -x "$PY" ] || { echo "baseline venv missing: see ../shared/baselines/README.md (Set up)" >&2; exit 1; }
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ -z "${ATTEND:-}" ]; then      # ATTEND=path/to/attend uses a binary you built already
    echo "== building attend (release)" >&2
    swift build -c release --product attend >&2
    ATTEND="$(swift build -c release --show-bin-path)/attend"
fi

echo "== sentences (the baselines' own make_sentences)" >&2
(cd "$BASE" && "$PY" make_sentences.py short "$OUT/short.txt" && "$PY" make_sentences.py long "$OUT/long.txt")

echo "== embeddings: attend" >&2
"$ATTEND" bench embed --short "$OUT/short.txt" --long "$OUT/long.txt" --attentions --repeats 5 --json > "$OUT/attend_embed.json"
echo "== embeddings: attend --precision bf16 (reported separately, never the default)" >&2
"$ATTEND" bench embed --precision bf16 --short "$OUT/short.txt" --long "$OUT/long.txt" --repeats 5 --json > "$OUT/attend_embed_bf16.json"
echo "== embeddings: attend --precision int8 (reported separately, never the default)" >&2
"$ATTEND" bench embed --precision int8 --short "$OUT/short.txt" --long "$OUT/long.txt" --repeats 5 --json > "$OUT/attend_embed_int8.json"
echo "== embeddings: ONNX Runtime" >&2
[ -f "$HOME/.cache/attend-baselines/onnx/minilm.onnx" ] || (cd "$BASE" && "$PY" export_onnx.py >&2) || [ -f "$HOME/.cache/attend-baselines/onnx/minilm.onnx" ]   # its self-check may need a module shared/ lacks
(cd "$BASE" && "$PY" bench_onnx.py --repeats 5) > "$OUT/onnx.json"
echo "== embeddings: ONNX Runtime's own int8 (dynamic quantization of the same export)" >&2
[ -f "$HOME/.cache/attend-baselines/onnx/int8/minilm.onnx" ] || (cd "$BASE" && "$PY" quantize_onnx.py >&2)
(cd "$BASE" && "$PY" bench_onnx.py --onnx-dir "$HOME/.cache/attend-baselines/onnx/int8" --repeats 5) > "$OUT/onnx_int8.json"
echo "== int8 quality: cosine to fp32 on both sets, top-10 retrieval overlap" >&2
"$PY" "$ROOT/Benchmarks/int8_quality.py" --attend "$ATTEND" --short "$OUT/short.txt" --long "$OUT/long.txt" > "$OUT/int8_quality.json"
echo "== embeddings: sentence-transformers" >&2
(cd "$BASE" && "$PY" bench_st.py --repeats 5 --only st) > "$OUT/st.json"

echo "== peak RSS embedding the short set" >&2
/usr/bin/time -v "$ATTEND" embed < "$OUT/short.txt" > /dev/null 2> "$OUT/attend_rss.txt"
(cd "$BASE" && "$PY" bench_rss.py --runs 1) > "$OUT/st_rss.json"

echo "== attention: attend vs torch SDPA" >&2
"$ATTEND" bench attention --repeats 5 --json > "$OUT/attend_attention.json"
(cd "$BASE" && "$PY" bench_sdpa.py --no-math) > "$OUT/sdpa.json"

echo "== GEMM: attend vs numpy/OpenBLAS (both OPENBLAS variables unset for numpy only)" >&2
"$ATTEND" bench gemm --json > "$OUT/attend_gemm.json"
(cd "$BASE" && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench_gemm_numpy.py) > "$OUT/numpy_gemm.json"

"$PY" "$ROOT/Benchmarks/summarize.py" "$OUT"
