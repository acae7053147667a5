#!/usr/bin/env bash
# mqttwire on Cortex-M microcontrollers: build the library for thumbv* targets, build and run
# the firmware (firmware/) under QEMU, and measure its flash and RAM.
#
#   .ci/embedded.sh install                     apt-get what is missing (as root), then check
#   .ci/embedded.sh build TARGET [cargo args]   the library, e.g.
#                                               build thumbv7em-none-eabihf --no-default-features
#   .ci/embedded.sh firmware TARGET [cargo args]
#                                               build the firmware and run it under QEMU:
#                                               thumbv7m-none-eabi (Cortex-M3, lm3s6965evb) or
#                                               thumbv6m-none-eabi (Cortex-M0, microbit, with
#                                               --features portable-atomic for the owned API),
#                                               thumbv7em-none-eabihf (Cortex-M4F, mps2-an386)
#   .ci/embedded.sh size                        flash and RAM with and without the codec, at
#                                               opt-level "s" and "z", per target (and of
#                                               the size probe: firmware/src/probe.rs,
#                                               which must link no panic code)
#   .ci/embedded.sh ci                          what .ci/run checks: install, library builds,
#                                               the firmwares and the probe under QEMU (and
#                                               the probe's ELF free of panic code)
#   .ci/embedded.sh env                         the variables to export to run cargo yourself
#
# How: rustup cannot download targets on these machines, but Debian ships `rustc-web` (a Rust
# compiler that knows the thumbv* targets) and `rust-web-src` (its library source). With
# RUSTC_BOOTSTRAP=1, cargo's `-Zbuild-std` compiles `core` (and `alloc`) for the target from
# that source. gcc-arm-none-eabi links the firmware; qemu-system-arm runs it, and semihosting
# prints and gives QEMU the exit code. Debian's cargo and rustc are used through RUSTC/CARGO,
# with their own target dir (target/embedded) so that nothing mixes with host artefacts.
#
# EMBEDDED_STD is what -Zbuild-std compiles: `core` for library builds unless set (a crate that
# needs an allocator then fails to build: the no-alloc check), `core,alloc` for the firmware.
# Every missing tool is a failure, never a skip.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
RUSTC_DEB=/usr/bin/rustc
CARGO_DEB=/usr/bin/cargo
RUST_SRC=/usr/lib/rustlib/src/rust/library
PACKAGES=(rustc-web cargo-web rust-web-src gcc-arm-none-eabi binutils-arm-none-eabi
    libnewlib-arm-none-eabi qemu-system-arm)
TARGETS=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/embedded}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A firmware that hangs (a fault loop) fails instead of blocking CI.
QEMU_TIMEOUT="${QEMU_TIMEOUT:-60}"

die() {
    echo "embedded.sh: $*" >&2
    exit 1
}

# Fails unless every tool is there; says which one is not.
check() {
    local tool
    for tool in "$RUSTC_DEB" "$CARGO_DEB" arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm \
        arm-none-eabi-objdump qemu-system-arm; do
        command -v "$tool" >/dev/null 2>&1 || die "missing $tool: run '$0 install' (as root)"
    done
    [ -d "$RUST_SRC/core" ] && [ -d "$RUST_SRC/alloc" ] ||
        die "missing the Rust library source in $RUST_SRC: run '$0 install' (as root)"
    local targets
    targets=$("$RUSTC_DEB" --print target-list)
    for tool in "${TARGETS[@]}"; do
        grep -qx "$tool" <<<"$targets" || die "$RUSTC_DEB does not know the target $tool"
    done
    local machines
    machines=$(qemu-system-arm -machine help)
    for tool in lm3s6965evb microbit; do
        grep -q "^$tool " <<<"$machines" || die "qemu-system-arm has no machine $tool"
    done
}

install() {
    local missing=() package
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "embedded.sh: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq </dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
    fi
    check
    "$RUSTC_DEB" --version
}

