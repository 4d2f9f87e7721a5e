#!/usr/bin/env bash
# Issue #11's server comparison in one sitting (not a test; run it on a quiet machine): `attend bench embed --sets
# short` (the in-process figure the server is held to) and the in-process CPU time per sentence, then
# Benchmarks/serve_load.sh against `attend serve` (with its CPU time per request and wrk's share of the CPU) and
# against Infinity with the same sentences, the same levels and the same duration. Prints the load average before
# and after, so a busy machine shows in the record.
#
# usage: Benchmarks/serve_compare.sh [--attend PATH] [--duration SECONDS] [--connections "1 8 32"] [--soak SECONDS]
#                                    [--no-infinity]
#   --attend      the binary (default .build/release/attend; build it with swift build -c release)
#   --duration    seconds per concurrency level (default 30)
#   --soak        also soak `attend serve` at 32 connections for this many seconds (the issue's soak is 600)
#   --no-infinity only Attend (in process and served)
# Infinity comes from ~/.cache/attend-infinity-venv (see Benchmarks/serve_load.sh's header to make it).
set -euo pipefail
cd "$(dirname "$0")/.."
attend=.build/release/attend; duration=30; connections="1 8 32"; soak=0; infinity=1
while [ $# -gt 0 ]; do
    case "$1" in
        --attend) attend="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --soak) soak="$2"; shift 2 ;;
        --no-infinity) infinity=0; shift ;;
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
# The in-process CPU time per sentence, to hold against serve_load.sh's server_us_per_request: `attend embed` of the
# short set 1× and 10× (batch 32, as bench embed), the difference divided by the 9,000 extra sentences (so loading
# the model does not count). On a busy machine this stays fair where sentences/s does not.
for _ in $(seq 10); do cat "$sentences"; done > "$work/short10.txt"
cpu_of() { /usr/bin/time -f "%U %S" -o "$work/embed.cpu" "$attend" embed --input "$1" --output "$work/out.fbin" --batch-size 32 >/dev/null && awk '{print $1 + $2}' "$work/embed.cpu"; }
one=$(cpu_of "$sentences"); ten=$(cpu_of "$work/short10.txt")
echo "== in process: CPU time per sentence $(awk -v a="$one" -v b="$ten" 'BEGIN {printf "%.0f", (b - a) / 9000 * 1e6}') us (attend embed --batch-size 32, 10,000 minus 1,000 sentences)"
soak_args=()
[ "$soak" -gt 0 ] && soak_args=(--soak "$soak")
Benchmarks/serve_load.sh --target attend --attend "$attend" --sentences "$sentences" --duration "$duration" \
    --connections "$connections" "${soak_args[@]}"
[ "$infinity" = 1 ] && Benchmarks/serve_load.sh --target infinity --sentences "$sentences" --duration "$duration" --connections "$connections"
echo "== $(date -u +%FT%TZ) load average $(cut -d' ' -f1-3 /proc/loadavg)"
