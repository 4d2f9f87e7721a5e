#!/usr/bin/env bash
# Tests/neon/run.sh: builds Sources/AttendKernelsC and Tests/neon/neon_kernels.c for aarch64 (Linux, static) with the
# toolchain's clang and runs them under qemu-aarch64: once on a CPU model with the dot product (`-cpu max`: every
# NEON kernel against its references, the int8 `sdot` set bit for bit against the portable one) and once on one
# without it (`-cpu cortex-a53`: the int8 picker must fall back to the portable set, no illegal instruction), each
# at -O0 and -O2. On an Arm machine it runs the binary directly (`--native`: the int8 checks follow what the CPU has).
#
# Needs (Debian): qemu-user-static libc6-dev-arm64-cross libgcc-12-dev-arm64-cross (the CI installs them).
# Usage: Tests/neon/run.sh   (exit 0 when every check passed; NEON_OPT_LEVELS=-O2 builds one level)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${NEON_BUILD_DIR:-$root/.build-neon}"
mkdir -p "$out"
arch="$(uname -m)"
if [ "$arch" = aarch64 ] || [ "$arch" = arm64 ]; then
    cc=(clang); link=(); run=(); run_nodot=(); native=(--native)
else
    gcc_dir="$(ls -d /usr/lib/gcc-cross/aarch64-linux-gnu/* 2>/dev/null | sort -V | tail -1 || true)"
    if [ -z "$gcc_dir" ] || ! command -v qemu-aarch64-static >/dev/null || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
        echo "Tests/neon/run.sh: needs qemu-user-static, libc6-dev-arm64-cross and libgcc-12-dev-arm64-cross" \
             "(apt-get install qemu-user-static libc6-dev-arm64-cross libgcc-12-dev-arm64-cross)" >&2
        exit 2
    fi
    cc=(clang --target=aarch64-linux-gnu --sysroot=/usr/aarch64-linux-gnu)
    link=(-fuse-ld=lld -B"$gcc_dir" -L"$gcc_dir" -static)
    run=(qemu-aarch64-static -cpu max); run_nodot=(qemu-aarch64-static -cpu cortex-a53); native=()
fi
status=0
for opt in ${NEON_OPT_LEVELS:--O2 -O0}; do
    bin="$out/neon_kernels$opt"
    objs=()
    for f in "$root"/Sources/AttendKernelsC/*.c; do
        o="$out/$(basename "${f%.c}")$opt.o"
        "${cc[@]}" $opt -g0 -std=gnu11 -Wall -Wno-unused-function -I"$root/Sources/AttendKernelsC/include" -c "$f" -o "$o"
        objs+=("$o")
    done
    "${cc[@]}" $opt -std=gnu11 -Wall -I"$root/Sources/AttendKernelsC/include" "$root/Tests/neon/neon_kernels.c" \
        "${objs[@]}" ${link[@]+"${link[@]}"} -lm -lpthread -o "$bin"
    echo "== $opt, ${native[*]:-CPU with the dot product}"
    ${run[@]+"${run[@]}"} "$bin" ${native[@]+"${native[@]}"} || status=1
    if [ ${#run_nodot[@]} -gt 0 ]; then
        echo "== $opt, CPU without the dot product (cortex-a53)"
        "${run_nodot[@]}" "$bin" --expect-no-dotprod || status=1
    fi
done
exit $status
