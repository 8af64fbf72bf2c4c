#!/usr/bin/env bash
# Benchmark (not a test): fresh-process `acactl poll` against the fake ARM on loopback, side by side
# with curl doing the same single GET with the same token, plus ARM/token request counts of start,
# poll and stop. Usage: tests/bench/poll.sh [RUNS]   (default 50)
set -euo pipefail
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
cd "$(dirname "$0")/../.."
cargo build --release --quiet --bin acactl -p acactl
cargo build --release --quiet -p fake-arm
exec python3 tests/bench/poll.py "${1:-50}"
