#!/usr/bin/env bash
# Load benchmark of `attend serve` (not a test; run it on a quiet machine): starts the server on a free loopback port
# with all-MiniLM-L6-v2, then wrk (Debian's) with serve_load.lua sends one sentence per request to /v1/embeddings
# over keep-alive connections, for each concurrency level; prints throughput, p50/p90/p99 latency, every error kind
# and the server's RSS (the whole process tree's, sampled every second) per level, then stops the server. Each level
# also reports the CPU time of the server (process tree) and of wrk, which shares the machine's cores with the
# server: the client's share of the two, and the server's CPU time per request.
# With --target infinity the same load goes to Infinity (infinity-emb, Python) serving the same model folder on the
# CPU, at its OpenAI-shaped route /embeddings; its RSS is the sum over its process tree, sampled the same way.
#
# usage: Benchmarks/serve_load.sh [--target attend|infinity] [--attend PATH] [--infinity PATH] [--sentences FILE]
#                                 [--duration SECONDS] [--connections "1 8 32"] [--soak SECONDS]
#   --target      which server to start and load (default attend)
#   --attend      the binary (default .build/release/attend; build it with swift build -c release)
#   --infinity    Infinity's command (default ~/.cache/attend-infinity-venv/bin/infinity_emb; make that venv with
#                 python3 -m venv ~/.cache/attend-infinity-venv && ~/.cache/attend-infinity-venv/bin/pip install
#                 /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl 'infinity-emb[server,torch]')
#   --model-dir   the model folder Infinity loads (default ~/.cache/attend/models/all-MiniLM-L6-v2)
#   --port        Infinity's port (default 7997; Attend takes a free one)
#   --sentences   one sentence per line (default: the short set, 1,000 × 12 tokens, made with
#                 ../shared/baselines/make_sentences.py short; falls back to generated sentences)
#   --duration    seconds per concurrency level (default 30)
#   --soak        after the levels, run 32 connections for this many seconds and report RSS first/last/max (the
#                 issue's 10-minute soak is --soak 600)
# Compare the 32-connection requests_per_second with `attend bench embed --sets short` (in-process sentences/s).
set -euo pipefail
cd "$(dirname "$0")/.."
target=attend; attend=.build/release/attend; infinity="$HOME/.cache/attend-infinity-venv/bin/infinity_emb"
model_dir="$HOME/.cache/attend/models/all-MiniLM-L6-v2"; infinity_port=7997
sentences=""; duration=30; connections="1 8 32"; soak=0
while [ $# -gt 0 ]; do
    case "$1" in
        --target) target="$2"; shift 2 ;;
        --attend) attend="$2"; shift 2 ;;
        --infinity) infinity="$2"; shift 2 ;;
        --model-dir) model_dir="$2"; shift 2 ;;
        --port) infinity_port="$2"; shift 2 ;;
        --sentences) sentences="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --soak) soak="$2"; shift 2 ;;
        *) echo "serve_load.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "serve_load.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
case "$target" in
    attend) [ -x "$attend" ] || { echo "serve_load.sh: no binary at $attend (swift build -c release)" >&2; exit 1; } ;;
    infinity)
        [ -x "$infinity" ] || { echo "serve_load.sh: no Infinity at $infinity (see --infinity in this script's header)" >&2; exit 1; }
        [ -f "$model_dir/config.json" ] || { echo "serve_load.sh: no model folder at $model_dir (attend models install all-MiniLM-L6-v2)" >&2; exit 1; }
        if curl -s -o /dev/null -m 2 "http://127.0.0.1:$infinity_port/"; then
            echo "serve_load.sh: something already answers on port $infinity_port (--port)" >&2; exit 1
        fi ;;
    *) echo "serve_load.sh: --target is attend or infinity, not $target" >&2; exit 2 ;;
esac
work="$(mktemp -d)"
if [ -z "$sentences" ]; then
    sentences="$work/short.txt"
    if ! MINILM_DIR="${MINILM_DIR:-$HOME/.cache/attend/models/all-MiniLM-L6-v2}" python3 ../shared/baselines/make_sentences.py short "$sentences" 2>/dev/null; then
        # Fallback: 1,000 plain sentences of about 12 tokens.
        python3 - "$sentences" <<'PY'
import random, sys
random.seed(1)
words = "the a cat dog bird car house tree river city sat ran saw found liked near over under quickly slowly red green big small old new".split()
with open(sys.argv[1], "w") as f:
    for _ in range(1000):
        f.write(" ".join(random.choice(words) for _ in range(10)).capitalize() + ".\n")
PY
    fi
fi
if [ "$target" = attend ]; then
    "$attend" serve --port 0 --model all-MiniLM-L6-v2 2>"$work/serve.log" &
    route=/v1/embeddings
