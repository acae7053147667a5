#!/usr/bin/env bash
# Smoke-fuzzes every target: builds the fuzz crate, replays the committed seeds of each
# target, then fuzzes each target for SECONDS seconds with the dictionary. Fails (non-zero
# exit) on any crash, and when cargo-fuzz is missing.
#
#   fuzz/run-smoke.sh SECONDS
#
# Each target fuzzes into a scratch corpus, fuzz/corpus/<target>, that starts as a fresh
# copy of fuzz/seeds/<target>: the committed seeds never change. Crash inputs land in
# fuzz/artifacts/<target>/. Both directories are ignored by git.
set -euo pipefail

seconds="${1:-}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 SECONDS (time to fuzz each target)" >&2
    exit 2
fi
cd "$(dirname "$0")"

# Nightly when rustup has it; otherwise the stable compiler, allowed nightly flags.
if cargo +nightly --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
if ! "${fuzz[@]}" --version >/dev/null 2>&1; then
    echo "run-smoke: cargo-fuzz is missing (cargo install cargo-fuzz)" >&2
    exit 1
fi

targets=(decode decode_stream encode session restore)
max_len() {
    case "$1" in
        decode | session | restore) echo 4096 ;;
        *) echo 65536 ;;
    esac
}

echo "==> build (${fuzz[*]})"
"${fuzz[@]}" build

for target in "${targets[@]}"; do
    rm -rf "corpus/$target"
    mkdir -p corpus
    if [ -z "$(ls -A "seeds/$target" 2>/dev/null)" ]; then
        echo "run-smoke: no seeds in fuzz/seeds/$target" >&2
        exit 1
    fi
    cp -R "seeds/$target" "corpus/$target"
    echo "==> $target: replay $(ls "seeds/$target" | wc -l) seeds"
    "${fuzz[@]}" run "$target" "corpus/$target" -- -runs=0 -rss_limit_mb=2048
done

for target in "${targets[@]}"; do
    echo "==> $target: fuzz ${seconds}s"
    # libFuzzer reports every new input; keep that in a log and show it only on failure.
    mkdir -p artifacts
    log="artifacts/$target-smoke.log"
    if ! "${fuzz[@]}" run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -dict=mqtt.dict -max_len="$(max_len "$target")" \
        -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 80 "$log"
        echo "run-smoke: $target failed; full output in fuzz/$log" >&2
        exit 1
    fi
    grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true
done
echo "==> smoke fuzzing passed"
