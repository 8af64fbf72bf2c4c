#!/usr/bin/env bash
# Benchmark (not a test; takes about four minutes by design): `acactl gc` against the fake ARM with
# ARM's token buckets (reads 250 burst / 25 per s, writes and deletes 200 burst / 10 per s) and a few
# ms of latency, 5,000 apps of which 2,500 are orphans, and a fake hub with the 2,500 live servers.
# Prints gc's wall time against the limit the delete bucket allows, the ARM request counts (list pages,
# deletes, 429-caused retries, deletes repeated after success) and peak RSS.
# Usage: tests/bench/gc.sh [APPS] [ORPHANS] [LATENCY_MS]   (defaults 5000 2500 5)
set -euo pipefail
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
cd "$(dirname "$0")/../.."
cargo build --release --quiet --bin acactl -p acactl
cargo build --release --quiet -p fake-arm
exec python3 tests/bench/gc.py "${1:-5000}" "${2:-2500}" "${3:-5}"
