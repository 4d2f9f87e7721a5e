#!/usr/bin/env bash
# Load benchmark of `attend serve` (not a test; run it on a quiet machine): starts the server on a free loopback port
# with all-MiniLM-L6-v2, then wrk (Debian's) with serve_load.lua sends one sentence per request to /v1/embeddings
# over keep-alive connections, for each concurrency level; prints throughput, p50/p90/p99 latency, every error kind
# and the server's RSS (VmRSS, sampled every second) per level, then stops the server.
#
# usage: Benchmarks/serve_load.sh [--attend PATH] [--sentences FILE] [--duration SECONDS] [--connections "1 8 32"]
#                                 [--soak SECONDS]
#   --attend      the binary (default .build/release/attend; build it with swift build -c release)
#   --sentences   one sentence per line (default: the short set, 1,000 × 12 tokens, made with
#                 ../shared/baselines/make_sentences.py short; falls back to generated sentences)
#   --duration    seconds per concurrency level (default 30)
#   --soak        after the levels, run 32 connections for this many seconds and report RSS first/last/max (the
#                 issue's 10-minute soak is --soak 600)
# Compare the 32-connection requests_per_second with `attend bench embed --sets short` (in-process sentences/s).
set -euo pipefail
cd "$(dirname "$0")/.."
attend=.build/release/attend; sentences=""; duration=30; connections="1 8 32"; soak=0
while [ $# -gt 0 ]; do
    case "$1" in
        --attend) attend="$2"; shift 2 ;;
        --sentences) sentences="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --soak) soak="$2"; shift 2 ;;
        *) echo "serve_load.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "serve_load.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
[ -x "$attend" ] || { echo "serve_load.sh: no binary at $attend (swift build -c release)" >&2; exit 1; }
work="$(mktemp -d)"
if [ -z "$sentences" ]; then
    sentences="$work/short.txt"
    if ! python3 ../shared/baselines/make_sentences.py short "$sentences" 2>/dev/null; then
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
"$attend" serve --port 0 --model all-MiniLM-L6-v2 2>"$work/serve.log" &
pid=$!
sampler=""
cleanup() { [ -n "$sampler" ] && kill "$sampler" 2>/dev/null; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=""
for _ in $(seq 1 300); do
    port="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 | sed 's/.*://' || true)"
    [ -n "$port" ] && break
    sleep 0.2
done
[ -n "$port" ] || { cat "$work/serve.log" >&2; echo "serve_load.sh: the server did not start" >&2; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
( while kill -0 "$pid" 2>/dev/null; do echo "$(date +%s) $(rss)" >> "$work/rss.txt"; sleep 1; done ) &
sampler=$!
url="http://127.0.0.1:$port"
echo "== attend serve (pid $pid) on $url; $(wc -l < "$sentences") sentences; ${duration}s per level; RSS at start $(rss) kB"
# Warm-up (not reported).
wrk -t1 -c1 -d3s -s Benchmarks/serve_load.lua "$url" -- "$sentences" >/dev/null
run_level() {   # connections seconds label
    local c="$1" s="$2" label="$3" threads=$(( $1 < 2 ? 1 : 2 )) before after
    before=$(wc -l < "$work/rss.txt")
    local out; out="$(wrk -t"$threads" -c"$c" -d"${s}s" --timeout 30s --latency -s Benchmarks/serve_load.lua "$url" -- "$sentences")"
    after=$(wc -l < "$work/rss.txt")
    local r; r="$(sed -n "$((before + 1)),${after}p" "$work/rss.txt" | awk 'NR==1 {f=$2} {l=$2; if ($2>m) m=$2} END {printf "{\"rss_first_kb\": %d, \"rss_last_kb\": %d, \"rss_max_kb\": %d}", f, l, m}')"
    echo "$label connections=$c $(echo "$out" | sed -n 's/^RESULT //p') rss=$r"
}
for c in $connections; do run_level "$c" "$duration" "level"; done
[ "$soak" -gt 0 ] && run_level 32 "$soak" "soak"
echo "== server log tail:"; tail -3 "$work/serve.log" | cut -c1-200
