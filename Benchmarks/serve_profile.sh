#!/usr/bin/env bash
# Where `attend serve`'s CPU goes under load (not a test): starts the server with all-MiniLM-L6-v2 on a free loopback
# port, loads it with wrk (serve_load.lua: one sentence per request, 32 keep-alive connections), records its call
# stacks with perf for SECONDS, and prints the share of samples per part of the request path: the model's
# arithmetic, the rest of the forward pass, HTTP (Hummingbird/NIO), JSON request parsing and response writing,
# tokenization, logging, metrics, the batcher, the Swift concurrency runtime, dispatch, and the kernel. A sample
# counts for the first category (in the order below) that any frame of its stack matches.
#
# usage: Benchmarks/serve_profile.sh [--attend PATH] [--seconds 12] [--connections 32] [--sentences FILE] [--keep FILE]
#   --attend      the binary (default .build/release/attend; swift build -c release)
#   --keep        keep perf's data file there (for perf report -i FILE)
# Needs perf (Debian: apt-get install linux-perf) and wrk; run as root or with kernel.perf_event_paranoid <= 1.
set -euo pipefail
cd "$(dirname "$0")/.."
attend=.build/release/attend; seconds=12; connections=32; sentences=""; keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --attend) attend="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --sentences) sentences="$2"; shift 2 ;;
        --keep) keep="$2"; shift 2 ;;
        *) echo "serve_profile.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v perf >/dev/null || { echo "serve_profile.sh: needs perf (apt-get install linux-perf)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "serve_profile.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
[ -x "$attend" ] || { echo "serve_profile.sh: no binary at $attend (swift build -c release)" >&2; exit 1; }
work="$(mktemp -d)"
if [ -z "$sentences" ]; then
    sentences="$work/short.txt"
    MINILM_DIR="${MINILM_DIR:-$HOME/.cache/attend/models/all-MiniLM-L6-v2}" python3 ../shared/baselines/make_sentences.py short "$sentences" \
        || { echo "serve_profile.sh: ../shared/baselines/make_sentences.py short failed (needs the model folder)" >&2; exit 1; }
fi
"$attend" serve --port 0 --model all-MiniLM-L6-v2 2>"$work/serve.log" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=""
for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    port="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 | sed 's/.*://' || true)"
    [ -n "$port" ] && break
    sleep 0.2
done
[ -n "$port" ] || { tail -20 "$work/serve.log" >&2; echo "serve_profile.sh: the server did not start" >&2; exit 1; }
url="http://127.0.0.1:$port"
wrk -t1 -c1 -d3s -s Benchmarks/serve_load.lua "$url" -- "$sentences" >/dev/null   # warm-up
threads=$(( connections < 2 ? 1 : 2 ))
wrk -t"$threads" -c"$connections" -d"$((seconds + 3))s" --timeout 30s -s Benchmarks/serve_load.lua "$url" -- "$sentences" > "$work/wrk.out" &
wrk_pid=$!
sleep 1
data="${keep:-$work/perf.data}"
echo "== perf record -F 999 -g --call-graph fp -p $pid for ${seconds}s under wrk -c$connections; load average $(cut -d' ' -f1-3 /proc/loadavg)"
perf record -F 999 -g --call-graph fp -p "$pid" -o "$data" -- sleep "$seconds" >/dev/null 2>&1
wait "$wrk_pid"
echo "== wrk: $(sed -n 's/^RESULT //p' "$work/wrk.out")"
perf script -i "$data" -F ip,sym 2>/dev/null | python3 -c '
import collections, re, sys
rules = [
    ("model: kernels (GEMM, attention, softmax, norms, thread pool)",
     ["sgemm_", "softmax_", "bias_act", "add_layernorm", "attend_attention", "pack_kt", "pv_avx", "scores_avx",
      "worker_main", "attend_parallel_run", "attend_fetch_add"]),
    ("model: rest of the forward pass (tensors, pooling)", ["EmbeddingBatcher7forward", "AttendTensor", "AttendNN", "AttendModels"]),
    ("JSON response writing", ["ResponseJSON", "JSONBytes", "base64Floats"]),
    ("JSON request parsing", ["JSONBody", "RequestJSON", "JSONDecoder"]),
    ("tokenization", ["AttendTokenizers"]),
    ("logging", ["Logging", "LogHandler"]),
    ("metrics", ["ServerMetrics", "Prometheus", "CoreMetrics"]),
    ("batcher (queue, batch assembly)", ["EmbeddingBatcher"]),
    ("route handler (the rest)", ["AttendServer"]),
    ("HTTP (Hummingbird, NIO)", ["Hummingbird", "NIO"]),
    ("Swift concurrency runtime", ["swift_task", "swift_job", "swift::", "_Concurrency", "swift_continuation"]),
    ("dispatch", ["_dispatch", "dispatch_"]),
]
text = re.sub(r"\n[ \t]*\n", "\n\n", sys.stdin.read())
counts, total = collections.Counter(), 0
for block in text.split("\n\n"):
    frames = [l.strip() for l in block.strip().split("\n") if l.strip()]
    if not frames: continue
    total += 1
    stack = " ".join(frames)
    name = next((n for n, keys in rules if any(k in stack for k in keys)), None)
    if name is None:
        name = "kernel (scheduling, syscalls) and other" 
    counts[name] += 1
print(f"{total} samples")
for name, n in counts.most_common():
    print(f"{100 * n / total:6.2f}%  {name}")
'
