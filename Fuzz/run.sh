#!/usr/bin/env bash
# Coverage-guided fuzzing of Attend's parsers with libFuzzer and AddressSanitizer.
#
#   Fuzz/run.sh --list                 the targets, one a line
#   Fuzz/run.sh --build [TARGET...]    build the fuzz binaries only (all targets by default)
#   Fuzz/run.sh TARGET SECONDS         fuzz TARGET for SECONDS on its seeds (Fuzz/corpus/TARGET, read-only) plus the
#                                      regression inputs; exits non-zero on any crash, leak, timeout (> 1 s per
#                                      input) or out-of-memory (> 2048 MB), keeping the reproducer in Fuzz/crashes/TARGET/
#   Fuzz/run.sh --replay [TARGET...]   run every committed input (seeds and Fuzz/regressions/TARGET) once; non-zero if any crashes
#
# The libraries are built in their own scratch folder (.build-fuzz) with -sanitize=fuzzer,address, so the normal
# `swift build` is unchanged; each target is one Swift file compiled with swiftc -sanitize=fuzzer,address
# -parse-as-library and linked against those objects, so libFuzzer's main is the one that runs.
# Environment: FUZZ_JOBS (default 1), FUZZ_NICE (default 10), FUZZ_MAX_LEN (default 4096 bytes; 65536 for
# model_config and tokenizer_json), FUZZ_WORK (where the growing corpus lives; default .build-fuzz/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
scratch="$root/.build-fuzz"
bin="$scratch/fuzz-bin"
TARGETS=(json safetensors gguf tokenizer_json tokenize_wordpiece tokenize_bpe model_config attention_problem server_request embed_lines)

list() { printf '%s\n' "${TARGETS[@]}"; }

known() {
    local t
    for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done
    echo "Fuzz/run.sh: unknown target '$1' (known: ${TARGETS[*]})" >&2
    exit 2
}

build_libraries() {
    echo "== building the libraries with -sanitize=fuzzer,address in $scratch" >&2
    nice -n "${FUZZ_NICE:-10}" swift build --scratch-path "$scratch" --target AttendServer \
        -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address 2>&1 | grep -E "error|warning: unre|Compiling|Build" | tail -5 >&2
}

