#!/usr/bin/env bash
# Issue #11's server comparison in one sitting (not a test; run it on a quiet machine): `attend bench embed --sets
# short` (the in-process figure the server is held to), then Benchmarks/serve_load.sh against `attend serve` and
# against Infinity with the same sentences, the same levels and the same duration. Prints the load average before
# and after, so a busy machine shows in the record.
#
# usage: Benchmarks/serve_compare.sh [--attend PATH] [--duration SECONDS] [--connections "1 8 32"] [--soak SECONDS]
#   --attend      the binary (default .build/release/attend; build it with swift build -c release)
#   --duration    seconds per concurrency level (default 30)
#   --soak        also soak `attend serve` at 32 connections for this many seconds (the issue's soak is 600)
# Infinity comes from ~/.cache/attend-infinity-venv (see Benchmarks/serve_load.sh's header to make it).
set -euo pipefail
cd "$(dirname "$0")/.."
attend=.build/release/attend; duration=30; connections="1 8 32"; soak=0
while [ $# -gt 0 ]; do
    case "$1" in
        --attend) attend="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --soak) soak="$2"; shift 2 ;;
        *) echo "serve_compare.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -x "$attend" ] || { echo "serve_compare.sh: no binary at $attend (swift build -c release)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sentences="$work/short.txt"
MINILM_DIR="${MINILM_DIR:-$HOME/.cache/attend/models/all-MiniLM-L6-v2}" python3 ../shared/baselines/make_sentences.py short "$sentences" \
    || { echo "serve_compare.sh: ../shared/baselines/make_sentences.py short failed (needs the model folder)" >&2; exit 1; }
echo "== $(date -u +%FT%TZ) $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== in process: $attend bench embed --sets short"
"$attend" bench embed --sets short --short "$sentences"
soak_args=()
[ "$soak" -gt 0 ] && soak_args=(--soak "$soak")
Benchmarks/serve_load.sh --target attend --attend "$attend" --sentences "$sentences" --duration "$duration" \
    --connections "$connections" "${soak_args[@]}"
Benchmarks/serve_load.sh --target infinity --sentences "$sentences" --duration "$duration" --connections "$connections"
echo "== $(date -u +%FT%TZ) load average $(cut -d' ' -f1-3 /proc/loadavg)"
