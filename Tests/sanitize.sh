#!/usr/bin/env bash
# The unit tests that exercise kernels, threads, models and the server, under AddressSanitizer or ThreadSanitizer
# (issue #17, docs/RELIABILITY.md). Any sanitizer report fails the run.
#
#   Tests/sanitize.sh address [--build-only | --run-only]    build into .build-asan and run the ASan subset
#   Tests/sanitize.sh thread  [--build-only | --run-only]    build into .build-tsan and run the TSan subset
#
# Each sanitizer has its own build folder (every dependency is rebuilt with the instrumentation; the normal .build
# is untouched). The subsets are named below; SANITIZE_FILTER replaces the subset (a `swift test --filter` regex).
# Reports: ASan stops at the first error (halt_on_error=1, its default) and exits 1; TSan is told to stop at the
# first report as well (halt_on_error=1, exitcode=66), and the log is also searched for any sanitizer report, so a
# report can never pass unnoticed. Suppressions of genuine false positives live in Tests/sanitizers/*.supp, each with
# the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

kind="${1:-}"
mode="${2:-all}"
case "$kind" in
    address) build="$root/.build-asan" ;;
    thread) build="$root/.build-tsan" ;;
    *) echo "usage: Tests/sanitize.sh address|thread [--build-only|--run-only]" >&2; exit 2 ;;
esac

# The subsets: suites (struct names; `swift test --filter` matches Module.Suite/test).
#  - kernels: every GEMM, bf16, int8, quantized, row-op and fused-attention kernel against its reference twin, each
#    ISA this CPU has forced in turn, single- and multi-threaded through the C thread pool;
#  - attention and threads: scaled dot-product and multi-head attention, the causal key offset, concurrent use of
#    one model from many threads;
#  - models: BERT (all-MiniLM-L6-v2) parity with PyTorch, the Llama pieces, the demo models, loaders;
#  - readers: safetensors, GGUF, JSON, tokenizers (the parsers the fuzzers also drive);
#  - the server: batching, limits and lifecycle (concurrent clients, cancellation, the queue) and the routes.
# ThreadSanitizer slows code ~5-15x, so its subset is the code that runs threads: the kernels' thread pool, the
# concurrency suites, the models' multi-threaded forward passes and the server.
asan_filter='AttendTensorTests\.(GEMMTests|BF16GEMMTests|QuantGEMMTests|QuantInt8Tests|QuantInt16Tests|Int8GEMMTests|PackedLinearTests|RowOpsTests|TensorOpsTests|FusedOpsTests|HeadViewTests|SafetensorsRoundTripTests|SafetensorsCorruptionTests|SafetensorsDTypeTests|GGUFReadTests|GGUFCorruptionTests|JSONReadingTests|JSONWritingTests)|AttendNNTests|AttendTokenizersTests|AttendModelsTests\.(BERTParityTests|EmbedThreadsTests|LlamaUnitTests|LoaderRobustnessTests|TinyGPTTests|TinyTranslatorTests)|AttendServerTests\.(ServingTests|TEIRouteTests|AttendRouteTests)'
tsan_filter='AttendTensorTests\.(GEMMTests|BF16GEMMTests|QuantGEMMTests|QuantInt8Tests|PackedLinearTests|RowOpsTests)|AttendNNTests\.(ConcurrencyTests|FusedAttentionTests|CausalKeyOffsetTests|MultiHeadAttentionTests)|AttendModelsTests\.(BERTParityTests|LlamaUnitTests|EmbedThreadsTests)|AttendServerTests\.(ServingTests)'
if [ "$kind" = address ]; then filter="${SANITIZE_FILTER:-$asan_filter}"; else filter="${SANITIZE_FILTER:-$tsan_filter}"; fi

supp="$root/Tests/sanitizers"
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0:detect_stack_use_after_return=0:allocator_may_return_null=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$supp/tsan.supp}"

if [ "$mode" != --run-only ]; then
    echo "== building the tests with -sanitize=$kind in $build"
    start=$(date +%s)
    swift build --build-tests --sanitize="$kind" --build-path "$build" 2>&1 | grep -E "error:|Compiling|Build complete" | tail -3
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "Tests/sanitize.sh: the $kind build failed" >&2; exit 1; }
    echo "== built in $(( $(date +%s) - start )) s"
fi
[ "$mode" = --build-only ] && exit 0

log="$build/sanitize-$kind.log"
echo "== swift test under $kind sanitizer: --filter '$filter'"
start=$(date +%s)
status=0
swift test --skip-build --sanitize="$kind" --build-path "$build" --filter "$filter" >"$log" 2>&1 || status=$?
grep -E "passed after|failed after|with [0-9]+ (issue|test)" "$log" | tail -3 || true
echo "== ran in $(( $(date +%s) - start )) s, exit status $status"
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|SUMMARY: (Address|Thread|Leak|UndefinedBehavior)Sanitizer" "$log"; then
    echo "Tests/sanitize.sh: $kind sanitizer reports (full log: $log):" >&2
    grep -E -A40 "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer" "$log" | head -120 >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "Tests/sanitize.sh: swift test failed under $kind sanitizer (exit $status); last lines of $log:" >&2
    tail -40 "$log" >&2
    exit 1
fi
echo "== $kind sanitizer: 0 reports"