else
    # Offline (the folder is local), no telemetry, no result cache (it would answer repeated sentences from disk).
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DO_NOT_TRACK=1 INFINITY_ANONYMOUS_USAGE_STATS=0 \
        "$infinity" v2 --model-id "$model_dir" --engine torch --device cpu --no-vector-disk-cache \
        --host 127.0.0.1 --port "$infinity_port" >"$work/serve.log" 2>&1 &
    route=/embeddings
fi
pid=$!
sampler=""
cleanup() { [ -n "$sampler" ] && kill "$sampler" 2>/dev/null; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=""
for _ in $(seq 1 1500); do     # up to 5 minutes: Infinity warms its model up before it listens
    kill -0 "$pid" 2>/dev/null || break
    if [ "$target" = attend ]; then
        port="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 | sed 's/.*://' || true)"
    elif curl -s -o /dev/null -m 2 "http://127.0.0.1:$infinity_port/health"; then
        port="$infinity_port"
    fi
    [ -n "$port" ] && break
    sleep 0.2
done
[ -n "$port" ] || { tail -40 "$work/serve.log" >&2; echo "serve_load.sh: the $target server did not start" >&2; exit 1; }
# RSS of the server and every process under it (Infinity may start helpers), in kB.
rss() {
    ps -e -o pid=,ppid=,rss= | awk -v root="$pid" '
        { parent[$1] = $2; size[$1] = $3 }
        END { for (p in parent) { q = p; while (q != "" && q != root && q in parent && q != parent[q]) q = parent[q]; if (q == root) sum += size[p] } print sum + 0 }'
}
# CPU time (user + system, clock ticks) of the server and every process under it.
cpu_ticks() {
    local sum=0 p
    for p in $(ps -e -o pid=,ppid= | awk -v root="$pid" '
        { parent[$1] = $2 }
        END { for (p in parent) { q = p; while (q != "" && q != root && q in parent && q != parent[q]) q = parent[q]; if (q == root) print p } }'); do
        [ -r "/proc/$p/stat" ] && sum=$(( sum + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}') ))
    done
    echo "$sum"
}
hz=$(getconf CLK_TCK)
( while kill -0 "$pid" 2>/dev/null; do echo "$(date +%s) $(rss)" >> "$work/rss.txt"; sleep 1; done ) &
sampler=$!
url="http://127.0.0.1:$port"
echo "== $target (pid $pid) on $url$route; $(wc -l < "$sentences") sentences; ${duration}s per level; RSS at start $(rss) kB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm-up (not reported).
wrk -t1 -c1 -d3s -s Benchmarks/serve_load.lua "$url" -- "$sentences" "$route" >/dev/null
run_level() {   # connections seconds label
    local c="$1" s="$2" label="$3" threads=$(( $1 < 2 ? 1 : 2 )) before after
    before=$(wc -l < "$work/rss.txt")
    local cpu0; cpu0=$(cpu_ticks)
    local out; out="$(/usr/bin/time -f "WRKCPU %U %S" -o "$work/wrk.cpu" wrk -t"$threads" -c"$c" -d"${s}s" --timeout 30s --latency -s Benchmarks/serve_load.lua "$url" -- "$sentences" "$route")"
    local cpu1; cpu1=$(cpu_ticks)
    after=$(wc -l < "$work/rss.txt")
    # CPU seconds of the server (its process tree) and of wrk over the level; the client's share of the two, and the
    # server's CPU time per request (comparable with the in-process CPU time per sentence when the client is busy).
    local requests; requests=$(echo "$out" | sed -n 's/^RESULT //p' | sed 's/.*"requests": \([0-9]*\).*/\1/')
    local cpu; cpu="$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$hz" -v n="$requests" '/^WRKCPU/ { w = $2 + $3 }
        END { sv = (b - a) / hz; printf "{\"server_s\": %.2f, \"client_s\": %.2f, \"client_share\": %.3f, \"server_us_per_request\": %.0f}", sv, w, w / (sv + w), sv / n * 1e6 }' "$work/wrk.cpu")"
    local r; r="$(sed -n "$((before + 1)),${after}p" "$work/rss.txt" | awk 'NR==1 {f=$2} {l=$2; if ($2>m) m=$2} END {printf "{\"rss_first_kb\": %d, \"rss_last_kb\": %d, \"rss_max_kb\": %d}", f, l, m}')"
    echo "$label target=$target connections=$c $(echo "$out" | sed -n 's/^RESULT //p') rss=$r cpu=$cpu"
}
for c in $connections; do run_level "$c" "$duration" "level"; done
[ "$soak" -gt 0 ] && run_level 32 "$soak" "soak"
echo "== load average $(cut -d' ' -f1-3 /proc/loadavg); server log tail:"; tail -3 "$work/serve.log" | cut -c1-200
