#!/usr/bin/env bash
# Runs the comparison: the wall-time table, then (when valgrind is installed) the
# instructions-per-packet table from callgrind, then the targets, as Markdown on stdout
# and in target/results.md. Progress goes to stderr. Arguments go to the program
# (e.g. --quick, --filter publish64, --no-callgrind, --callgrind-only).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
mkdir -p target
start=$(date +%s)
./target/release/mqttwire-compare "$@" | tee target/results.md
echo "run time: $(( $(date +%s) - start )) s" >&2
