#!/usr/bin/env bash
# Soak (issue 10; a benchmark, not a CI test): N start/poll/stop cycles (default 500) against the fake
# ARM with gc runs interleaved and 10% of ARM requests faulted (429 with and without Retry-After, 500,
# 503, 409 on writes, dropped connections, 1.2 s delays past a 1 s request timeout). Prints cycles,
# faults injected by kind, orphans left, live apps reported gone and token values found in any output
# or file. The test suite runs the same test with 30 cycles (tests/it/soak.rs).
# Usage: tests/bench/soak.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/../.."
ACACTL_SOAK_CYCLES="${1:-500}" exec cargo test --release --locked --test it soak -- --nocapture --test-threads 1