build_target() {
    local t="$1" debug
    debug="$(ls -d "$scratch"/*-linux-gnu/debug "$scratch"/*/debug 2>/dev/null | head -1)"
    mkdir -p "$bin"
    local objects=() flags=() d
    for d in "$debug"/*.build; do
        case "$(basename "$d")" in attend.build|*Tests.build|AttendTestSupport.build|*-tool.build|*Plugin*) continue ;; esac
        while IFS= read -r o; do objects+=("$o"); done < <(find "$d" -name '*.o')
        [ -f "$d/module.modulemap" ] && flags+=(-Xcc "-fmodule-map-file=$d/module.modulemap")
    done
    for d in "$root/Sources/AttendKernelsC/include" "$scratch"/checkouts/*/Sources/*/include; do
        [ -d "$d" ] && flags+=(-Xcc "-I$d")
    done
    nice -n "${FUZZ_NICE:-10}" swiftc -sanitize=fuzzer,address -parse-as-library -g -Onone \
        -I "$debug/Modules" "${flags[@]}" \
        "$root/Fuzz/targets/$t.swift" "$root/Fuzz/targets/FuzzSupport.swift" "${objects[@]}" \
        -lstdc++ -o "$bin/$t"
}

build() {
    local want=("$@")
    [ ${#want[@]} -eq 0 ] && want=("${TARGETS[@]}")
    build_libraries
    local t
    for t in "${want[@]}"; do
        known "$t"
        echo "== linking $t" >&2
        build_target "$t"
    done
}

max_len() {
    case "$1" in model_config|tokenizer_json) echo "${FUZZ_MAX_LEN:-65536}" ;; *) echo "${FUZZ_MAX_LEN:-4096}" ;; esac
}

options() {
    local t="$1"
    # model_config loads the embedded demo models (2 MB of weights) for every valid config, and server_request and
    # embed_lines run a (tiny) model for every input they accept: 1 s is too tight for a debug ASan build on a shared
    # machine, so they get 5 s; every other target 1 s.
    # server_request gets 10 s: /v1/explain answers with every intermediate of one head (3·T² numbers), and for a
    # text of 350 punctuation characters (352 tokens, 3.7 MB of JSON) that takes 0.3 s in a release build but
    # 3 CPU s in this debug ASan build, 5–9 s of wall time on a loaded machine.
    local timeout=1
    case "$t" in model_config|embed_lines) timeout=5 ;; server_request) timeout=10 ;; esac
    local o=(-timeout="$timeout" -rss_limit_mb=2048 -malloc_limit_mb=2048 -detect_leaks=1 -print_final_stats=1)
    [ -f "$root/Fuzz/dict/$t.dict" ] && o+=("-dict=$root/Fuzz/dict/$t.dict")
    printf '%s\n' "${o[@]}"
}

fuzz() {
    local t="$1" seconds="$2"
    known "$t"
    [ -x "$bin/$t" ] || build "$t"
    local work="${FUZZ_WORK:-$scratch/corpus}/$t" crashes="$root/Fuzz/crashes/$t"
    mkdir -p "$work" "$crashes" "$root/Fuzz/corpus/$t" "$root/Fuzz/regressions/$t"
    local opts
    mapfile -t opts < <(options "$t")
    # -jobs makes libFuzzer write each job's output to fuzz-N.log in the current folder: only when asked for.
    local jobs=()
    [ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
    echo "== fuzzing $t for ${seconds}s (jobs ${FUZZ_JOBS:-1})" >&2
    local status=0
    # The first corpus directory is where new inputs go; the committed seeds and regressions are read only.
    ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" LSAN_OPTIONS="suppressions=$root/Fuzz/lsan.supp" nice -n "${FUZZ_NICE:-10}" "$bin/$t" "${opts[@]}" \
        -max_len="$(max_len "$t")" -max_total_time="$seconds" -artifact_prefix="$crashes/" \
        "${jobs[@]}" "$work" "$root/Fuzz/corpus/$t" "$root/Fuzz/regressions/$t" || status=$?
    if [ "$status" -ne 0 ] || [ -n "$(ls -A "$crashes" 2>/dev/null)" ]; then
        echo "Fuzz/run.sh: $t failed (status $status); reproducers in Fuzz/crashes/$t:" >&2
        ls -l "$crashes" >&2 || true
        return 1
    fi
    rmdir "$crashes" 2>/dev/null || true
}

replay() {
    local want=("$@") t failed=0
    [ ${#want[@]} -eq 0 ] && want=("${TARGETS[@]}")
    for t in "${want[@]}"; do
        known "$t"
        [ -x "$bin/$t" ] || build "$t"
        local inputs=()
        for f in "$root/Fuzz/corpus/$t"/* "$root/Fuzz/regressions/$t"/*; do [ -f "$f" ] && inputs+=("$f"); done
        [ ${#inputs[@]} -eq 0 ] && continue
        local opts
        mapfile -t opts < <(options "$t")
        echo "== replaying ${#inputs[@]} inputs of $t" >&2
        if ! ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" LSAN_OPTIONS="suppressions=$root/Fuzz/lsan.supp" nice -n "${FUZZ_NICE:-10}" "$bin/$t" "${opts[@]}" \
            -runs=1 "${inputs[@]}" >"$scratch/replay-$t.log" 2>&1; then
            echo "Fuzz/run.sh: replaying $t failed; see $scratch/replay-$t.log" >&2
            tail -30 "$scratch/replay-$t.log" >&2
            failed=1
        fi
    done
    return $failed
}

case "${1:-}" in
    --list) list ;;
    --build) shift; build "$@" ;;
    --replay) shift; replay "$@" ;;
    ""|-h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' ;;
    *)
        [ $# -eq 2 ] || { echo "usage: Fuzz/run.sh TARGET SECONDS (or --list, --build, --replay)" >&2; exit 2; }
        fuzz "$1" "$2" ;;
esac