# Every cargo below is Debian's, with Debian's compiler; RUSTC_BOOTSTRAP=1 allows -Zbuild-std.
export RUSTC=$RUSTC_DEB RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1

# Runs Debian's cargo with the target's library built from source; $1 is what to build of it.
deb_cargo() {
    local std=$1
    shift
    "$CARGO_DEB" "$@" -Zbuild-std="$std"
}

build() {
    [ $# -ge 1 ] || die "usage: $0 build TARGET [cargo args]"
    local target=$1
    shift
    check
    (cd "$root" && deb_cargo "${EMBEDDED_STD:-core}" build --lib --target "$target" "$@")
}

firmware() {
    [ $# -ge 1 ] || die "usage: $0 firmware TARGET [cargo args]"
    local target=$1
    shift
    check
    cd "$root/firmware"
    deb_cargo "${EMBEDDED_STD:-core,alloc}" build --release --target "$target" "$@"
    # Built above: `cargo run` only starts the runner of firmware/.cargo/config.toml (QEMU),
    # whose exit code is the firmware's verdict.
    timeout "$QEMU_TIMEOUT" "$CARGO_DEB" run --quiet -Zbuild-std="${EMBEDDED_STD:-core,alloc}" \
        --release --target "$target" "$@" ||
        die "the firmware for $target failed (exit code $?)"
}

# Fails unless the size probe just built for $1 links no panic code: what it uses of the codec
# (every packet decoded, PUBLISH and the acknowledgements encoded) cannot panic, and core's
# panic machinery, which brings in core::fmt, costs it no flash. On failure, names the panic
# symbols and the calls from mqttwire's or the firmware's code into core functions that can
# reach them (where the panic path leaves our code).
no_panic() {
    local target=$1 elf symbols callers
    elf="$CARGO_TARGET_DIR/$target/release/mqttwire-firmware"
    symbols=$(arm-none-eabi-nm -C "$elf" | grep -i panic || true)
    [ -z "$symbols" ] && return 0
    # Calls and tail calls between functions; to a fixed point, every function that calls
    # one whose name says panic, or one that does so itself; then the calls that cross from
    # our code (mqttwire, mqttwire_firmware) into such a function of core.
    callers=$(arm-none-eabi-objdump -d -C "$elf" | awk '
        /^[0-9a-f]+ <.*>:$/ { fn = substr($0, index($0, "<") + 1); sub(/>:$/, "", fn); next }
        /\t(bl|blx|b|b\.w|b\.n)\t/ && /<.*>$/ {
            callee = substr($0, index($0, "<") + 1)
            sub(/>$/, "", callee)
            sub(/\+0x[0-9a-f]+$/, "", callee)
            if (callee != fn) edge[fn SUBSEP callee] = 1
        }
        END {
            for (e in edge) {
                split(e, p, SUBSEP)
                if (tolower(p[2]) ~ /panic/) bad[p[2]] = 1
            }
            do {
                changed = 0
                for (e in edge) {
                    split(e, p, SUBSEP)
                    if ((p[2] in bad) && !(p[1] in bad)) { bad[p[1]] = 1; changed = 1 }
                }
            } while (changed)
            for (e in edge) {
                split(e, p, SUBSEP)
                if ((p[2] in bad) && p[1] ~ /mqttwire/ && p[2] !~ /mqttwire/)
                    print "  " p[1] " -> " p[2]
            }
        }' | sort)
    die "the size probe for $target links panic code ($elf).
Panic symbols:
$symbols
Calls from our code into core on a path to them (caller -> callee):
$callers"
}

# Prints one row of the size table for the firmware just built.
size_row() {
    local target=$1 codec=$2 opt=$3 text data bss
    read -r text data bss _ < <(arm-none-eabi-size -B \
        "$CARGO_TARGET_DIR/$target/release/mqttwire-firmware" | tail -n 1)
    printf '| %-21s | %-8s | %-3s | %7d | %5d | %6d | %7d | %6d |\n' \
        "$target" "$codec" "$opt" "$text" "$data" "$bss" $((text + data)) $((data + bss))
}

size() {
    check
    cd "$root/firmware"
    local rows=() target opt features
    for target in "${TARGETS[@]}"; do
        features=owned
        [ "$target" = thumbv6m-none-eabi ] && features=owned,portable-atomic
        for opt in s z; do
            export CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt
            deb_cargo core,alloc build --quiet --release --target "$target" --no-default-features
            rows+=("$(size_row "$target" none "$opt")")
            deb_cargo core,alloc build --quiet --release --target "$target" \
                --no-default-features --features "$features"
            rows+=("$(size_row "$target" owned "$opt")")
            deb_cargo core build --quiet --release --target "$target" \
                --no-default-features --features borrowed
            rows+=("$(size_row "$target" borrowed "$opt")")
            deb_cargo core build --quiet --release --target "$target" \
                --no-default-features --features size-probe
            no_panic "$target"
            rows+=("$(size_row "$target" probe "$opt")")
        done
    done
    echo
    local heap
    heap=$(($(grep -o 'HEAP_SIZE: usize = [^;]*' src/main.rs | sed 's/.*= //')))
    echo "Firmware size (bytes; flash = text + data, RAM = data + bss, stack not included;"
    echo "the owned codec's RAM includes its $heap-byte heap; probe: every packet decoded,"
    echo "PUBLISH and acknowledgements encoded, borrowed core, no heap):"
    echo
    echo "| target                | codec    | opt |    text |  data |    bss |   flash |    RAM |"
    echo "| --------------------- | -------- | --- | ------: | ----: | -----: | ------: | -----: |"
    printf '%s\n' "${rows[@]}"
}

ci() {
    install
    # The core alone (no allocator, no atomics) for a Cortex-M0 and a Cortex-M4F: a library
    # that needed `alloc` would not build here.
    EMBEDDED_STD=core build thumbv6m-none-eabi --no-default-features
    EMBEDDED_STD=core build thumbv7em-none-eabihf --no-default-features
    # The owned API on both. On the M0 it needs atomics through portable-atomic, whose way
    # of being atomic only the final binary may choose: here, for the library alone, the
    # single-core assumption (the M0 firmware below takes the other way, critical-section).
    EMBEDDED_STD=core,alloc build thumbv7em-none-eabihf --no-default-features --features alloc
    EMBEDDED_STD=core,alloc RUSTFLAGS="--cfg portable_atomic_unsafe_assume_single_core" \
        build thumbv6m-none-eabi --no-default-features --features portable-atomic
    # The codec checks on emulated hardware, Cortex-M3 and Cortex-M0: the allocation-free
    # core with `core` alone, then the owned API on a heap (portable-atomic on the M0).
    (EMBEDDED_STD=core firmware thumbv7m-none-eabi --no-default-features --features borrowed)
    (EMBEDDED_STD=core firmware thumbv6m-none-eabi --no-default-features --features borrowed)
    # The size probe (every packet decoded, PUBLISH and acknowledgements encoded), which
    # `size` measures, checks its results too, and links no panic code.
    (EMBEDDED_STD=core firmware thumbv7m-none-eabi --no-default-features --features size-probe)
    no_panic thumbv7m-none-eabi
    (EMBEDDED_STD=core firmware thumbv6m-none-eabi --no-default-features --features size-probe)
    no_panic thumbv6m-none-eabi
    firmware thumbv7m-none-eabi
    (firmware thumbv6m-none-eabi --features portable-atomic)
}

case "${1:-}" in
    install) install ;;
    build) shift; build "$@" ;;
    firmware) shift; firmware "$@" ;;
    size) size ;;
    ci) ci ;;
    env) echo "export RUSTC=$RUSTC RUSTDOC=$RUSTDOC RUSTC_BOOTSTRAP=1 CARGO=$CARGO_DEB" ;;
    *) sed -n '2,30p' "$0"; exit 2 ;;
esac
