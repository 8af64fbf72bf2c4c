"""Fixtures: a fake acactl written into tmp_path, and an ExecSpawner wired to it.

The suite tests the *installed* package (`pip install target/wheels/acactl-*.whl`, as .ci/test
does), never python/acactl from the source tree: the wheel's layout is part of what is tested."""

import importlib.metadata
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

try:
    _dist = importlib.metadata.distribution("acactl")
except importlib.metadata.PackageNotFoundError:
    pytest.exit(
        "the acactl package is not installed in this Python: build and install the wheel first "
        "(maturin build --release && pip install target/wheels/acactl-*.whl), see .ci/test",
        returncode=4,
    )

import acactl.spawner  # noqa: E402
from jupyterhub.objects import Hub  # noqa: E402

from acactl.spawner import ExecSpawner  # noqa: E402

SITE = Path(_dist.locate_file("")).resolve()
if not Path(acactl.spawner.__file__).resolve().is_relative_to(SITE):
    pytest.exit(f"acactl.spawner was imported from {acactl.spawner.__file__}, not from the installed package in {SITE}")

TOKEN = "tok-3f9a1c77e2b54d0c9a8e"

# The fake acactl.  argv: fake_acactl.py SCENARIO [--config PATH] SUBCOMMAND ...
# SCENARIO is a JSON file: {"record": PATH, "<subcommand>": step, ...} where a step is
#   {"stderr": [str | {"sleep": s}], "sleep": s, "stdout": str | object,
#    "exit": int, "on_term": "exit" | "ignore", "term_delay": s}
# It appends one JSON line per invocation to the record file (argv, env, pid, stdin),
# and {"event": "term"|"cleaned", "pid": ...} lines when it gets SIGTERM.
FAKE_ACACTL = r'''
import json, os, signal, stat, sys, time

scenario = json.load(open(sys.argv[1]))
args = sys.argv[2:]
rest = list(args)
if rest[:1] == ["--config"]:
    rest = rest[2:]
step = scenario.get(rest[0], {}) if rest else {}

def record(obj):
    with open(scenario["record"], "a") as f:
        f.write(json.dumps(obj) + "\n")
        f.flush()
        os.fsync(f.fileno())

def on_term(signum, frame):
    record({"event": "term", "pid": os.getpid()})
    if step.get("on_term", "exit") == "ignore":
        return
    time.sleep(step.get("term_delay", 0))  # "deleting what was created"
    record({"event": "cleaned", "pid": os.getpid()})
    os._exit(143)

signal.signal(signal.SIGTERM, on_term)

# only after the handler is installed: the tests cancel as soon as they see this
mode = os.fstat(0).st_mode
stdin = {
    "target": os.readlink("/proc/self/fd/0"),
    "is_fifo": stat.S_ISFIFO(mode),
    "data": sys.stdin.read(),  # blocks forever if stdin is an open pipe
}
record({"argv": args, "env": dict(os.environ), "pid": os.getpid(), "stdin": stdin})

for item in step.get("stderr", []):
    if isinstance(item, dict):
        time.sleep(item["sleep"])
    else:
        sys.stderr.write(item + "\n")
        sys.stderr.flush()

deadline = time.monotonic() + step.get("sleep", 0)
while time.monotonic() < deadline:
    time.sleep(0.01)

out = step.get("stdout", "")
sys.stdout.write((out if isinstance(out, str) else json.dumps(out)) + "\n")
sys.stdout.flush()
sys.exit(step.get("exit", 0))
'''


class FakeAcactl:
    def __init__(self, tmp_path):
        self.script_path = tmp_path / "fake_acactl.py"
        self.script_path.write_text(FAKE_ACACTL)
        self.scenario_path = tmp_path / "scenario.json"
        self.record_path = tmp_path / "record.jsonl"
        self.command = [sys.executable, str(self.script_path), str(self.scenario_path)]
        self.script()

    def script(self, **steps):
        """Set what each subcommand does: script(start={...}, poll={...})."""
        self.scenario_path.write_text(
            json.dumps({"record": str(self.record_path), **steps})
        )

    def records(self):
        if not self.record_path.exists():
            return []
        return [json.loads(line) for line in self.record_path.read_text().splitlines()]

    def calls(self):
        return [r for r in self.records() if "argv" in r]

    def events(self):
        return [r["event"] for r in self.records() if "event" in r]


@pytest.fixture
def fake(tmp_path):
    return FakeAcactl(tmp_path)


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.DEBUG)
    return logging.getLogger("test.acactl_spawner")


@pytest.fixture
def make_spawner(fake, log):
    def make(**kwargs):
        kwargs.setdefault("command", fake.command)
        kwargs.setdefault("api_token", TOKEN)
        kwargs.setdefault("oauth_client_id", "jupyterhub-user-marcus")
        user = SimpleNamespace(name="marcus", escaped_name="marcus", url="/user/marcus/")
        return ExecSpawner(user=user, hub=Hub(base_url="/hub/"), log=log, **kwargs)

    return make


def pid_alive(pid):
    """True if pid is a live process (a zombie awaiting its reaper counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")
