#!/usr/bin/env bash
# Benchmark (not a test): issue 9's fleet scenarios A-D plus issue 10's stop latency, against the
# fake with ARM's throttling buckets and wall-clock provisioning, each scenario once with
# `fleet.enabled: false` and once with the fleet view, side by side.
# Usage: tests/bench/fleet.sh [scale]   (scale 1.0 = the sizes below; see fleet.py for the knobs)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet --bin acactl -p acactl
cargo build --release --quiet -p fake-arm
ulimit -n 65536 2>/dev/null || true
exec python3 tests/bench/fleet.py "${1:-1.0}"
