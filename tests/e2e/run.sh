#!/usr/bin/env bash
# End-to-end test of acactl with a real JupyterHub, configurable-http-proxy and JupyterLab,
# the project's contrib/ spawner + hub config, the fake ARM (launch mode) and an ACA-style ingress.
# See tests/e2e/README.md.
#
#   tests/e2e/run.sh [--only SCENARIO[,SCENARIO...]] [--keep]
#
# Environment:
#   E2E_CACHE    dependency cache root (default ~/.cache/acactl-e2e)
#   E2E_BUDGET   seconds the scenarios may take in total (default 480); exceeded = failure
#   E2E_NO_BUILD=1  use the existing target/release binaries (no cargo build)
#   E2E_WHEEL    the acactl wheel to install into the hub's venv (default: built here with maturin)
#
# Never skips: a prerequisite that cannot be installed is a failure (exit 2).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
t0=$(date +%s)

die() {
    echo "e2e: FATAL: $*" >&2
    echo "0 passed, 1 failed"
    exit 2
}

need() { command -v "$1" >/dev/null 2>&1 || die "required command '$1' not found ($2)"; }
need python3 "Python >= 3.10 with the venv module"
need npm "Node.js >= 20 with npm"
need node "Node.js >= 20"
need cargo "the Rust toolchain"
need unshare "util-linux"
need ip "iproute2"
need mount "util-linux"
chromium=$(command -v chromium-headless-shell || command -v chromium || true)
[ -n "$chromium" ] || die "no headless Chromium (apt-get install chromium-headless-shell; .ci/test installs it)"
pyver=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# requirements.lock is resolved for this Python (environment markers); another one needs a new lock (README.md)
[ "$pyver" = 3.11 ] || die "python3 is $pyver; tests/e2e/requirements.lock is resolved for Python 3.11"
[ "$(id -u)" = 0 ] || die "must run as root (unshare -m -n, ports 80/443)"

# ---------------------------------------------------------------- pinned dependencies
# "acactl-wheel": this venv gets the acactl wheel installed into it (below), so it is not shared with
# checkouts whose e2e does not
hash=$( (cat "$here/requirements.lock" "$here/package-lock.json"; echo acactl-wheel) | sha256sum | cut -c1-64)
cache_root="${E2E_CACHE:-$HOME/.cache/acactl-e2e}"
cache="$cache_root/$hash"
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9 # concurrent runs: one installs, the others wait and reuse it
if [ ! -f "$cache/.installed" ]; then
    echo "e2e: installing pinned dependencies into $cache" >&2
    ti=$(date +%s)
    rm -rf "$cache"
    mkdir -p "$cache"
    python3 -m venv "$cache/venv" || die "python3 -m venv failed"
    "$cache/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --require-hashes --no-deps --only-binary=:all: -r "$here/requirements.lock" \
        || die "pip install of tests/e2e/requirements.lock failed"
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error) \
        || die "npm ci of tests/e2e/package-lock.json failed"
    "$cache/node_modules/.bin/configurable-http-proxy" --version >/dev/null \
        || die "configurable-http-proxy does not run"
    "$cache/venv/bin/python" -c "import jupyterhub, jupyter_server, jupyterlab, ipykernel, batchspawner, websockets" \
        || die "the venv is incomplete"
    date -u +%FT%TZ >"$cache/.installed"
    echo "e2e: dependencies installed in $(($(date +%s) - ti))s" >&2
fi
venv="$cache/venv"
chp="$cache/node_modules/.bin/configurable-http-proxy"

# ---------------------------------------------------------------- binaries and the acactl wheel
if [ "${E2E_NO_BUILD:-}" != 1 ]; then
    tb=$(date +%s)
    (cd "$repo" && cargo build --release --locked --quiet --bin acactl && cargo build --release --locked --quiet -p fake-arm) \
        || die "cargo build --release failed"
    echo "e2e: release build took $(($(date +%s) - tb))s" >&2
fi
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
[ -x "$target_dir/release/acactl" ] || die "no $target_dir/release/acactl"
[ -x "$target_dir/release/fake-arm" ] || die "no $target_dir/release/fake-arm"
wheel="${E2E_WHEEL:-}"
if [ -z "$wheel" ]; then
    # maturin pinned in pyproject.toml, from PyPI, in its own cached venv; reuses the release build
    mv=$(sed -n 's/^requires = \["maturin==\([0-9.]*\)"\]$/\1/p' "$repo/pyproject.toml")
    [ -n "$mv" ] || die "no pinned maturin in pyproject.toml"
    mvenv="$cache_root/maturin-$mv"
    if [ ! -f "$mvenv/.installed" ]; then
        rm -rf "$mvenv" && python3 -m venv "$mvenv" \
            && "$mvenv/bin/pip" install --quiet --disable-pip-version-check "maturin==$mv" \
            && touch "$mvenv/.installed" || die "pip install maturin==$mv failed"
    fi
    out="$(mktemp -d /tmp/acactl-e2e-wheel.XXXXXX)"
    (cd "$repo" && "$mvenv/bin/maturin" build --release --locked --quiet --out "$out") || die "maturin build failed"
    wheel=$(ls "$out"/acactl-*.whl)
    trap 'rm -rf "$out"' EXIT
fi
[ -f "$wheel" ] || die "no wheel at $wheel"
# the hub runs from this venv: `pip install acactl` as the README's Dockerfile does (the pinned
# dependencies are already there; --no-deps keeps the install offline and the lock authoritative)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "$wheel" \
    || die "pip install $wheel failed"
flock -u 9
[ -x "$venv/bin/acactl" ] || die "the wheel installed no $venv/bin/acactl"

# ---------------------------------------------------------------- scenarios, in a private mount+net namespace
budget="${E2E_BUDGET:-480}"
find /tmp -maxdepth 1 -name 'acactl-e2e.*' -type d -mtime +1 -exec rm -rf {} + 2>/dev/null || true  # old runs' logs
work="$(mktemp -d /tmp/acactl-e2e.XXXXXX)"
echo "e2e: work dir $work (logs of every process are kept there)" >&2
set +e
# e2e.py enforces the budget itself (scenarios not started in time fail); this is the hard stop.
timeout --kill-after=20 "$((budget + 60))" unshare --mount --net --fork --kill-child=SIGTERM -- \
    "$venv/bin/python" "$here/e2e.py" \
    --work "$work" --venv "$venv" --chp "$chp" \
    --acactl "$target_dir/release/acactl" --fake-arm "$target_dir/release/fake-arm" \
    --repo "$repo" --budget "$budget" "$@"
rc=$?
set -e
if [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "e2e: FAILED: the scenarios exceeded the budget of ${budget}s (logs: $work)" >&2
    echo "0 passed, 1 failed"
    rc=1
fi
echo "e2e: total wall time $(($(date +%s) - t0))s" >&2
exit $rc
